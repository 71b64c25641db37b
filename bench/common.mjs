// Shared bench plumbing: the compiled library, the bench-only hooks addon, timing and stats.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { hooksPath } from '../test/native/hooks.mjs';

const require = createRequire(import.meta.url);
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function need(p, what) {
  if (!fs.existsSync(p)) throw new Error(`bench: ${what} missing (${p}); run \`npm run build\` first`);
  return require(p);
}

export const lib = need(path.join(root, 'dist/index.js'), 'the compiled library');
export const native = need(path.join(root, 'dist/native.js'), 'the compiled library').loadNative();
// The bench-only hooks addon (unsafe sweeps, file-backed exec maps) is the tests' one: `npm run bench` builds it.
export const hooks = need(hooksPath, 'the bench hooks addon (pg_testhooks.node; `npm run bench` builds it)');
export const { CodeMonitor } = need(path.join(root, 'dist/integrity/monitor.js'), 'the compiled code monitor');
export const { readMaps } = need(path.join(root, 'dist/procfs/maps.js'), 'the compiled maps parser');
export const regionsMod = need(path.join(root, 'dist/integrity/regions.js'), 'the compiled region classifier');

export const MiB = 1024 * 1024;

v8.setFlagsFromString('--expose-gc');
/** A full, synchronous V8 garbage collection. */
export const gc = vm.runInNewContext('gc');

export function nowNs() {
  return process.hrtime.bigint();
}

/** Seconds elapsed since `t0` (a bigint from nowNs()). */
export function since(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function gbps(bytes, seconds) {
  return bytes / seconds / 1e9;
}

/** Runs `fn` (returning seconds) `reps` times and keeps the best and the median. */
export async function timeReps(reps, fn) {
  const runs = [];
  for (let i = 0; i < reps; i++) runs.push(await fn());
  return { best: Math.min(...runs), median: median(runs), runs };
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** CPU model, kernel, node, core count: printed with the table. */
export function machine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    /* no /proc/cpuinfo: keep os.cpus()'s model */
  }
  return {
    cpu,
    cores: os.cpus().length,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    blake3Backend: native.hashBackends().blake3Active,
    crc32cBackend: native.hashBackends().crc32cActive,
  };
}

/** Resident set size of this process in bytes (VmRSS). */
export function rssBytes() {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}
