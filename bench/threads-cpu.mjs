// Per-thread CPU of a default Guard with the bench workload: utime+stime from /proc/self/task/*/stat
// over a window after a settle. Usage: node bench/threads-cpu.mjs [seconds=30] [settle=5]
import * as fs from 'node:fs';
import { createWorkloadFile, mapWorkload } from './workload.mjs';
import { startDefaultGuard } from './guard.mjs';
import { sleep, MiB } from './common.mjs';

const secs = Number(process.argv[2] ?? 30);
const settle = Number(process.argv[3] ?? 5);
const bytes = 250 * MiB;
mapWorkload(createWorkloadFile(bytes), bytes);
function snap() {
  const m = new Map();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const s = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      m.set(tid, { comm, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // the thread exited while being read
    }
  }
  return m;
}
const { guard } = await startDefaultGuard();
await sleep(settle * 1000);
const a = snap();
const t0 = process.hrtime.bigint();
await sleep(secs * 1000);
const b = snap();
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const hz = 100;
const per = {};
let total = 0;
for (const [tid, v] of b) {
  const d = v.ticks - (a.get(tid)?.ticks ?? 0);
  total += d;
  const k = v.comm === 'node' ? (tid === String(process.pid) ? 'js-main' : 'node-other') : v.comm;
  per[k] = (per[k] ?? 0) + d;
}
const pct = (d) => +((d / hz / wall) * 100).toFixed(3);
const out = { total: pct(total) };
for (const [k, v] of Object.entries(per)) if (v) out[k] = pct(v);
console.log(JSON.stringify(out));
guard.stop();
process.exit(0);
