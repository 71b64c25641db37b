// The Guard's fast loops at default settings, in the bench process (282 MiB workload mapped):
// tracer_latency_ms: a same-uid PTRACE_SEIZE of one of this process's threads (python3 ctypes,
// test/kernel/children/tracer.py) until tracer-attached; file_write_latency_ms: a write(2) to the
// mapped workload file until code-modified (inotify -> CodeMonitor.checkFiles). Medians of
// isolated trials (spaced, each detached/restored and closed before the next).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, sleep } from './common.mjs';
import { waitFinding } from './guard.mjs';

const tracerPy = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'kernel', 'children', 'tracer.py');


function lines(child) {
  let buf = '';
  const waiters = [];
  child.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiters.shift();
      if (w) w(l);
    }
  });
  return () => new Promise((r) => waiters.push(r));
}

async function tracerTrial(guard, tid, timeoutMs) {
  const t = spawn('/usr/bin/python3', [tracerPy, String(tid)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const next = lines(t);
  const found = waitFinding(guard, (f) => f.kind === 'tracer-attached', timeoutMs);
  const seized = await next();
  const t0 = process.hrtime.bigint();
  if (!seized.startsWith('seized')) {
    t.kill();
    return null;
  }
  const at = await found;
  t.stdin.write('detach\n');
  await next();
  t.stdin.end();
  await new Promise((r) => t.on('exit', r));
  return at === null ? timeoutMs : Math.max(0, Number(at - t0) / 1e6);
}

async function fileTrial(guard, file, offset, timeoutMs) {
  const fd = fs.openSync(file, 'r+');
  const orig = Buffer.alloc(1);
  fs.readSync(fd, orig, 0, 1, offset);
  const found = waitFinding(guard, (f) => f.kind === 'code-modified' && f.page === Math.floor(offset / 4096), timeoutMs);
  const t0 = process.hrtime.bigint();
  fs.writeSync(fd, Buffer.from([orig[0] ^ 0x5a]), 0, 1, offset);
  const at = await found;
  const restored = waitFinding(guard, (f) => f.kind === 'code-restored', timeoutMs);
  fs.writeSync(fd, orig, 0, 1, offset);
  fs.closeSync(fd);
  await restored;
  return at === null ? timeoutMs : Number(at - t0) / 1e6;
}

/** Both latencies on a running default Guard; `file` is the mapped workload file of `bytes`. */
export async function fastLoopLatencies(guard, { file, bytes, trials, spacingMs, timeoutMs = 5000 }) {
  const tracer = [];
  const canTrace = fs.existsSync('/usr/bin/python3') && process.platform === 'linux';
  if (canTrace) {
    const tids = fs.readdirSync('/proc/self/task').map(Number).filter((t) => t !== process.pid);
    for (let i = 0; i < trials; i++) {
      // Offsets spread over 250 ms (golden-ratio steps): an attacker's attach has no phase relative to
      // the watch tick, and a fixed spacing would sample one phase of it every time.
      await sleep(spacingMs + ((i * 0.618034) % 1) * 250);
      const ms = await tracerTrial(guard, tids[i % tids.length], timeoutMs);
      if (ms !== null) tracer.push(ms);
    }
  }
  const write = [];
  for (let i = 0; i < trials; i++) {
    await sleep(spacingMs);
    // One page past the tamper rows' pages: those were copied on write (private now), and a write
    // to the file no longer shows through them.
    write.push(await fileTrial(guard, file, (Math.floor(((i + 0.5) * bytes) / trials / 4096) + 1) * 4096 + 777, timeoutMs));
  }
  return {
    values: { tracer_latency_ms: tracer.length ? median(tracer) : null, file_write_latency_ms: median(write) },
    tracer: { latencies: tracer, trials: tracer.length },
    fileWrite: { latencies: write, trials: write.length },
  };
}
