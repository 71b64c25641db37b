// The manifest stays small: a code-heavy 300 MiB app folder (three copies of the node binary, whose
// executable pages all get run digests) gives a manifest of a few tens of KiB, far under the
// "few hundred KiB for 300 MiB" budget of docs/manifest.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { m, keys, APP } from './helpers.mjs';

const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : undefined;

test('a 300 MiB app folder with its code digested has a manifest under 300 KiB', async () => {
  const dir = fs.mkdtempSync(path.join(shm ?? (await import('node:os')).tmpdir(), 'pg-size-'));
  try {
    const exe = fs.statSync(process.execPath).size;
    const copies = Math.max(1, Math.floor((300 * 1048576) / exe));
    for (let i = 0; i < copies; i++) fs.copyFileSync(process.execPath, path.join(dir, `bin${i}`));
    const k = await keys();
    const r = await m.createManifest(dir, { secretKey: k.secretKey, app: APP, out: path.join(dir, 'm.json'), threads: 2 });
    const total = copies * exe;
    const code = r.manifest.files.reduce((n, f) => n + (f.code ?? []).reduce((a, c) => a + c.size, 0), 0);
    const size = fs.statSync(r.manifestPath).size;
    const per300 = (size * 300 * 1048576) / total;
    assert.ok(code > 10 * 1048576, `the folder holds real code with run digests: ${code} bytes`);
    assert.ok(per300 < 300 * 1024, `manifest ${size} bytes for ${(total / 1048576).toFixed(0)} MiB (${(per300 / 1024).toFixed(1)} KiB per 300 MiB; ${(code / 1048576).toFixed(0)} MiB of code)`);
    // 16 bytes of run digest per 64 KiB of code, base64: the bulk of the document.
    assert.ok(size < (code / 65536) * 16 * 1.4 + 4096, `size follows the code: ${size} bytes for ${code} bytes of code`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
