// JS event-loop delay (p99) while the scanner thread sweeps back to back, against idle. Idle and
// busy windows alternate so that background load on a shared machine hits both alike.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { native, sleep } from './common.mjs';

export async function eventLoopDelay(regions, { rounds, windowMs }) {
  const idle = monitorEventLoopDelay({ resolution: 1 });
  const busy = monitorEventLoopDelay({ resolution: 1 });
  const scanner = new native.Scanner();
  const plain = regions.map((r) => ({ start: r.start, end: r.end }));
  let sweeps = 0;
  try {
    for (let i = 0; i < rounds; i++) {
      idle.enable();
      await sleep(windowMs);
      idle.disable();
      let running = true;
      const loop = (async () => {
        while (running) {
          await scanner.sweep(plain, { mode: 'blake3', residentOnly: false });
          sweeps++;
        }
      })();
      busy.enable();
      await sleep(windowMs);
      busy.disable();
      running = false;
      await loop;
    }
  } finally {
    scanner.close();
  }
  const ms = (h) => h.percentile(99) / 1e6;
  return {
    idleP99Ms: ms(idle),
    sweepP99Ms: ms(busy),
    addedMs: ms(busy) - ms(idle),
    idleMaxMs: idle.max / 1e6,
    sweepMaxMs: busy.max / 1e6,
    sweeps,
  };
}
