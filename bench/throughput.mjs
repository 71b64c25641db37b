// Sweep throughput: the engine's pass (what a Guard runs: safe reads, one background thread) and
// the plain Scanner.sweep (process_vm_readv of every page) in both hash modes, against the unsafe
// direct-pointer sweep and the plain memory read-sum loop over the very same regions.
// (The hash-only rows per backend are in hash-rows.mjs.)
import * as fs from 'node:fs';
import { hooks, native, gbps, MiB } from './common.mjs';
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

/**
 * Best-of-`reps` engine pass over the workload mapping with its file adopted, as the code monitor
 * runs it: the first pass takes the baseline (pread), the timed ones compare against it, hashing
 * present page-cache pages in place under a read lease (native/memory/file_view.h). Seconds from the
 * engine's own clock.
 */
export async function enginePass(region, file, mode, reps) {
  const pm = native.openPagemap(); // as Guard.prepare() does: the pass routes pages by pagemap
  if (!pm.ok) throw new Error(`bench: /proc/self/pagemap cannot be opened: ${pm.detail}`);
  const real = fs.realpathSync(file);
  const line = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').find((l) => l.endsWith(` ${real}`));
  if (!line) throw new Error(`bench: the workload ${real} is not in /proc/self/maps`);
  const [, , , dev, inode] = line.split(/\s+/);
  const fileKey = `${dev}:${inode}`; // the engine's key, as the maps show it
  const fd = fs.openSync(file, 'r');
  const scanner = new native.Scanner(); // its own baseline store: one per hash mode
  try {
    const adopted = scanner.adoptFile(fileKey, fd);
    if (!adopted.ok) throw new Error(`bench: the engine cannot adopt the workload file (errno ${adopted.errno})`);
    const regions = [{ start: region.start, end: region.end, fileKey, fileOffset: 0, compareDisk: true }];
    await scanner.pass(regions, { mode }); // the baseline
    await scanner.pass(regions, { mode }); // maps the view's page tables once (see file_view.h)
    let best = Infinity;
    let r;
    for (let i = 0; i < reps; i++) {
      r = await scanner.pass(regions, { mode });
      if (r.changes.length) throw new Error('bench: the engine pass reported a change in the unchanged workload');
      best = Math.min(best, r.elapsedNs / 1e9);
    }
    return { seconds: best, bytes: r.bytesHashed, gbps: gbps(r.bytesHashed, best), inPlaceBytes: r.viewBytes, copiedBytes: r.fileReadBytes };
  } finally {
    scanner.close();
    fs.closeSync(fd);
  }
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
