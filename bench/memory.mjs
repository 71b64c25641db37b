// Memory: RSS growth per sweep in resident-only mode (after a warm-up, GC forced between
// measurements so JS garbage does not count), and baseline digest bytes per page.
import { CodeMonitor, rssBytes, MiB, gc } from './common.mjs';

export async function residentOnlyMemory({ warmup, sweeps }) {
  const mon = new CodeMonitor({ residentOnly: true });
  try {
    await mon.baseline();
    for (let i = 0; i < warmup; i++) await mon.check();
    gc();
    const before = rssBytes();
    for (let i = 0; i < sweeps; i++) await mon.check();
    gc();
    const after = rssBytes();
    return {
      rssGrowthMiB: (after - before) / MiB / sweeps,
      rssBeforeMiB: before / MiB,
      rssAfterMiB: after / MiB,
      sweeps,
      baselineBytes: mon.baselineBytes(),
      baselinePages: mon.baselinePages(),
      bytesPerPage: mon.baselineBytes() / mon.baselinePages(),
      coverage: mon.coverageNow(),
    };
  } finally {
    mon.close();
  }
}
