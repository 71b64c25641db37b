// The Windows bench row, run by node.exe (under Wine: `bash scripts/windows/test-windows.sh --bench`):
// another process's WriteProcessMemory of one byte into node.exe's code (test/windows/attacker.c) ->
// the default Guard's code-modified finding for that page, then restored -> code-restored.
//   node.exe bench/windows.mjs [--trials N] [--json]
// Latency counts from starting the attacker (its process start-up is included); the Guard runs at its
// defaults (period 10 s, sweep budget 0.1 %, sentinel 200 ms where the OS offers one).
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const PAGE = 4096;
const args = process.argv.slice(2);
const trials = Number(args.includes('--trials') ? args[args.indexOf('--trials') + 1] : 3);
const timeoutMs = 180_000;
if (process.platform !== 'win32') {
  console.error('bench/windows.mjs runs under node.exe (Windows or Wine): bash scripts/windows/test-windows.sh --bench');
  process.exit(2);
}
const attackerExe = process.env.PROCGUARD_ATTACKER || path.join(root, '.cache', 'windows', 'attacker.exe');
const { Guard } = require(path.join(root, 'dist', 'index.js'));
const native = require(path.join(root, 'dist', 'native.js')).loadNative();
const log = (m) => process.stderr.write(`[bench windows] ${m}\n`);

/** Runs the attacker; resolves with its JSON line. */
function attacker(...a) {
  return new Promise((resolve, reject) => {
    const p = spawn(attackerExe, a.map(String), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`attacker ${a.join(' ')} exited ${code}`))));
  });
}

/** Addresses inside int3 padding (never executed) of node.exe's code, on `n` pages spread over it. */
function paddingBytes(region, n) {
  const out = [];
  const pages = Number(region.end - region.start) / PAGE;
  for (let t = 0; t < n; t++) {
    for (let page = Math.floor(((t + 0.5) * pages) / n); page < pages && out.length === t; page++) {
      const start = region.start + BigInt(page * PAGE);
      const bytes = native.readMemory(start, PAGE);
      const run = bytes ? bytes.indexOf(Buffer.alloc(16, 0xcc)) : -1;
      if (run >= 0) out.push(start + BigInt(run + 8));
    }
  }
  if (out.length < n) throw new Error(`int3 padding found on ${out.length} of ${n} pages of node.exe`);
  return out;
}

/** Resolves with the time (ms) of the first finding matching `pred`, or null after timeoutMs. */
function nextFinding(guard, pred) {
  return new Promise((resolve) => {
    const on = (f) => {
      if (!pred(f)) return;
      clearTimeout(timer);
      guard.off('finding', on);
      resolve(performance.now());
    };
    const timer = setTimeout(() => {
      guard.off('finding', on);
      resolve(null);
    }, timeoutMs);
    guard.on('finding', on);
  });
}

const guard = new Guard();
const first = await guard.start();
const exe = native.executableRegions().find((r) => r.type === 'image' && (r.path ?? '').toLowerCase() === process.execPath.toLowerCase());
const targets = paddingBytes(exe, trials);
log(`${first.coverage.regions} code regions, ${(first.coverage.bytes / 2 ** 20).toFixed(1)} MiB; sentinel ${first.sentinel?.kind} (${first.sentinel?.reason ?? ''})`);
const latencies = [];
let timeouts = 0;
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
for (const [t, addr] of targets.entries()) {
  // A write lands at any phase of the sweep: wait a spread, irregular time between trials.
  await new Promise((r) => setTimeout(r, 1000 + ((t * 0.618034) % 1) * 5000));
  const pageLo = addr & ~BigInt(PAGE - 1);
  const inPage = (f) => f.address !== undefined && BigInt(f.address) === pageLo;
  const modified = nextFinding(guard, (f) => f.kind === 'code-modified' && inPage(f));
  const t0 = performance.now();
  const w = await attacker('write', process.pid, addr.toString(16), 'cd');
  if (!w.written) throw new Error(`the attacker could not write: ${JSON.stringify(w)}`);
  const at = await modified;
  if (at === null) timeouts++;
  latencies.push(at === null ? timeoutMs : at - t0);
  log(`trial ${t + 1}/${trials}: ${at === null ? `no finding in ${timeoutMs} ms` : `${(at - t0).toFixed(0)} ms`}`);
  const restored = nextFinding(guard, (f) => f.kind === 'code-restored' && inPage(f));
  await attacker('write', process.pid, addr.toString(16), 'cc');
  await restored;
}
const cpu = process.cpuUsage(cpu0);
const cpuPercent = ((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100;
guard.stop();
const sorted = [...latencies].sort((a, b) => a - b);
const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
const row = {
  windows_tamper_latency_ms: Math.round(median),
  windows_tamper_latency_max_ms: Math.round(Math.max(...latencies)),
  trials,
  timeouts,
  latencies_ms: latencies.map(Math.round),
  process_cpu_percent: +cpuPercent.toFixed(2),
  sentinel: first.sentinel?.kind ?? null,
  code_mib: +(first.coverage.bytes / 2 ** 20).toFixed(1),
  node: process.version,
  wine: (await attacker('wine')).wine, // ntdll's wine_get_version, null on Windows
};
console.log(`| WriteProcessMemory into node.exe code -> code-modified, median / max (ms) | ${row.windows_tamper_latency_ms} / ${row.windows_tamper_latency_max_ms} | ${trials} writes, ${timeouts} timeouts, sentinel ${row.sentinel}, ${row.code_mib} MiB of code, process CPU ${row.process_cpu_percent} % |`);
if (args.includes('--json')) console.log(JSON.stringify(row));
