// Hash-only rows: the speed of every hash backend this CPU supports on a resident buffer, beside
// the reference implementation's own hash-only speed on the same machine (`b3sum --num-threads 1`
// on the tmpfs workload file: mmap mode hashes the page cache in place; --no-mmap adds a read()
// copy), and which backend each throughput goal was measured on.
//
// Times are CPU time (user + system), median of several runs: the machine is shared, and wall time
// would count the time a runnable thread waits for a core. Ours come from process.cpuUsage() around
// one synchronous hashPages call; b3sum's from the cutime/cstime of this process in /proc/self/stat,
// which grow by the CPU time of each child once it is waited for (clock ticks, so b3sum is run
// several times per sample to keep the tick rounding small).
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { native, median, gbps, MiB } from './common.mjs';

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Median CPU-time speed of hashPages(buf, mode, backend) over `reps` runs, and every run. */
function backendSpeed(buf, mode, backend, reps) {
  native.hashPages(buf.subarray(0, 64 * 4096), mode, backend); // warm up (code, dispatch, page tables)
  const runs = [];
  for (let i = 0; i < reps; i++) {
    const t0 = cpuSeconds();
    native.hashPages(buf, mode, backend);
    runs.push(gbps(buf.length, Math.max(cpuSeconds() - t0, 1e-6)));
  }
  return { gbps: median(runs), best_gbps: Math.max(...runs), runs };
}

let ticks = null;
function clockTicks() {
  if (ticks === null) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    ticks = Number(r.stdout) > 0 ? Number(r.stdout) : 100;
  }
  return ticks;
}

/** { user, sys } CPU seconds of the children this process has waited for; null without /proc. */
function childrenCpuSeconds() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    return { user: Number(f[13]) / clockTicks(), sys: Number(f[14]) / clockTicks() }; // fields 16, 17: cutime, cstime
  } catch {
    return null;
  }
}

/**
 * `b3sum --num-threads 1 [extra] file`, `perSample` times per sample, `reps` samples: median
 * speeds by CPU time (user + system: what the process costs), by user time alone (the hashing:
 * the kernel's side, page faults in mmap mode or the read() copy, is system time) and by wall time.
 * null speeds when b3sum is missing.
 */
function b3sumSpeed(file, bytes, extra, reps, perSample) {
  const probe = spawnSync('b3sum', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { available: false, version: null, gbps: null, user_gbps: null, wall_gbps: null };
  const script = 'i=0; while [ $i -lt "$1" ]; do b3sum --num-threads 1 $2 "$3" >/dev/null || exit 1; i=$((i+1)); done';
  const cpu = [];
  const user = [];
  const wall = [];
  for (let i = 0; i < reps; i++) {
    const c0 = childrenCpuSeconds();
    const t0 = process.hrtime.bigint();
    const r = spawnSync('sh', ['-c', script, 'sh', String(perSample), extra, file], { encoding: 'utf8' });
    const w = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`bench: b3sum ${extra} failed: ${r.stderr}`);
    const c1 = childrenCpuSeconds();
    wall.push(gbps(bytes * perSample, w));
    if (c0 !== null && c1 !== null && c1.user + c1.sys > c0.user + c0.sys) {
      cpu.push(gbps(bytes * perSample, c1.user + c1.sys - c0.user - c0.sys));
      if (c1.user > c0.user) user.push(gbps(bytes * perSample, c1.user - c0.user));
    }
  }
  return {
    available: true,
    version: probe.stdout.trim(),
    gbps: cpu.length ? median(cpu) : median(wall), // CPU time where /proc has it
    clock: cpu.length ? 'cpu' : 'wall',
    user_gbps: user.length ? median(user) : null,
    wall_gbps: median(wall),
  };
}

/**
 * Measures every backend's hash-only speed on a `bufBytes` resident buffer and b3sum on `file`
 * (`fileBytes` long). Returns the table rows and the JSON keys.
 */
export function hashOnlyRows({ file, fileBytes, bufBytes, reps, quick }) {
  const buf = crypto.randomBytes(bufBytes);
  const be = native.hashBackends();
  const backends = [];
  for (const [mode, names, active] of [['blake3', be.blake3, be.blake3Active], ['fast', be.crc32c, be.crc32cActive]])
    for (const backend of names)
      backends.push({ mode, backend, active: backend === active, ...backendSpeed(buf, mode, backend, reps) });

  // mmap mode pays a page fault per 4 KiB page of the tmpfs file (slow under KVM: ~3 s wall for
  // 250 MiB on the reference VM), so it gets fewer runs.
  const mmap = b3sumSpeed(file, fileBytes, '', quick ? 1 : 3, 1);
  const nommap = b3sumSpeed(file, fileBytes, '--no-mmap', reps, quick ? 1 : 3);
  for (const b of backends) {
    if (b.mode !== 'blake3') continue;
    b.vs_b3sum_mmap = mmap.gbps ? b.gbps / mmap.gbps : null;
    b.vs_b3sum_nommap = nommap.gbps ? b.gbps / nommap.gbps : null;
    b.vs_b3sum_user = nommap.user_gbps ? b.gbps / nommap.user_gbps : null;
  }
  return {
    backends,
    b3sum: { mmap, nommap },
    json: {
      blake3_backend: be.blake3Active,
      crc32c_backend: be.crc32cActive,
      hash_only: backends,
      hash_only_buffer_bytes: bufBytes,
      b3sum_mmap_gbps: mmap.gbps,
      b3sum_nommap_gbps: nommap.gbps,
      b3sum_nommap_user_gbps: nommap.user_gbps,
      b3sum_mmap_user_gbps: mmap.user_gbps,
      b3sum_hash_only_clock: mmap.clock ?? null,
      blake3_hash_only_vs_b3sum_mmap: Object.fromEntries(backends.filter((b) => b.mode === 'blake3').map((b) => [b.backend, b.vs_b3sum_mmap])),
      blake3_hash_only_vs_b3sum_nommap: Object.fromEntries(backends.filter((b) => b.mode === 'blake3').map((b) => [b.backend, b.vs_b3sum_nommap])),
      blake3_hash_only_vs_b3sum_user: Object.fromEntries(backends.filter((b) => b.mode === 'blake3').map((b) => [b.backend, b.vs_b3sum_user])),
    },
  };
}

/** Table rows for the throughput table: one per backend, then b3sum's two modes. */
export function hashOnlyTableRows(h, fmt) {
  const where = `${Math.round(h.json.hash_only_buffer_bytes / MiB)} MiB resident buffer, CPU time`;
  const rows = h.backends.map((b) => [
    `hash only, ${b.mode === 'fast' ? 'CRC32C' : 'BLAKE3'} ${b.backend}${b.active ? ' (dispatched)' : ''}` +
      (b.mode === 'blake3' && b.vs_b3sum_user ? `: ${fmt(b.vs_b3sum_user)}x b3sum's hashing` : ''),
    fmt(b.gbps),
    where,
  ]);
  const { mmap, nommap } = h.b3sum;
  const label = (m, what) => `hash only, b3sum --num-threads 1 ${what}${m.available ? ` (${m.version})` : ' (not installed)'}`;
  rows.push([label(mmap, '(mmap)'), fmt(mmap.gbps), `same bytes, tmpfs file, ${mmap.clock ?? 'n/a'} time`]);
  rows.push([label(nommap, '--no-mmap'), fmt(nommap.gbps), `same bytes, tmpfs file, ${nommap.clock ?? 'n/a'} time`]);
  rows.push([label(nommap, '--no-mmap, user time only'), fmt(nommap.user_gbps), 'the hashing without the read() copy']);
  return rows;
}

/** Which backend each throughput goal was measured on (the process-wide default, what the Scanner uses). */
export function goalBackends(h) {
  return {
    blake3_vs_b3sum: `BLAKE3 ${h.json.blake3_backend}`,
    fast_vs_memread: `CRC32C ${h.json.crc32c_backend}`,
    safe_read_overhead: `BLAKE3 ${h.json.blake3_backend}`,
    first_check_vs_b3sum: `BLAKE3 ${h.json.blake3_backend}`,
  };
}

/** Rows: goal, value, status, backend it was measured on. */
export function goalBackendRows(h, goals, values, met, fmt) {
  const gb = goalBackends(h);
  return goals.filter((g) => g.key in gb).map((g) => {
    const ok = met(g, values[g.key]);
    return [g.key, fmt(values[g.key]), `${g.op} ${g.target}`, ok === null ? 'n/a' : ok ? `met on ${gb[g.key]}` : `NOT MET on ${gb[g.key]}`];
  });
}
