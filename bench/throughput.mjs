// Sweep throughput: the Scanner (safe reads, one background thread) in both hash modes, against
// the unsafe direct-pointer sweep and the plain memory read-sum loop over the very same regions.
// (The hash-only rows per backend are in hash-rows.mjs.)
import { hooks, gbps, MiB } from './common.mjs';
import { bytesOf } from './workload.mjs';

const plain = (regions) => regions.map((r) => ({ start: r.start, end: r.end }));

/** Best-of-`reps` Scanner sweep; seconds from the scanner's own clock (no JS marshalling). */
export async function safeSweep(scanner, regions, mode, batchPages, reps) {
  let best = Infinity;
  let bytes = 0;
  for (let i = 0; i < reps; i++) {
    const r = await scanner.sweep(plain(regions), { mode, residentOnly: false, batchPages });
    best = Math.min(best, r.elapsedNs / 1e9);
    bytes = r.bytesHashed;
  }
  return { seconds: best, bytes, gbps: gbps(bytes, best) };
}

export function unsafeSweep(regions, mode, batchPages, reps) {
  let best = Infinity;
  let bytes = 0;
  for (let i = 0; i < reps; i++) {
    const r = hooks.unsafeSweep(plain(regions), mode, batchPages);
    best = Math.min(best, r.ns / 1e9);
    bytes = r.bytes;
  }
  return { seconds: best, bytes, gbps: gbps(bytes, best) };
}

export function memReadSum(regions, reps) {
  let best = Infinity;
  let bytes = 0;
  for (let i = 0; i < reps; i++) {
    const r = hooks.memReadSum(plain(regions));
    best = Math.min(best, r.ns / 1e9);
    bytes = r.bytes;
  }
  return { seconds: best, bytes, gbps: gbps(bytes, best) };
}

/** Tries a few batch sizes for one mode; returns the best one and every result. */
export async function tuneBatch(scanner, regions, mode, candidates, reps) {
  const results = [];
  for (const b of candidates) results.push({ batchPages: b, ...(await safeSweep(scanner, regions, mode, b, reps)) });
  results.sort((a, b) => a.seconds - b.seconds);
  return { best: results[0], all: results.sort((a, b) => a.batchPages - b.batchPages) };
}

export { bytesOf, MiB };
