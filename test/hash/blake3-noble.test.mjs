// @noble/hashes (pure JS) as a second BLAKE3 oracle on seeded random inputs of many lengths,
// all three modes, on every backend; plus hashPages('blake3') against a per-page whole-message hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { native, backends, seededBytes, hex } from './native.mjs';

// Around block (64), chunk (1024), page (4096) and subtree (SIMD batch, 64-chunk) boundaries.
const lengths = [0, 1, 2, 31, 32, 63, 64, 65, 127, 128, 129, 1000, 1023, 1024, 1025, 2047, 2048, 2049,
  3072, 3073, 4095, 4096, 4097, 5120, 8192, 8193, 16383, 16384, 16385, 32769, 65535, 65536, 65537,
  100000, 131073, 262144 + 1024 + 5];
const context = 'procguard 2025-01-01 test derive_key context';
const contextBytes = new TextEncoder().encode(context);

for (const backend of backends.blake3) {
  test(`noble agrees on random inputs, backend ${backend}`, () => {
    for (const len of lengths) {
      const data = seededBytes(len, len + 1);
      const key = seededBytes(32, len + 7);
      const outLen = 1 + (len % 97);
      const where = `(backend ${backend}, length ${len})`;
      assert.equal(hex(native.blake3(data, { backend })), hex(nobleBlake3(data)), `hash ${where}`);
      assert.equal(hex(native.blake3(data, { backend, outLen })), hex(nobleBlake3(data, { dkLen: outLen })),
        `hash with outLen ${outLen} ${where}`);
      assert.equal(hex(native.blake3(data, { backend, key })), hex(nobleBlake3(data, { key })), `keyed_hash ${where}`);
      assert.equal(hex(native.blake3(data, { backend, context })), hex(nobleBlake3(data, { context: contextBytes })),
        `derive_key ${where}`);
    }
  });

  test(`inputs at unaligned addresses, backend ${backend}`, () => {
    const big = seededBytes(20000, 99);
    for (const offset of [1, 3, 7, 33]) {
      const view = big.subarray(offset, offset + 9000);
      assert.equal(hex(native.blake3(view, { backend })), hex(nobleBlake3(view)), `offset ${offset} (backend ${backend})`);
    }
  });
}

// The per-page reference: each page hashed as its own message, first 16 bytes kept.
function referencePages(buf) {
  const out = [];
  for (let i = 0; i < buf.length; i += 4096) out.push(hex(nobleBlake3(buf.subarray(i, i + 4096)).subarray(0, 16)));
  return out;
}

const pool = seededBytes(141 * 4096, 4242);
// Pages that are all zeros or all ones inside the pool, so identical pages sit in one SIMD batch.
pool.fill(0, 10 * 4096, 13 * 4096);
pool.fill(0xff, 13 * 4096, 14 * 4096);
const aligned = new Uint8Array(140 * 4096);
aligned.set(pool.subarray(0, 140 * 4096));
const unaligned = pool.subarray(5, 5 + 140 * 4096); // a view at an odd address
const refAligned = referencePages(aligned);
const refUnaligned = referencePages(unaligned);

for (const backend of backends.blake3) {
  test(`hashPages('blake3') per page equals the whole-message hash, 1..70 pages, backend ${backend}`, () => {
    for (let n = 1; n <= 70; n++) {
      const start = (n * 13) % 71;
      for (const [name, buf, ref] of [['aligned', aligned, refAligned], ['unaligned', unaligned, refUnaligned]]) {
        const out = native.hashPages(buf.subarray(start * 4096, (start + n) * 4096), 'blake3', backend);
        assert.equal(out.length, 16 * n, `digest buffer length for ${n} pages (backend ${backend})`);
        for (let p = 0; p < n; p++) {
          assert.equal(hex(out.subarray(16 * p, 16 * p + 16)), ref[start + p],
            `page ${p} of ${n} starting at pool page ${start}, ${name} (backend ${backend})`);
        }
      }
    }
  });
}

test('hashPages of zero pages is an empty buffer', () => {
  assert.equal(native.hashPages(new Uint8Array(0), 'blake3').length, 0, 'blake3: expected no digests');
  assert.equal(native.hashPages(new Uint8Array(0), 'fast').length, 0, 'fast: expected no digests');
});

test('hashPages(blake3): a flipped bit changes exactly that page\'s digest', () => {
  const buf = seededBytes(8 * 4096, 7);
  const base = native.hashPages(buf, 'blake3');
  let seed = 12345;
  for (let i = 0; i < 200; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const bit = seed % (buf.length * 8);
    buf[bit >> 3] ^= 1 << (bit & 7);
    const flipped = native.hashPages(buf, 'blake3');
    buf[bit >> 3] ^= 1 << (bit & 7);
    const page = Math.floor((bit >> 3) / 4096);
    for (let p = 0; p < 8; p++) {
      const same = base.subarray(16 * p, 16 * p + 16).equals(flipped.subarray(16 * p, 16 * p + 16));
      assert.equal(same, p !== page, `bit ${bit} (page ${page}): digest of page ${p} ${same ? 'unchanged' : 'changed'}`);
    }
  }
});
