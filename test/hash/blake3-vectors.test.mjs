// The official BLAKE3 test vectors (hash, keyed_hash, derive_key; 131-byte extended outputs and the
// default 32-byte prefix), checked on every BLAKE3 backend this CPU supports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { native, backends, root, hex } from './native.mjs';

const vectors = JSON.parse(readFileSync(path.join(root, 'test', 'fixtures', 'blake3-test-vectors.json'), 'utf8'));
const key = new TextEncoder().encode(vectors.key);
const context = vectors.context_string;

function input(len) {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = i % 251;
  return out;
}

test('the fixture is the official vector set', () => {
  assert.equal(vectors.cases.length, 35, 'expected 35 official cases');
  assert.equal(key.length, 32, 'the keyed_hash key must be 32 bytes');
  assert.ok(vectors.cases.some((c) => c.input_len === 102400), 'the 102400-byte case is missing');
});

test('backends: portable is always present and the active one is listed', () => {
  assert.ok(backends.blake3.includes('portable'), `blake3 backends ${backends.blake3} lack portable`);
  assert.ok(backends.blake3.includes(backends.blake3Active), `active ${backends.blake3Active} not listed`);
  assert.ok(backends.crc32c.includes('portable'), `crc32c backends ${backends.crc32c} lack portable`);
  assert.ok(backends.crc32c.includes(backends.crc32cActive), `active ${backends.crc32cActive} not listed`);
});

for (const backend of backends.blake3) {
  test(`official vectors, backend ${backend}`, () => {
    for (const c of vectors.cases) {
      const data = input(c.input_len);
      const where = `(backend ${backend}, input_len ${c.input_len})`;
      const full = c.hash.length / 2;
      assert.equal(hex(native.blake3(data, { outLen: full, backend })), c.hash, `hash ${where}`);
      assert.equal(hex(native.blake3(data, { backend })), c.hash.slice(0, 64), `hash default 32 bytes ${where}`);
      assert.equal(hex(native.blake3(data, { key, outLen: full, backend })), c.keyed_hash, `keyed_hash ${where}`);
      assert.equal(hex(native.blake3(data, { key, backend })), c.keyed_hash.slice(0, 64), `keyed_hash 32 bytes ${where}`);
      assert.equal(hex(native.blake3(data, { context, outLen: full, backend })), c.derive_key, `derive_key ${where}`);
      assert.equal(hex(native.blake3(data, { context, backend })), c.derive_key.slice(0, 64), `derive_key 32 bytes ${where}`);
    }
  });
}

test('extended output: every length is a prefix of the longest', () => {
  const data = input(3073);
  const long = hex(native.blake3(data, { outLen: 300 }));
  for (let n = 0; n <= 300; n += 7) {
    assert.equal(hex(native.blake3(data, { outLen: n })), long.slice(0, 2 * n), `outLen ${n} is not a prefix`);
  }
});
