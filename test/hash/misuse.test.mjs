// Misuse of the hash bindings: wrong types and values raise TypeError/RangeError with exact messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, backends } from './native.mjs';

const page = new Uint8Array(4096);
const blake3List = backends.blake3.join(', ');
const crcList = backends.crc32c.join(', ');

test('data must be a Uint8Array', () => {
  for (const bad of ['abc', 42, null, undefined, [1, 2], new Uint16Array(4), new ArrayBuffer(8), new DataView(new ArrayBuffer(4))]) {
    assert.throws(() => native.blake3(bad), { name: 'TypeError', message: 'blake3: data must be a Uint8Array' }, `blake3(${String(bad)})`);
    assert.throws(() => native.hashPages(bad, 'blake3'), { name: 'TypeError', message: 'hashPages: data must be a Uint8Array' }, `hashPages(${String(bad)})`);
    assert.throws(() => native.crc32c(bad), { name: 'TypeError', message: 'crc32c: data must be a Uint8Array' }, `crc32c(${String(bad)})`);
  }
});

test('hashPages: length must be a multiple of 4096', () => {
  for (const len of [1, 4095, 4097, 8191]) {
    assert.throws(() => native.hashPages(new Uint8Array(len), 'blake3'),
      { name: 'RangeError', message: `hashPages: data length ${len} is not a multiple of 4096` }, `length ${len}`);
    assert.throws(() => native.hashPages(new Uint8Array(len), 'fast'),
      { name: 'RangeError', message: `hashPages: data length ${len} is not a multiple of 4096` }, `length ${len} (fast)`);
  }
});

test('hashPages: mode must be blake3 or fast', () => {
  assert.throws(() => native.hashPages(page, 'sha256'), { name: 'RangeError', message: "hashPages: mode must be 'blake3' or 'fast'" });
  assert.throws(() => native.hashPages(page, 1), { name: 'TypeError', message: "hashPages: mode must be 'blake3' or 'fast'" });
  assert.throws(() => native.hashPages(page), { name: 'TypeError', message: "hashPages: mode must be 'blake3' or 'fast'" });
});

test('unknown backends are RangeErrors listing the valid names', () => {
  // A backend of the other architecture is as unknown here as a made-up name.
  const foreign = process.arch === 'arm64' ? 'avx2' : 'neon';
  assert.throws(() => native.blake3(page, { backend: foreign }),
    { name: 'RangeError', message: `blake3: unknown blake3 backend "${foreign}" (available: ${blake3List})` });
  assert.throws(() => native.hashPages(page, 'blake3', 'sse42'),
    { name: 'RangeError', message: `hashPages: unknown blake3 backend "sse42" (available: ${blake3List})` });
  assert.throws(() => native.hashPages(page, 'fast', 'avx3'),
    { name: 'RangeError', message: `hashPages: unknown crc32c backend "avx3" (available: ${crcList})` });
  assert.throws(() => native.crc32c(page, 'x'),
    { name: 'RangeError', message: `crc32c: unknown crc32c backend "x" (available: ${crcList})` });
  assert.throws(() => native.crc32c(page, 5), { name: 'TypeError', message: 'crc32c: backend must be a string' });
  assert.throws(() => native.blake3(page, { backend: 5 }), { name: 'TypeError', message: 'blake3: backend must be a string' });
});

test('blake3 options are checked', () => {
  assert.throws(() => native.blake3(page, 'x'), { name: 'TypeError', message: 'blake3: options must be an object' });
  assert.throws(() => native.blake3(page, null), { name: 'TypeError', message: 'blake3: options must be an object' });
  assert.throws(() => native.blake3(page, { key: new Uint8Array(31) }), { name: 'RangeError', message: 'blake3: options.key must be 32 bytes long' });
  assert.throws(() => native.blake3(page, { key: 'k'.repeat(32) }), { name: 'TypeError', message: 'blake3: options.key must be a Uint8Array' });
  assert.throws(() => native.blake3(page, { context: 5 }), { name: 'TypeError', message: 'blake3: options.context must be a string' });
  assert.throws(() => native.blake3(page, { key: new Uint8Array(32), context: 'c' }),
    { name: 'TypeError', message: 'blake3: options.key and options.context cannot be used together' });
  for (const outLen of [-1, 1.5, 2 ** 24 + 1, NaN, Infinity]) {
    assert.throws(() => native.blake3(page, { outLen }),
      { name: 'RangeError', message: 'blake3: options.outLen must be an integer from 0 to 16777216' }, `outLen ${outLen}`);
  }
  assert.throws(() => native.blake3(page, { outLen: '32' }), { name: 'TypeError', message: 'blake3: options.outLen must be a number' });
  assert.equal(native.blake3(page, { outLen: 0 }).length, 0, 'outLen 0 must give an empty buffer');
});

test('results are plain values of the documented types', () => {
  assert.ok(Buffer.isBuffer(native.blake3(page)), 'blake3 returns a Buffer');
  assert.equal(native.blake3(page).length, 32, 'blake3 defaults to 32 bytes');
  assert.equal(typeof native.crc32c(page), 'number', 'crc32c returns a number');
  const b = native.hashBackends();
  assert.deepEqual(Object.keys(b).sort(), ['blake3', 'blake3Active', 'crc32c', 'crc32cActive'], 'hashBackends keys');
});

test('blake3Parts: the BLAKE3 of the parts concatenated, without concatenating; bad parts are TypeErrors', () => {
  const a = new Uint8Array(5000).map((_, i) => i & 0xff);
  const b = new Uint8Array(0);
  const c = new Uint8Array(70000).map((_, i) => (i * 7) & 0xff);
  assert.deepEqual(native.blake3Parts([a, b, c]), native.blake3(Buffer.concat([a, b, c])), 'three parts hash as their concatenation');
  assert.deepEqual(native.blake3Parts([]), native.blake3(new Uint8Array(0)), 'no parts: the empty input');
  assert.throws(() => native.blake3Parts(a), { name: 'TypeError', message: 'blake3Parts: parts must be an array of Uint8Array' });
  assert.throws(() => native.blake3Parts([a, 'x']), { name: 'TypeError', message: 'blake3Parts: each part must be a Uint8Array' });
});
