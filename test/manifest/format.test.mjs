// The manifest document, its keys and its signature: what is accepted, what is refused, and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { m, tmpdir, keys, APP } from './helpers.mjs';

async function smallApp() {
  const dir = tmpdir();
  fs.mkdirSync(path.join(dir, 'resources'));
  fs.copyFileSync('/bin/true', path.join(dir, 'app'));
  fs.writeFileSync(path.join(dir, 'resources', 'app.asar'), Buffer.alloc(9000, 7));
  fs.symlinkSync('app', path.join(dir, 'app-link'));
  return dir;
}

test('keygen writes PEM keys that OpenSSL reads as Ed25519, and refuses to overwrite them', async () => {
  const k = await keys();
  const priv = spawnSync('openssl', ['pkey', '-in', k.privateKey, '-noout', '-text'], { encoding: 'utf8' });
  assert.equal(priv.status, 0, `openssl cannot read the private key: ${priv.stderr}`);
  assert.match(priv.stdout, /ED25519 Private-Key/);
  const pub = spawnSync('openssl', ['pkey', '-pubin', '-in', k.publicKey, '-noout', '-text'], { encoding: 'utf8' });
  assert.equal(pub.status, 0, `openssl cannot read the public key: ${pub.stderr}`);
  assert.equal((fs.statSync(k.privateKey).mode & 0o077), 0, 'the private key is readable by its owner only');
  assert.deepEqual(Buffer.from(await m.publicKeyOf(k.secretKey)), Buffer.from(k.pubKey), 'the public key belongs to the private key');
  await assert.rejects(m.writeKeyPair(path.dirname(k.privateKey)), /EEXIST/, 'an existing key is never overwritten');
});

test('keys: raw 32 bytes are accepted; a public key where a private one is needed, RSA, and junk are typed errors', () => {
  const dir = tmpdir();
  const raw = path.join(dir, 'raw.key');
  fs.writeFileSync(raw, Buffer.alloc(32, 3));
  assert.equal(m.readKeyFile(raw, 'public').length, 32);
  const rsa = path.join(dir, 'rsa.pem');
  assert.equal(spawnSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', rsa]).status, 0);
  assert.throws(() => m.readKeyFile(rsa, 'private'), (e) => e.code === 'ERR_MANIFEST_KEY' && /not Ed25519/.test(e.message), 'RSA refused by name');
  const junk = path.join(dir, 'junk');
  fs.writeFileSync(junk, 'hello');
  assert.throws(() => m.readKeyFile(junk, 'public'), (e) => e.code === 'ERR_MANIFEST_KEY');
  assert.throws(() => m.readKeyFile(path.join(dir, 'none'), 'public'), (e) => e.code === 'ERR_MANIFEST_KEY' && /ENOENT/.test(e.message));
});

test('create then verify: every file listed with kind and digest, the ELF with its code pages, and the folder matches', async () => {
  const k = await keys();
  const dir = await smallApp();
  const r = await m.createManifest(dir, { secretKey: k.secretKey, app: APP });
  assert.equal(r.manifestPath, path.join(dir, 'resources', 'procguard-manifest.json'), 'written into the resources folder');
  const { manifest } = await m.loadSigned(r.manifestPath, k.pubKey);
  assert.deepEqual(manifest.files.map((f) => [f.path, f.kind]), [['app', 'elf'], ['app-link', 'symlink'], ['resources/app.asar', 'asar']]);
  assert.deepEqual(manifest.excluded, ['resources/procguard-manifest.json', 'resources/procguard-manifest.json.sig']);
  const elf = manifest.files[0];
  assert.ok(elf.code?.length >= 1 && elf.code.every((c) => c.offset % 4096 === 0), `page-aligned code ranges: ${JSON.stringify(elf.code)}`);
  const report = await m.verifyApp(dir, manifest);
  assert.deepEqual(report.differences, [], 'an untouched app has no differences');
  assert.equal(report.state, 'match');
  assert.equal(report.filesChecked, 3);
});

test('verify lists every difference: changed code located to its 64 KiB run, size, missing, retargeted link, unlisted code', async () => {
  const k = await keys();
  const dir = await smallApp();
  const r = await m.createManifest(dir, { secretKey: k.secretKey, app: APP });
  const { manifest } = await m.loadSigned(r.manifestPath, k.pubKey);
  const code = manifest.files[0].code[0];
  const fd = fs.openSync(path.join(dir, 'app'), 'r+');
  fs.writeSync(fd, Buffer.from([0xcc]), 0, 1, code.offset + 100);
  fs.closeSync(fd);
  fs.appendFileSync(path.join(dir, 'resources', 'app.asar'), 'x');
  fs.rmSync(path.join(dir, 'app-link'));
  fs.symlinkSync('/bin/sh', path.join(dir, 'app-link'));
  fs.writeFileSync(path.join(dir, 'resources', 'notes.txt'), 'data is not code');
  fs.writeFileSync(path.join(dir, 'libinject.so'), 'x');
  const report = await m.verifyApp(dir, manifest);
  const by = Object.fromEntries(report.differences.map((d) => [d.path, d]));
  assert.equal(report.state, 'differs');
  assert.equal(by.app?.reason, 'content', JSON.stringify(report.differences));
  assert.deepEqual(by.app.code, [{ offset: code.offset, size: Math.min(65536, code.size) }], 'located to the first code run');
  assert.equal(by['resources/app.asar']?.reason, 'size');
  assert.equal(by['app-link']?.reason, 'content');
  assert.equal(by['libinject.so']?.kind, 'file-not-in-manifest');
  assert.equal(by['resources/notes.txt'], undefined, 'an unlisted data file is not a finding');
  fs.rmSync(path.join(dir, 'app'));
  const again = await m.verifyApp(dir, manifest);
  assert.ok(again.differences.some((d) => d.kind === 'file-missing' && d.path === 'app'), 'a removed file is file-missing');
});

test('the signature is checked first: a flipped signature byte, another key, an edited manifest and a missing .sig are manifest-invalid', async () => {
  const k = await keys();
  const other = await keys();
  const dir = await smallApp();
  const r = await m.createManifest(dir, { secretKey: k.secretKey, app: APP });
  await m.loadSigned(r.manifestPath, k.pubKey);
  await assert.rejects(m.loadSigned(r.manifestPath, other.pubKey), (e) => e.code === 'ERR_MANIFEST_INVALID' && e.reason === 'bad-signature');
  const sig = Buffer.from(fs.readFileSync(r.signaturePath, 'utf8').trim(), 'base64');
  sig[10] ^= 1;
  fs.writeFileSync(r.signaturePath, sig.toString('base64'));
  await assert.rejects(m.loadSigned(r.manifestPath, k.pubKey), (e) => e.reason === 'bad-signature', 'a flipped signature byte');
  await m.createManifest(dir, { secretKey: k.secretKey, app: APP });
  fs.writeFileSync(r.manifestPath, fs.readFileSync(r.manifestPath, 'utf8').replace('"1.2.3"', '"1.2.4"'));
  await assert.rejects(m.loadSigned(r.manifestPath, k.pubKey), (e) => e.reason === 'bad-signature', 'an edited manifest');
  fs.rmSync(r.signaturePath);
  await assert.rejects(m.loadSigned(r.manifestPath, k.pubKey), (e) => e.reason === 'missing');
});

test('parseManifest refuses paths that leave the app folder, duplicates, bad digests and other versions', () => {
  const base = { format: 'procguard-manifest', version: 1, digestScheme: 'blake3-pages-v1', runPages: 16, app: APP, createdAt: 'x', excluded: [], files: [] };
  const file = { path: 'a', kind: 'data', rule: 'whole', size: 1, digest: Buffer.alloc(32).toString('base64') };
  assert.equal(m.parseManifest(JSON.stringify({ ...base, files: [file] })).files.length, 1);
  for (const [why, doc, re] of [
    ['..', { ...base, files: [{ ...file, path: '../etc/passwd' }] }, /not a relative path/],
    ['absolute', { ...base, files: [{ ...file, path: '/etc/passwd' }] }, /not a relative path/],
    ['duplicate', { ...base, files: [file, file] }, /twice/],
    ['short digest', { ...base, files: [{ ...file, digest: 'AAAA' }] }, /32 bytes/],
    ['runs length', { ...base, files: [{ ...file, code: [{ offset: 0, size: 70000, runs: Buffer.alloc(16).toString('base64') }] }] }, /must hold 32 bytes/],
    ['kind', { ...base, files: [{ ...file, kind: 'exe' }] }, /unknown/],
  ]) assert.throws(() => m.parseManifest(JSON.stringify(doc)), (e) => e.code === 'ERR_MANIFEST_INVALID' && re.test(e.message), why);
  assert.throws(() => m.parseManifest(JSON.stringify({ ...base, version: 2 })), (e) => e.reason === 'unsupported-version');
  assert.throws(() => m.parseManifest('{'), (e) => e.reason === 'malformed');
});

test('verify of a folder that does not exist is a typed input error', async () => {
  const manifest = m.parseManifest(JSON.stringify({ format: 'procguard-manifest', version: 1, digestScheme: 'blake3-pages-v1', runPages: 16, app: APP, createdAt: 'x', excluded: [], files: [] }));
  await assert.rejects(m.verifyApp('/nonexistent/app', manifest), (e) => e.code === 'ERR_MANIFEST_INPUT');
});

test('code runs are made of the engine page digests: BLAKE3 of 16 native hashPages slots, keyed by file offset', async () => {
  const { createRequire } = await import('node:module');
  const native = createRequire(import.meta.url)('../../dist/native.js').loadNative();
  const k = await keys();
  const dir = await smallApp();
  const r = await m.createManifest(dir, { secretKey: k.secretKey, app: APP });
  const code = r.manifest.files[0].code[0];
  const bytes = fs.readFileSync(path.join(dir, 'app'));
  const region = Buffer.alloc(Math.ceil(code.size / 4096) * 4096);
  bytes.copy(region, 0, code.offset, code.offset + code.size);
  const pages = native.hashPages(region, 'blake3');
  const runs = Buffer.from(code.runs, 'base64');
  for (let i = 0; i * 16 < runs.length; i++) {
    const expect = native.blake3(pages.subarray(i * 256, Math.min(pages.length, (i + 1) * 256)), { outLen: 16 });
    assert.deepEqual(runs.subarray(i * 16, i * 16 + 16), expect, `run ${i} is BLAKE3 of the engine's digests of its pages`);
  }
});
