// Per-thread CPU of a default Guard with the bench workload, beside the same process idle before the
// Guard: run time from /proc/self/task/*/schedstat over a window after a settle.
// Usage: node bench/threads-cpu.mjs [seconds=30] [settle=5]
import { createWorkloadFile, mapWorkload } from './workload.mjs';
import { startDefaultGuard, cpuShare, guardAdds } from './guard.mjs';
import { sleep, MiB } from './common.mjs';

const secs = Number(process.argv[2] ?? 30);
const settle = Number(process.argv[3] ?? 5);
const bytes = 250 * MiB;
mapWorkload(createWorkloadFile(bytes), bytes);
await sleep(settle * 1000);
const idle = await cpuShare(secs);
const { guard } = await startDefaultGuard();
await sleep(settle * 1000);
const withGuard = await cpuShare(secs);
const pct = (v) => +v.toFixed(3);
console.log(JSON.stringify({ added: pct(guardAdds(withGuard, idle).percent), total: pct(withGuard.percent), idle: pct(idle.percent), threads: withGuard.threads, idleThreads: idle.threads }));
guard.stop();
process.exit(0);
