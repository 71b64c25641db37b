// A new Guard's first full check() (what every app pays at start: discovery, the baseline of every
// page, the on-disk comparison) against b3sum --num-threads 1 --no-mmap in the same run. The Guard
// covers the workload and the process's own code (~282 MiB); b3sum reads the workload file. Both
// are compared as throughput (bytes hashed / wall time): b3sum cannot read this process's memory,
// so "the same bytes" are the same kind of bytes, from page cache, at the same size order.
import { lib, native, gbps } from './common.mjs';

/** Best of `reps` first checks, each by a fresh Guard (empty baseline, its own scanner). */
export async function firstCheckVsB3sum(b3, reps) {
  let best = null;
  for (let i = 0; i < reps; i++) {
    const g = new lib.Guard({ kernel: false, launch: false, sentinelMs: 0 });
    g.prepare(); // pagemap before anything: the read path that hashes a page-cache page once
    const t0 = process.hrtime.bigint();
    const status = await g.check();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    g.stop();
    const bytes = status.coverage.hashedBytes;
    if (!best || bytes / seconds > best.bytes / best.seconds) best = { seconds, bytes, coverage: status.coverage };
  }
  const firstGbps = gbps(best.bytes, best.seconds);
  // How first passes read page-cache pages here: the engine timed the in-place view against a copy.
  const firstRead = native.firstReadChoice();
  return { ...best, gbps: firstGbps, ratio: b3.available ? firstGbps / b3.gbps : null, firstRead };
}
