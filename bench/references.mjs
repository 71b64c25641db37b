// Reference rows on the same bytes: b3sum (the official BLAKE3 tool, one thread, no mmap, on the
// tmpfs file), node:crypto SHA-256, @noble/hashes BLAKE3 (pure JS) and the `crc` package's crc32.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { blake3 } from '@noble/hashes/blake3.js';
import crc32 from 'crc/crc32';
import { native, gbps, MiB } from './common.mjs';

/** Best wall time of `b3sum --num-threads 1 --no-mmap file`; null when b3sum is not installed. */
export function b3sum(file, bytes, reps) {
  const probe = spawnSync('b3sum', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { available: false, version: null, gbps: null, seconds: null };
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('b3sum', ['--num-threads', '1', '--no-mmap', file], { encoding: 'utf8' });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`b3sum failed: ${r.stderr}`);
    best = Math.min(best, s);
  }
  return { available: true, version: probe.stdout.trim(), gbps: gbps(bytes, best), seconds: best };
}

/** Feeds `bytes` of the mapped workload (read in 8 MiB chunks) to `update`; times only the hashing. */
function overWorkload(region, bytes, update) {
  const chunk = 8 * MiB;
  let seconds = 0;
  for (let off = 0; off < bytes; off += chunk) {
    const n = Math.min(chunk, bytes - off);
    const buf = native.readMemory(region.start + BigInt(off), n);
    if (!buf || buf.length !== n) throw new Error('bench: cannot read the workload mapping');
    const t0 = process.hrtime.bigint();
    update(buf);
    seconds += Number(process.hrtime.bigint() - t0) / 1e9;
  }
  return seconds;
}

export function sha256(region, bytes) {
  const h = crypto.createHash('sha256');
  const s = overWorkload(region, bytes, (b) => h.update(b));
  h.digest();
  return { gbps: gbps(bytes, s), bytes };
}

export function nobleBlake3(region, sliceBytes) {
  const h = blake3.create();
  const s = overWorkload(region, sliceBytes, (b) => h.update(b));
  h.digest();
  return { gbps: gbps(sliceBytes, s), bytes: sliceBytes };
}

export function crcCrc32(region, sliceBytes) {
  let c;
  const s = overWorkload(region, sliceBytes, (b) => {
    c = crc32(b, c);
  });
  return { gbps: gbps(sliceBytes, s), bytes: sliceBytes };
}
