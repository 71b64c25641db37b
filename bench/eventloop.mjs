// JS event-loop delay (p99) while native work runs back to back, against idle. Idle and busy
// windows alternate so that background load on a shared machine hits both alike.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { native, sleep } from './common.mjs';

/** p99 and max delay in idle windows and in windows where `runOnce` runs back to back; `runs` done. */
export async function delayIdleVsBusy(runOnce, { rounds, windowMs }) {
  const idle = monitorEventLoopDelay({ resolution: 1 });
  const busy = monitorEventLoopDelay({ resolution: 1 });
  let runs = 0;
  for (let i = 0; i < rounds; i++) {
    idle.enable();
    await sleep(windowMs);
    idle.disable();
    let running = true;
    const loop = (async () => {
      while (running) {
        await runOnce();
        runs++;
      }
    })();
    busy.enable();
    await sleep(windowMs);
    busy.disable();
    running = false;
    await loop;
  }
  const ms = (h) => h.percentile(99) / 1e6;
  return { idleP99Ms: ms(idle), busyP99Ms: ms(busy), addedMs: ms(busy) - ms(idle), idleMaxMs: idle.max / 1e6, busyMaxMs: busy.max / 1e6, runs };
}

export async function eventLoopDelay(regions, { rounds, windowMs }) {
  const scanner = new native.Scanner();
  const plain = regions.map((r) => ({ start: r.start, end: r.end }));
  try {
    const d = await delayIdleVsBusy(() => scanner.sweep(plain, { mode: 'blake3', residentOnly: false }), { rounds, windowMs });
    return { idleP99Ms: d.idleP99Ms, sweepP99Ms: d.busyP99Ms, addedMs: d.addedMs, idleMaxMs: d.idleMaxMs, sweepMaxMs: d.busyMaxMs, sweeps: d.runs };
  } finally {
    scanner.close();
  }
}
