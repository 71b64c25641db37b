// setHashBackends(): the process-wide kernels the engine hashes with (the benchmark's per-route rows).
// Every backend the CPU has is made active in turn; the addon's and the engine's own threads must
// give the same page digests; bad names change nothing. Own process (node --test), so the
// switch does not leak into other files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native, backends } from './native.mjs';

const dispatched = { blake3: backends.blake3Active, crc32c: backends.crc32cActive };

test('each available CRC32C and BLAKE3 backend can be made active and digests pages the same', () => {
  const data = new Uint8Array(16 * 4096).map((_, i) => (i * 131 + 7) & 0xff);
  for (const [mode, family] of [['fast', 'crc32c'], ['blake3', 'blake3']]) {
    const want = native.hashPages(data, mode); // the dispatched kernel
    for (const name of backends[family]) {
      const after = native.setHashBackends({ [family]: name });
      assert.equal(after[`${family}Active`], name, `setHashBackends({ ${family}: '${name}' }) must make it active`);
      assert.deepEqual(native.hashPages(data, mode), want, `${family} ${name} must digest pages as the dispatched kernel does`);
    }
    native.setHashBackends({ [family]: dispatched[family] });
  }
  assert.deepEqual(native.hashBackends(), backends, 'restored to the dispatched kernels');
});

test("the engine's own threads hash with the kernel made active (Scanner.hashFile), to the same digests", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-routes-'));
  const file = path.join(dir, 'code.bin');
  const bytes = Buffer.alloc(8 * 4096);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 12)) & 0xff;
  fs.writeFileSync(file, bytes);
  const fd = fs.openSync(file, 'r');
  const scanner = new native.Scanner();
  try {
    // The engine's digest records carry their own flags, so they are compared with the engine's
    // answer under the dispatched kernel (and its CRC words with hashPages').
    const want = await scanner.hashFile(fd, 0, bytes.length, 'fast');
    const crcWords = (d) => Array.from({ length: d.length / 16 }, (_, i) => Buffer.from(d).readUInt32LE(i * 16));
    assert.deepEqual(crcWords(want), crcWords(native.hashPages(bytes, 'fast')), "the engine's CRC32C words are the pages' CRC32C");
    for (const name of backends.crc32c) {
      native.setHashBackends({ crc32c: name });
      const got = await scanner.hashFile(fd, 0, bytes.length, 'fast');
      assert.deepEqual(Buffer.from(got), Buffer.from(want), `crc32c ${name}: the engine's digests of the file`);
    }
  } finally {
    native.setHashBackends({ crc32c: dispatched.crc32c });
    scanner.close();
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad name is a RangeError or TypeError and changes neither kernel', () => {
  const before = native.hashBackends();
  assert.throws(() => native.setHashBackends({ crc32c: 'nope' }), { name: 'RangeError', message: /unknown crc32c backend "nope" \(available: / });
  assert.throws(() => native.setHashBackends({ blake3: backends.blake3[0], crc32c: 'nope' }), RangeError, 'one bad name: nothing is set');
  assert.throws(() => native.setHashBackends({ blake3: 5 }), { name: 'TypeError', message: 'setHashBackends: backend must be a string' });
  assert.throws(() => native.setHashBackends('avx2'), { name: 'TypeError', message: 'setHashBackends: options must be an object' });
  assert.deepEqual(native.hashBackends(), before, 'no kernel changed');
});
