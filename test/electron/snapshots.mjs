// Status snapshots for the <procguard-status> and bridge tests, produced by REAL Guard runs in
// this process: a real dry-run hardening report, a real code finding (a byte of the test
// library's code flipped through /proc/self/mem), a real launch finding (the launch auditor fed an
// LD_PRELOAD environment), and a real stalled checker (its maps source deleted after start).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Guard, harden, defaultPolicy } from '../../dist/index.js';
import { copyTestLib, loadTestLib, flip, waitFor } from '../integrity/helpers.mjs';

/** A path an attacker controls (a library name is just a file name): markup must not run. */
export const MALICIOUS_PATH = path.join(os.tmpdir(), `pg-<img src=x onerror="window.__pwned=1">`, '<script>window.__pwned=2</script>lib.so');

async function guardRun(options, hardening, mutate) {
  const g = new Guard({ kernel: false, launch: false, sentinelMs: 0, ...options });
  g.setHardening(hardening);
  try {
    await g.start();
    const restore = mutate?.();
    try {
      return await g.check();
    } finally {
      restore?.();
    }
  } finally {
    g.stop();
  }
}

async function stalledRun(hardening) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-stall-'));
  const maps = path.join(dir, 'maps');
  fs.writeFileSync(maps, fs.readFileSync('/proc/self/maps'));
  const g = new Guard({ kernel: false, launch: false, sentinelMs: 0, periodMs: 50, stallAfterMs: 200, cpuBudget: 1, mapsPath: maps });
  g.setHardening(hardening);
  try {
    await g.start();
    fs.rmSync(maps); // every later pass fails: the checker stops completing passes
    return await waitFor(g, 'status', (s) => s.state === 'stalled', 5000, 'the guard to report a stalled checker');
  } finally {
    g.stop();
  }
}

/**
 * A real HardenReport with a tracer attached before harden() and a warning: harden({ crashReporter:
 * 'keep-dumps' }) in a throw-away child that python3 ptrace-attached first (the harden tests'
 * fixtures). Null, with the reason, where that cannot run (no python3, ptrace refused).
 */
export async function tracedHardening() {
  const { jsonLines } = await import('../harden/helpers.mjs');
  const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'harden', 'fixtures');
  const dist = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'dist');
  if (process.platform !== 'linux' || !fs.existsSync('/usr/bin/python3')) return { report: null, why: 'needs Linux and python3' };
  const t = jsonLines(process.execPath, [path.join(fixtures, 'harden-child.js'), dist, JSON.stringify([{ crashReporter: 'keep-dumps' }]), 'wait']);
  let tracer;
  try {
    const ready = await t.next();
    tracer = jsonLines('/usr/bin/python3', [path.join(fixtures, 'tracer.py'), String(ready.pid)]);
    const att = await tracer.next();
    if (att.attached !== true) return { report: null, why: `ptrace attach refused: ${JSON.stringify(att)}` };
    t.send('go');
    const out = await t.next();
    return { report: out.calls[0].report ?? null, tracerPid: att.tracer, why: out.calls[0].error?.message };
  } finally {
    await t.close();
    if (tracer) await tracer.close();
  }
}

/** A real Status snapshot (a Guard check in this process) carrying `hardening`. */
export function statusWithHardening(hardening) {
  return guardRun({}, hardening);
}

let cached = null;

/** Returns { ok, findings, compromised, stalled, malicious } Status snapshots from real Guard runs. */
export async function makeSnapshots() {
  if (cached) return cached;
  const hardening = harden({ dryRun: true }); // the real report, without hardening the test process
  const lib = loadTestLib();
  fs.mkdirSync(path.dirname(MALICIOUS_PATH), { recursive: true });
  fs.copyFileSync(copyTestLib(), MALICIOUS_PATH);
  const evil = loadTestLib(MALICIOUS_PATH);
  const flipLib = () => flip(lib.blob + 0x2a40n, 0x01);
  cached = {
    ok: await guardRun({}, hardening),
    findings: await guardRun({}, hardening, flipLib),
    compromised: await guardRun(
      { launch: { env: { LD_PRELOAD: '/tmp/evil.so' }, argv: [], execArgv: [], inspectorUrl: null }, policy: defaultPolicy({ overrides: { 'code-modified': 'restart' } }) },
      hardening,
      flipLib,
    ),
    stalled: await stalledRun(hardening),
    malicious: await guardRun({}, hardening, () => flip(evil.blob + 100n, 0x02)),
  };
  return cached;
}
