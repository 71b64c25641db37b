#!/usr/bin/env node
// node bench/hash-routes.mjs [--quick] [--json]
// The fast_vs_memread goal (bench/goals.mjs) on every CRC32C route this CPU has, side by side in one
// run: each kernel is made the process-wide one (setHashBackends), the engine's fast pass runs over
// the same resident workload mapping, and the ratio is taken against the memory read-sum measured in
// the same run. So a CPU that dispatches to another kernel (an AVX2 + VPCLMULQDQ CPU without AVX-512
// takes `avx2`; one without VPCLMULQDQ `sse42`) has its route measured here too. Needs the bench
// hooks addon (`node scripts/test-native.js`, which `npm run bench` runs).
import { machine, native, MiB, since } from './common.mjs';
import { createWorkloadFile, mapWorkload } from './workload.mjs';
import { enginePass, memReadSum } from './throughput.mjs';
import { GOALS, fmt, met, table } from './goals.mjs';

const args = new Set(process.argv.slice(2));
for (const a of args) if (!['--quick', '--json'].includes(a)) {
  console.error(`usage: node bench/hash-routes.mjs [--quick] [--json]  (unknown argument ${a})`);
  process.exit(2);
}
const quick = args.has('--quick');
const P = quick ? { workloadMiB: 16, reps: 2 } : { workloadMiB: 250, reps: 5 };
const t0 = process.hrtime.bigint();
const log = (msg) => process.stderr.write(`[hash-routes ${since(t0).toFixed(1)}s] ${msg}\n`);

const m = machine();
const dispatched = native.hashBackends();
log(`${m.cpu}, ${m.cores} cores, ${m.kernel}, node ${m.node}; dispatched CRC32C ${dispatched.crc32cActive}`);
const bytes = P.workloadMiB * MiB;
const file = createWorkloadFile(bytes);
const workload = mapWorkload(file, bytes);
const goal = GOALS.find((g) => g.key === 'fast_vs_memread');

const rows = [];
try {
  for (const name of dispatched.crc32c) {
    native.setHashBackends({ crc32c: name });
    log(`CRC32C ${name}: engine fast pass, then the memory read-sum`);
    const pass = await enginePass(workload, file, 'fast', P.reps);
    const mr = memReadSum([workload], P.reps);
    const ratio = pass.gbps / mr.gbps;
    rows.push({ backend: name, dispatched: name === dispatched.crc32cActive, passGbps: pass.gbps, memreadGbps: mr.gbps, ratio, met: met(goal, ratio) });
  }
} finally {
  native.setHashBackends({ crc32c: dispatched.crc32cActive });
}

console.log(`fast_vs_memread per CRC32C route (${P.workloadMiB} MiB resident workload, best of ${P.reps}; goal ${goal.op} ${goal.target})`);
console.log(
  table(
    ['CRC32C route', 'engine fast pass GB/s', 'memory read-sum GB/s', 'fast_vs_memread', 'goal'],
    rows.map((r) => [`${r.backend}${r.dispatched ? ' (dispatched here)' : ''}`, fmt(r.passGbps, 2), fmt(r.memreadGbps, 2), fmt(r.ratio, 2), r.met ? 'met' : 'NOT MET']),
  ),
);
if (args.has('--json')) console.log(JSON.stringify({ machine: m, workloadMiB: P.workloadMiB, rows }));
