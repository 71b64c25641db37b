// Scanner.hashFile (HashFileRange over ReadFileAt, the per-OS positioned file read): per-page
// digests of a file range equal hashPages of the same bytes, zero-padded past EOF; a bad fd is a
// rejected promise with the errno, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNative } from '../../dist/native.js';

const native = loadNative();
const PAGE = 4096;

test('hashFile digests match hashPages of the file bytes, zero-padded past EOF, at any page offset', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-hashfile-'));
  const scanner = new native.Scanner();
  try {
    const bytes = crypto.randomBytes(70 * PAGE + 123); // more than one 64-page batch, ends mid-page
    const f = path.join(dir, 'code.bin');
    fs.writeFileSync(f, bytes);
    const fd = fs.openSync(f, 'r');
    try {
      for (const mode of ['blake3', 'fast']) {
        for (const [offset, pages] of [[0, 71], [PAGE * 3, 68], [PAGE * 70, 2]]) {
          const got = await scanner.hashFile(fd, offset, pages * PAGE, mode);
          const ref = Buffer.alloc(pages * PAGE);
          bytes.copy(ref, 0, offset, Math.min(bytes.length, offset + pages * PAGE));
          const want = native.hashPages(ref, mode);
          if (mode === 'fast') for (let p = 0; p < pages; p++) want[p * 16 + 15] = 1; // the scanner's "known" marker
          assert.ok(got.equals(want), `${mode} digests of ${pages} pages at offset ${offset} differ from hashPages of the same bytes`);
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    scanner.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('hashFile on a closed fd rejects with EBADF', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-hashfile-'));
  const scanner = new native.Scanner();
  try {
    const f = path.join(dir, 'x.bin');
    fs.writeFileSync(f, Buffer.alloc(PAGE));
    const fd = fs.openSync(f, 'r');
    fs.closeSync(fd);
    await assert.rejects(scanner.hashFile(fd, 0, PAGE, 'blake3'), /errno 9\)/, 'a closed fd must reject with errno 9 (EBADF)');
  } finally {
    scanner.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
