#!/usr/bin/env node
// npm run bench [-- --quick] [-- --json]
// One run, one machine, the same bytes for every row: prints a table of throughputs and the goal
// ratios of bench/goals.mjs (docs/bench.md), and with --json a JSON object as the last line of stdout.
// --quick: tiny workload and short windows (seconds), only to check that the bench runs.
import { machine, native, MiB, since } from './common.mjs';
import { createWorkloadFile, mapWorkload, ownCodeRegions, bytesOf } from './workload.mjs';
import { unsafeSweep, memReadSum, tuneBatch, enginePass } from './throughput.mjs';
import { hashOnlyRows, hashOnlyTableRows, goalBackends, goalBackendRows } from './hash-rows.mjs';
import { b3sum, sha256, nobleBlake3, crcCrc32 } from './references.mjs';
import { eventLoopDelay } from './eventloop.mjs';
import { residentOnlyMemory } from './memory.mjs';
import { startDefaultGuard, cpuShare, guardAdds, tamperLatency } from './guard.mjs';
import { GOALS, met, fmt, table } from './goals.mjs';
import { fastLoopLatencies } from './fastloops.mjs';
import { firstCheckVsB3sum } from './first-check.mjs';
import { treeBench } from './tree.mjs';
import { debuggerBench } from './debuggers.mjs';
import { manifestBench, manifestRows } from './manifest.mjs';

/** "procguard-watch 0.21, procguard-scan 0.13, ..." from cpuShare().threads, largest first. */
const threadList = (t) =>
  Object.entries(t)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${fmt(v, 2)}`)
    .join(', ');

const args = new Set(process.argv.slice(2));
for (const a of args) if (!['--quick', '--json'].includes(a)) {
  console.error(`usage: node bench/run.mjs [--quick] [--json]  (unknown argument ${a})`);
  process.exit(2);
}
const quick = args.has('--quick');
const P = quick
  ? { workloadMiB: 16, reps: 2, batches: [16, 64], backendMiB: 4, nobleMiB: 1, crcMiB: 4, elRounds: 2, elWindowMs: 250, cpuSeconds: 2, tamperTrials: 3, warmup: 1, rssSweeps: 2 }
  : { workloadMiB: 250, reps: 5, batches: [16, 32, 64, 128, 256], backendMiB: 64, nobleMiB: 16, crcMiB: 64, elRounds: 4, elWindowMs: 1500, cpuSeconds: 20, tamperTrials: 8, warmup: 2, rssSweeps: 6 };

const t0 = process.hrtime.bigint();
const log = (msg) => process.stderr.write(`[bench ${since(t0).toFixed(1)}s] ${msg}\n`);

const m = machine();
log(`${m.cpu}, ${m.cores} cores, ${m.kernel}, node ${m.node}; BLAKE3 ${m.blake3Backend}, CRC32C ${m.crc32cBackend}`);
const bytes = P.workloadMiB * MiB;
const file = createWorkloadFile(bytes);
const workload = mapWorkload(file, bytes);
const own = await ownCodeRegions(workload);
const everything = [workload, ...own];
log(`workload: ${P.workloadMiB} MiB r-xp mapping of ${file}; own code ${fmt(bytesOf(own) / MiB, 1)} MiB in ${own.length} regions`);

// Memory first: resident-only sweeps must not fault in code the throughput sweeps would.
log('resident-only sweeps (RSS growth, baseline size)');
const mem = await residentOnlyMemory({ warmup: P.warmup, sweeps: P.rssSweeps });

log('throughput: engine pass, Scanner.sweep (process_vm_readv) per batch size, unsafe pointer sweep, memory read-sum');
const pb = await enginePass(workload, file, 'blake3', P.reps);
const pf = await enginePass(workload, file, 'fast', P.reps);
const scanner = new native.Scanner();
const tb = await tuneBatch(scanner, [workload], 'blake3', P.batches, P.reps);
const tf = await tuneBatch(scanner, [workload], 'fast', P.batches, P.reps);
scanner.close();
const ub = unsafeSweep([workload], 'blake3', 64, P.reps);
const uf = unsafeSweep([workload], 'fast', 64, P.reps);
const mr = memReadSum([workload], P.reps);

log('hash-only speed per backend, and b3sum (mmap and --no-mmap) on the workload file');
const hashOnly = hashOnlyRows({ file, fileBytes: bytes, bufBytes: P.backendMiB * MiB, reps: P.reps, quick });

log('references: b3sum, node:crypto SHA-256, @noble/hashes BLAKE3, crc (npm) crc32');
const b3 = b3sum(file, bytes, P.reps);
const sha = sha256(workload, bytes);
const noble = nobleBlake3(workload, Math.min(bytes, P.nobleMiB * MiB));
const crcjs = crcCrc32(workload, Math.min(bytes, P.crcMiB * MiB));
log('a new Guard\'s first full check() vs b3sum');
const fc = await firstCheckVsB3sum(b3, P.reps);

log('signed manifest: verify an app folder on one native thread vs b3sum --num-threads 1');
const mf = manifestRows(await manifestBench({ quick, log }));

log('event-loop delay: idle vs back-to-back sweeps of the workload and own code');
const el = await eventLoopDelay(everything, { rounds: P.elRounds, windowMs: P.elWindowMs });

// Steady state: V8's memory reducer runs one or two full GCs in the seconds after heavy work (a
// one-off of ~30 ms); each CPU share is measured after they are done.
const settleMs = quick ? 500 : 10000;
// What the Guard adds: this same process idle (Node's own timers, V8's idle tasks; ~0.13 % here)
// is measured first, over the same window, and taken off.
log(`this process idle, without a Guard: settle, then CPU over ${P.cpuSeconds} s`);
await new Promise((r) => setTimeout(r, settleMs));
const idleCpu = await cpuShare(P.cpuSeconds);
log(`Guard at default settings: baseline, settle, then CPU over ${P.cpuSeconds} s`);
const { guard, status } = await startDefaultGuard();
await new Promise((r) => setTimeout(r, settleMs));
const cpu = await cpuShare(P.cpuSeconds);
const added = guardAdds(cpu, idleCpu);
log(`tamper latency: ${P.tamperTrials} writes to workload code pages through /proc/self/mem`);
// Trials are spaced as isolated events: the sentinel pays each page-table walk from a token bucket
// filled at 0.1 % of a core, so back-to-back writes on 282 MiB are rate-limited to one walk per
// walk-cost / budget (seconds); an isolated write finds the bucket full.
const tamperSpacingMs = quick ? 500 : 6000;
const tamper = await tamperLatency(guard, workload, { trials: P.tamperTrials, timeoutMs: quick ? 5000 : 10000, spacingMs: tamperSpacingMs });
const fl = await fastLoopLatencies(guard, { file, bytes, trials: P.tamperTrials, spacingMs: quick ? 300 : 2000 });
guard.stop();

const values = {
  blake3_vs_b3sum: b3.available ? pb.gbps / b3.gbps : null,
  fast_vs_memread: pf.gbps / mr.gbps,
  safe_read_overhead: pb.seconds / ub.seconds,
  eventloop_p99_added_ms: el.addedMs,
  cpu_percent_default: added.percent,
  rss_growth_mib: mem.rssGrowthMiB,
  baseline_bytes_per_page: mem.bytesPerPage,
  tamper_latency_ms: tamper.medianMs,
  ...fl.values,
  first_check_vs_b3sum: fc.ratio,
  ...mf.values,
};
const result = {
  quick,
  machine: m,
  workload: { file, bytes, ownCodeBytes: bytesOf(own), ownCodeRegions: own.length, guardCoverage: status.coverage },
  ...values,
  safe_read_overhead_fast: pf.seconds / uf.seconds,
  blake3_pass_gbps: pb.gbps,
  fast_pass_gbps: pf.gbps,
  pass_in_place_bytes: pb.inPlaceBytes,
  pass_copied_bytes: pb.copiedBytes,
  blake3_sweep_gbps: tb.best.gbps,
  fast_sweep_gbps: tf.best.gbps,
  sweep_vs_unsafe: tb.best.seconds / ub.seconds,
  unsafe_blake3_gbps: ub.gbps,
  unsafe_fast_gbps: uf.gbps,
  memread_gbps: mr.gbps,
  b3sum_gbps: b3.gbps,
  b3sum_available: b3.available,
  b3sum_version: b3.version,
  sha256_gbps: sha.gbps,
  noble_blake3_gbps: noble.gbps,
  noble_blake3_slice_bytes: noble.bytes,
  crc_js_crc32_gbps: crcjs.gbps,
  crc_js_slice_bytes: crcjs.bytes,
  batch_pages_blake3: tb.best.batchPages,
  batch_pages_fast: tf.best.batchPages,
  batch_tuning: { blake3: tb.all.map((r) => ({ batchPages: r.batchPages, gbps: r.gbps })), fast: tf.all.map((r) => ({ batchPages: r.batchPages, gbps: r.gbps })) },
  first_check: fc,
  manifest: mf.result,
  ...hashOnly.json,
  goal_backends: goalBackends(hashOnly),
  eventloop: el,
  cpu,
  idleCpu,
  cpuAdded: added,
  memory: mem,
  tamper,
  fastloops: fl,
  goals: Object.fromEntries(GOALS.map((g) => [g.key, { value: values[g.key], op: g.op, target: g.target, met: met(g, values[g.key]) }])),
  goals_met: GOALS.every((g) => met(g, values[g.key]) === true),
  seconds: since(t0),
};

const wl = `${P.workloadMiB} MiB workload`;
const rows = [
  [`procguard BLAKE3 pass (the Guard's engine pass, safe reads, 1 thread)`, fmt(pb.gbps), `${wl}, ${fmt(pb.inPlaceBytes / MiB, 0)} MiB hashed in place`],
  [`procguard fast pass (CRC32C, the Guard's engine pass, safe reads, 1 thread)`, fmt(pf.gbps), wl],
  [`Scanner.sweep BLAKE3 (process_vm_readv of every page, batch ${tb.best.batchPages})`, fmt(tb.best.gbps), wl],
  [`Scanner.sweep fast (process_vm_readv of every page, batch ${tf.best.batchPages})`, fmt(tf.best.gbps), wl],
  ['unsafe pointer sweep, BLAKE3 (same hash code)', fmt(ub.gbps), wl],
  ['unsafe pointer sweep, fast', fmt(uf.gbps), wl],
  ['memory read-sum loop (64-bit loads)', fmt(mr.gbps), wl],
  ...hashOnlyTableRows(hashOnly, fmt),
  [`a new Guard's first full check() (hash-once read path)`, fmt(fc.gbps), `${fmt(fc.bytes / MiB, 0)} MiB: workload + own code, ${fmt(fc.seconds * 1000, 0)} ms; page-cache pages read by ${fc.firstRead.route} (in place ${fmt(fc.firstRead.viewNsPerPage / 1000, 2)} us/page, copy ${fmt(fc.firstRead.copyNsPerPage / 1000, 2)} us/page, hashing included)`],
  ...mf.rows,
  [`b3sum --num-threads 1 --no-mmap${b3.available ? ` (${b3.version})` : ' (not installed)'}`, fmt(b3.gbps), `same bytes, tmpfs file`],
  ['node:crypto SHA-256', fmt(sha.gbps), wl],
  ['@noble/hashes BLAKE3 (pure JS)', fmt(noble.gbps, 3), `${fmt(noble.bytes / MiB, 0)} MiB slice, same bytes`],
  ['crc (npm) crc32 (pure JS)', fmt(crcjs.gbps, 3), `${fmt(crcjs.bytes / MiB, 0)} MiB slice, same bytes`],
];
const goalRows = GOALS.map((g) => {
  const v = values[g.key];
  const ok = met(g, v);
  return [g.key, fmt(v), `${g.op} ${g.target}`, ok === null ? 'n/a' : ok ? 'met' : 'NOT MET', g.label];
});
const out = [
  '',
  `procguard bench${quick ? ' (--quick: small workload, short windows; numbers are not meaningful)' : ''}`,
  `machine: ${m.cpu}, ${m.cores} cores; ${m.kernel}; node ${m.node}; BLAKE3 backend ${m.blake3Backend}, CRC32C ${m.crc32cBackend}`,
  `workload: ${P.workloadMiB} MiB random bytes mapped r-xp from tmpfs + ${fmt(bytesOf(own) / MiB, 1)} MiB of the process's own code`,
  '',
  table(['throughput', 'GB/s', 'on'], rows),
  '',
  table(['measure', 'value', 'on'], [
    ['event-loop p99 idle / during sweeps (ms)', `${fmt(el.idleP99Ms)} / ${fmt(el.sweepP99Ms)}`, `${el.sweeps} sweeps of workload + own code`],
    ['CPU at default Guard settings (% of one core)', fmt(added.percent, 3), `what the Guard adds: whole process ${fmt(cpu.percent, 3)} with it, ${fmt(idleCpu.percent, 3)} idle before it, procguard's threads alone ${fmt(added.ownThreads, 3)} (the floor) (${fmt(cpu.seconds, 0)} s each after a ${settleMs / 1000} s settle), ${fmt(status.coverage.bytes / MiB, 0)} MiB; per thread ${threadList(cpu.threads)}`],
    ['RSS growth per resident-only sweep (MiB)', fmt(mem.rssGrowthMiB, 3), `${mem.sweeps} sweeps after ${P.warmup} warm-up`],
    ['baseline bytes per page', fmt(mem.bytesPerPage), `${mem.baselinePages} pages, ${fmt(mem.baselineBytes / MiB)} MiB`],
    ['tamper -> finding latency, median / max (ms)', `${fmt(tamper.medianMs, 0)} / ${fmt(tamper.maxMs, 0)}`, `${tamper.trials} isolated writes ${tamperSpacingMs / 1000} s apart, ${tamper.timeouts} timeouts`],
  ]),
  '',
  table(['goal', 'value', 'target', 'status', 'meaning'], goalRows),
  '',
  table(['throughput goal', 'value', 'target', 'measured on the dispatched backend'], goalBackendRows(hashOnly, GOALS, values, met, fmt)),
  '',
  `safe/unsafe in fast mode: ${fmt(result.safe_read_overhead_fast)}; total bench time ${fmt(result.seconds, 0)} s`,
  '',
];
Object.assign(result, await treeBench({ quick, log, out }));
Object.assign(result, await debuggerBench({ quick, log, out }));
process.stdout.write(out.join('\n'));
if (args.has('--json')) process.stdout.write(JSON.stringify(result) + '\n');
// The mapping and the scanner threads are gone; leave promptly.
process.exit(0);
