// Measurements through the public Guard at its default settings (period 10 s, sweep budget 0.1 %,
// kernel watch and sentinel ticks 200 ms) on the whole process: CPU share, and software-tamper latency.
import * as fs from 'node:fs';
import { lib, median, sleep, gc } from './common.mjs';

/** Starts a Guard with default options; resolves once the baseline pass is done. */
export async function startDefaultGuard() {
  const guard = new lib.Guard();
  const status = await guard.start();
  return { guard, status };
}

/**
 * Run time of each thread of this process by name, in ns (Linux /proc/self/task/<tid>/schedstat; stat's
 * utime+stime count 10 ms ticks, too coarse for 0.1 % of a core). The main thread is 'js-main', Node's
 * other threads 'node-other'. Empty elsewhere.
 */
export function threadRunNs() {
  const m = new Map();
  if (process.platform !== 'linux') return m;
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

/** Percent of one core per thread name between two threadRunNs() snapshots over `wallS` seconds. */
export function perThread(a, b, wallS) {
  const per = {};
  for (const [tid, v] of b) {
    const d = v.ns - (a.get(tid)?.ns ?? 0);
    const k = v.comm === 'node' ? (tid === String(process.pid) ? 'js-main' : 'node-other') : v.comm;
    per[k] = (per[k] ?? 0) + d;
  }
  const out = {};
  for (const [k, v] of Object.entries(per)) if (v) out[k] = +((v / 1e9 / wallS) * 100).toFixed(3);
  return out;
}

/**
 * What a Guard adds to the process's CPU (percent of one core): the whole process with the Guard
 * minus the same process idle before it, never less than procguard's own native threads alone (a
 * floor: the idle window can catch a GC of earlier work that the Guard's window does not).
 */
export function guardAdds(withGuard, idle) {
  const own = Object.entries(withGuard.threads)
    .filter(([k]) => k.startsWith('procguard-'))
    .reduce((a, [, v]) => a + v, 0);
  return { percent: Math.max(withGuard.percent - idle.percent, own), ownThreads: own };
}

/**
 * Whole-process CPU (user + system) over `seconds` of wall time, in percent of one core, and per thread.
 * A full GC runs first: a collection of earlier garbage (the bench's own work, a Guard's start), which
 * V8's memory reducer would otherwise run at some point in the window, is not steady state.
 */
export async function cpuShare(seconds) {
  gc();
  await sleep(1000); // the GC's concurrent sweeping finishes outside the window
  const threads0 = threadRunNs();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const c = process.cpuUsage(c0);
  const wall = Number(process.hrtime.bigint() - t0) / 1e3; // µs
  const threads = perThread(threads0, threadRunNs(), wall / 1e6);
  return { percent: ((c.user + c.system) / wall) * 100, seconds: wall / 1e6, userUs: c.user, systemUs: c.system, threads };
}

/**
 * Writes one byte of a code page through /proc/self/mem (FOLL_FORCE writes read-only private
 * pages; the page turns anonymous, which the sentinel sees) and times until the Guard emits the
 * code-modified finding for it. Restores the byte and waits for code-restored between trials.
 */
export async function tamperLatency(guard, region, { trials, timeoutMs, spacingMs = 0 }) {
  const mem = fs.openSync('/proc/self/mem', 'r+');
  const pages = Number(region.end - region.start) / 4096;
  const latencies = [];
  let timeouts = 0;
  try {
    for (let t = 0; t < trials; t++) {
      // Each trial starts when the previous restore was reported, i.e. just after a sentinel tick; a
      // spacing that is a multiple of the tick would put every write at the same phase of it (always
      // just after a tick: a whole tick of latency; or, with a drifting tick, always just before one).
      // An attacker's write has no such phase: offsets spread over 250 ms sample it evenly.
      if (spacingMs > 0) await sleep(spacingMs + ((t * 0.618034) % 1) * 250);
      // Distinct pages spread over the mapping; a byte in the middle of the page.
      const page = Math.floor(((t + 0.5) * pages) / trials);
      const addr = region.start + BigInt(page * 4096 + 1000 + t);
      const orig = Buffer.alloc(1);
      fs.readSync(mem, orig, 0, 1, Number(addr));
      const pageLo = addr & ~4095n;
      const inPage = (f) => f.address !== undefined && BigInt(f.address) >= pageLo && BigInt(f.address) < pageLo + 4096n;
      const modified = waitFinding(guard, (f) => f.kind === 'code-modified' && inPage(f), timeoutMs);
      const t0 = process.hrtime.bigint();
      fs.writeSync(mem, Buffer.from([orig[0] ^ 0x5a]), 0, 1, Number(addr));
      const at = await modified;
      if (at === null) {
        timeouts++;
        latencies.push(timeoutMs);
      } else latencies.push(Number(at - t0) / 1e6);
      const restored = waitFinding(guard, (f) => f.kind === 'code-restored' && inPage(f), timeoutMs);
      fs.writeSync(mem, orig, 0, 1, Number(addr));
      await restored;
    }
  } finally {
    fs.closeSync(mem);
  }
  return { medianMs: median(latencies), maxMs: Math.max(...latencies), trials, timeouts, latencies };
}

/** Resolves with the hrtime of the first finding matching `pred`, or null after `timeoutMs`. */
export function waitFinding(guard, pred, timeoutMs) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      guard.off('finding', on);
      resolve(null);
    }, timeoutMs);
    function on(f) {
      if (!pred(f)) return;
      clearTimeout(timer);
      guard.off('finding', on);
      resolve(process.hrtime.bigint());
    }
    guard.on('finding', on);
  });
}
