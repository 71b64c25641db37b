// The signed manifest on the Windows build (docs/manifest.md): keygen, create and verify through the
// CLI on an app folder holding a real PE (a copy of this node.exe), the native page hashing through
// a CRT fd, and a Guard with the `manifest` option (no inotify here: the listing check re-verifies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { root, skipOffWindows } from './helpers.mjs';

const cli = path.join(root, 'dist', 'cli.js');
const run = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 300000 });

function appFolder() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-win-manifest-'));
  fs.mkdirSync(path.join(dir, 'resources'));
  fs.copyFileSync(process.execPath, path.join(dir, 'app.exe'));
  fs.writeFileSync(path.join(dir, 'resources', 'app.asar'), Buffer.alloc(70000, 4));
  return dir;
}

test('manifest CLI on Windows: a PE app folder matches; a byte in .text is located; a dropped version.dll is listed', { skip: skipOffWindows }, () => {
  const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-win-keys-'));
  assert.equal(run('manifest', 'keygen', '--out', keys).status, 0);
  const dir = appFolder();
  const c = run('manifest', 'create', dir, '--key', path.join(keys, 'manifest-private.pem'), '--threads', '1');
  assert.equal(c.status, 0, c.stderr);
  const doc = JSON.parse(fs.readFileSync(path.join(dir, 'resources', 'procguard-manifest.json'), 'utf8'));
  const exe = doc.files.find((f) => f.path === 'app.exe');
  assert.equal(exe.rule, 'pe-authenticode', 'node.exe is digested by the Authenticode rule');
  const text = exe.code.find((x) => x.name === '.text');
  assert.ok(text && text.size > 1 << 20, `.text has code digests: ${JSON.stringify(exe.code.map((x) => [x.name, x.size]))}`);
  const pub = path.join(keys, 'manifest-public.pem');
  const ok = run('manifest', 'verify', dir, '--pub', pub, '--json');
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const fd = fs.openSync(path.join(dir, 'app.exe'), 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, text.offset + 70000);
  b[0] ^= 1;
  fs.writeSync(fd, b, 0, 1, text.offset + 70000);
  fs.closeSync(fd);
  fs.writeFileSync(path.join(dir, 'version.dll'), Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)]));
  const bad = run('manifest', 'verify', dir, '--pub', pub, '--json');
  assert.equal(bad.status, 1, bad.stderr);
  const r = JSON.parse(bad.stdout);
  const d = r.differences.find((x) => x.path === 'app.exe');
  assert.deepEqual(d?.code?.[0], { name: '.text', offset: text.offset + 65536, size: 65536 }, `located in .text: ${JSON.stringify(r.differences)}`);
  assert.ok(r.differences.some((x) => x.kind === 'file-not-in-manifest' && x.path === 'version.dll'), 'the side-loaded DLL');
});

test('Guard({ manifest }) on Windows: match at start, and a changed file is found by the periodic listing', { skip: skipOffWindows }, async () => {
  const { Guard, createManifest } = createRequire(import.meta.url)(path.join(root, 'dist', 'index.js'));
  const { generateKeyPair, publicKeyPem } = createRequire(import.meta.url)(path.join(root, 'dist', 'manifest', 'index.js'));
  const k = await generateKeyPair();
  const dir = appFolder();
  const made = await createManifest(dir, { secretKey: k.secretKey, app: { name: 'w', version: '1', platform: 'win32', arch: 'x64' } });
  const g = new Guard({ periodMs: 300, kernel: false, launch: false, sentinelMs: 0, manifest: { path: made.manifestPath, publicKey: publicKeyPem(k.publicKey) } });
  try {
    const s = await g.start();
    assert.equal(s.manifest.state, 'match', JSON.stringify(s.manifest));
    assert.equal(s.manifest.watch.state, 'off', 'no inotify on Windows');
    fs.appendFileSync(path.join(dir, 'resources', 'app.asar'), 'x');
    const deadline = Date.now() + 20000;
    while (g.status().manifest.state !== 'differs' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(g.status().findings.some((f) => f.kind === 'file-differs-from-manifest'), `the listing re-verified the changed file: ${JSON.stringify(g.status().manifest)}`);
  } finally {
    g.stop();
  }
});
