// Per-thread CPU of a default Guard with the bench workload: run time from /proc/self/task/*/schedstat
// (nanoseconds; stat's utime+stime count 10 ms ticks, too coarse for 0.1 % of a core) over a window
// after a settle. Usage: node bench/threads-cpu.mjs [seconds=30] [settle=5]
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
      const comm = fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      const ns = Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      m.set(tid, { comm, ns });
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
const per = {};
let total = 0;
for (const [tid, v] of b) {
  const d = v.ns - (a.get(tid)?.ns ?? 0);
  total += d;
  const k = v.comm === 'node' ? (tid === String(process.pid) ? 'js-main' : 'node-other') : v.comm;
  per[k] = (per[k] ?? 0) + d;
}
const pct = (d) => +((d / 1e9 / wall) * 100).toFixed(3);
const out = { total: pct(total) };
for (const [k, v] of Object.entries(per)) if (v) out[k] = pct(v);
console.log(JSON.stringify(out));
guard.stop();
process.exit(0);
