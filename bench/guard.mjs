// Measurements through the public Guard at its default settings (period 10 s, CPU budget 0.5 %,
// pagemap sentinel every 100 ms) on the whole process: CPU share, and software-tamper latency.
import * as fs from 'node:fs';
import { lib, median, sleep } from './common.mjs';

/** Starts a Guard with default options; resolves once the baseline pass is done. */
export async function startDefaultGuard() {
  const guard = new lib.Guard();
  const status = await guard.start();
  return { guard, status };
}

/** Whole-process CPU (user + system) over `seconds` of wall time, in percent of one core. */
export async function cpuShare(seconds) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const c = process.cpuUsage(c0);
  const wall = Number(process.hrtime.bigint() - t0) / 1e3; // µs
  return { percent: ((c.user + c.system) / wall) * 100, seconds: wall / 1e6, userUs: c.user, systemUs: c.system };
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
