// Sweep throughput: the Scanner (safe reads, one background thread) in both hash modes, against
// the unsafe direct-pointer sweep and the plain memory read-sum loop over the very same regions,
// and the hash-only speed of each backend on a resident buffer.
import * as crypto from 'node:crypto';
import { native, hooks, gbps, MiB } from './common.mjs';
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

/** Hash-only speed of every available backend on a resident (already touched) buffer. */
export function backendSpeeds(bufBytes, reps) {
  const buf = crypto.randomBytes(bufBytes);
  const out = [];
  const be = native.hashBackends();
  for (const [mode, names, active] of [['blake3', be.blake3, be.blake3Active], ['fast', be.crc32c, be.crc32cActive]]) {
    for (const name of names) {
      native.hashPages(buf.subarray(0, 64 * 4096), mode, name); // warm up
      let best = Infinity;
      for (let i = 0; i < reps; i++) {
        const t0 = process.hrtime.bigint();
        native.hashPages(buf, mode, name);
        best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
      }
      out.push({ mode, backend: name, active: name === active, gbps: gbps(bufBytes, best) });
    }
  }
  return out;
}

export { bytesOf, MiB };
