// CRC32C (Castagnoli): RFC 3720 check values, a bitwise JS reference on seeded random inputs, and
// hashPages('fast') per page, on every CRC32C backend this CPU supports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, backends, seededBytes } from './native.mjs';

/** Bit-at-a-time CRC32C, straight from the definition (reflected polynomial 0x82F63B78). */
function crc32cRef(data) {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (crc & 1 ? 0x82f63b78 : 0);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
const hex32 = (n) => `0x${n.toString(16).padStart(8, '0')}`;

const rfc3720 = [
  ['32 zero bytes', new Uint8Array(32), 0x8a9136aa],
  ['32 bytes of 0xFF', new Uint8Array(32).fill(0xff), 0x62a8ab43],
  ['32 ascending bytes 0..31', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
  ['32 descending bytes 31..0', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
  ['"123456789"', new TextEncoder().encode('123456789'), 0xe3069283],
  ['empty input', new Uint8Array(0), 0],
];

test('the JS reference itself matches the RFC 3720 values', () => {
  for (const [name, data, want] of rfc3720) assert.equal(hex32(crc32cRef(data)), hex32(want), `reference on ${name}`);
});

const lengths = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 63, 64, 100, 255, 256, 1000, 1359, 1360, 1361, 4080,
  4095, 4096, 4097, 8191, 12288, 20000, 65536 + 3];

// 141 pages with a zero page and an all-ones page among random ones; the bitwise reference of each
// page is computed once, for a page-aligned copy and for a view at an odd address.
const pagePoolBytes = seededBytes(142 * 4096, 77);
pagePoolBytes.fill(0, 4096 * 3, 4096 * 4);
pagePoolBytes.fill(0xff, 4096 * 9, 4096 * 10);
const pagePool = new Uint8Array(141 * 4096);
pagePool.set(pagePoolBytes.subarray(0, 141 * 4096));
const pagePoolUnaligned = pagePoolBytes.subarray(3, 3 + 141 * 4096);
const refPages = (buf) => Array.from({ length: 141 }, (_, i) => crc32cRef(buf.subarray(i * 4096, (i + 1) * 4096)));
const pageRefAligned = refPages(pagePool);
const pageRefUnaligned = refPages(pagePoolUnaligned);

for (const backend of backends.crc32c) {
  test(`RFC 3720 B.4 check values, backend ${backend}`, () => {
    for (const [name, data, want] of rfc3720) {
      const got = native.crc32c(data, backend);
      assert.equal(hex32(got), hex32(want), `${name} (backend ${backend})`);
    }
  });

  test(`bitwise reference on random inputs and unaligned views, backend ${backend}`, () => {
    const pool = seededBytes(70000, 31337);
    for (const len of lengths) {
      for (const offset of [0, 1, 5]) {
        const data = pool.subarray(offset, offset + len);
        const got = native.crc32c(data, backend);
        assert.ok(Number.isInteger(got) && got >= 0 && got <= 0xffffffff, `crc32c must be a uint32, got ${got}`);
        assert.equal(hex32(got), hex32(crc32cRef(data)), `length ${len} at offset ${offset} (backend ${backend})`);
      }
    }
  });

  test(`hashPages('fast') per page equals crc32c of the page, 1..70 pages, backend ${backend}`, () => {
    for (const [name, buf, ref] of [['aligned', pagePool, pageRefAligned], ['unaligned', pagePoolUnaligned, pageRefUnaligned]]) {
      for (let n = 1; n <= 70; n++) {
        const start = (n * 7) % 71;
        const out = native.hashPages(buf.subarray(start * 4096, (start + n) * 4096), 'fast', backend);
        assert.equal(out.length, 16 * n, `digest length for ${n} pages`);
        for (let p = 0; p < n; p++) {
          const digest = out.subarray(16 * p, 16 * p + 16);
          assert.equal(hex32(digest.readUInt32LE(0)), hex32(ref[start + p]),
            `page ${p} of ${n} from pool page ${start}, ${name} (backend ${backend})`);
          assert.ok(digest.subarray(4).every((b) => b === 0), `digest bytes 4..15 of page ${p} must be zero (backend ${backend})`);
        }
      }
    }
  });

  test(`a single flipped bit always changes the page digest, backend ${backend}`, () => {
    const page = seededBytes(4096, 2024);
    const base = native.hashPages(page, 'fast', backend);
    let seed = 987654321;
    for (let i = 0; i < 400; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const bit = seed % (4096 * 8);
      page[bit >> 3] ^= 1 << (bit & 7);
      const flipped = native.hashPages(page, 'fast', backend);
      page[bit >> 3] ^= 1 << (bit & 7);
      assert.notDeepEqual(flipped, base, `flipping bit ${bit} did not change the digest (backend ${backend})`);
    }
    assert.deepEqual(native.hashPages(page, 'fast', backend), base, 'restoring every bit must restore the digest');
  });
}

// The default is the fastest kernel the CPU has: the list is ordered slowest to fastest per page and
// the default is its last entry. x86-64 Linux: the expected list follows from /proc/cpuinfo's flags
// (the folding kernels beat the crc32 streams; avx2 without AVX-512 was picked wrongly before).
test('CRC32C dispatch lists backends slowest to fastest and defaults to the fastest this CPU has', async () => {
  assert.equal(backends.crc32c[0], 'portable', `portable must be listed first: ${backends.crc32c}`);
  assert.equal(backends.crc32cActive, backends.crc32c.at(-1), `default ${backends.crc32cActive} is not the last of ${backends.crc32c}`);
  if (process.platform !== 'linux' || process.arch !== 'x64') return;
  const { readFileSync } = await import('node:fs');
  const flagLine = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
  assert.ok(flagLine, '/proc/cpuinfo has no flags line');
  const has = new Set(flagLine.split(':')[1].trim().split(/\s+/));
  const streams = has.has('sse4_2') && has.has('pclmulqdq');
  const fold256 = streams && has.has('avx2') && has.has('vpclmulqdq');
  const fold512 = fold256 && ['avx512f', 'avx512bw', 'avx512vl'].every((f) => has.has(f));
  const want = ['portable', ...(streams ? ['sse42'] : []), ...(fold256 ? ['avx2'] : []), ...(fold512 ? ['avx512'] : [])];
  // The addon also asks XGETBV whether the OS saves YMM/ZMM state; the kernel's flags already reflect that.
  assert.deepEqual(backends.crc32c, want, `CRC32C backends for CPU flags (sse4_2/pclmulqdq/avx2/vpclmulqdq/avx512*): got ${backends.crc32c}, want ${want}`);
});
