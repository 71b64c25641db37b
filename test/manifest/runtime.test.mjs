// The manifest at run time: Guard({ manifest }) in this very process, with a library loaded from the
// app folder. Signature first, every file checked on native threads, the app's own code mappings
// compared with the vendor's page digests, and inotify re-verification of changed files.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { test, copyTestLib, loadTestLib, poke, peek, waitFor, fileOffsetOf } from '../integrity/helpers.mjs';
import { m, keys, APP, tmpdir, flipByte, root } from './helpers.mjs';

const { Guard } = createRequire(import.meta.url)(path.join(root, 'dist/index.js'));
const k = await keys();
const pubPem = fs.readFileSync(k.publicKey, 'utf8');

/** An app folder holding a copy of the test library (not loaded yet) and a data file, with its manifest. */
async function appWithLib() {
  const dir = tmpdir('pg-rt-app-');
  fs.mkdirSync(path.join(dir, 'resources'));
  const lib = copyTestLib('libapp', dir);
  fs.writeFileSync(path.join(dir, 'resources', 'app.asar'), Buffer.alloc(50000, 5));
  const r = await m.createManifest(dir, { secretKey: k.secretKey, app: APP });
  return { dir, lib, manifestPath: r.manifestPath, rel: path.relative(dir, lib) };
}

function guardFor(manifestPath, extra = {}) {
  return new Guard({ periodMs: 60000, kernel: false, launch: false, sentinelMs: 0, manifest: { path: manifestPath, publicKey: pubPem }, ...extra });
}

const manifestFindings = (s) => s.findings.filter((f) => /manifest/.test(f.kind) || f.kind === 'file-missing');

test('an untouched app: status.manifest is match, the loaded library is compared page-run by page-run with the vendor digests', async () => {
  const app = await appWithLib();
  loadTestLib(app.lib);
  const g = guardFor(app.manifestPath);
  try {
    const s = await g.start();
    assert.equal(s.manifest?.state, 'match', JSON.stringify(s.manifest));
    assert.deepEqual(manifestFindings(s), [], 'no manifest findings');
    assert.equal(s.manifest.filesListed, 2);
    assert.equal(s.manifest.appDir, app.dir, 'the app folder found from the manifest path');
    assert.equal(s.manifest.memory.files, 1, 'the library mapped from the app folder was compared');
    assert.ok(s.manifest.memory.runsCompared >= 1 && s.manifest.memory.runsDiffering === 0, JSON.stringify(s.manifest.memory));
    assert.equal(s.manifest.watch.state, 'inotify');
  } finally {
    g.stop();
  }
});

test('code changed in memory before the Guard starts differs from the vendor build from the first pass', async () => {
  const app = await appWithLib();
  const lib = loadTestLib(app.lib);
  const addr = lib.blob + 100n;
  const orig = peek(addr);
  poke(addr, orig ^ 0x20);
  const g = guardFor(app.manifestPath);
  try {
    const s = await g.start();
    const f = s.findings.find((x) => x.kind === 'code-differs-from-manifest');
    assert.ok(f, `a code-differs-from-manifest finding: ${JSON.stringify(s.findings.map((x) => x.kind))} ${JSON.stringify(s.manifest.memory)}`);
    assert.equal(f.path, app.lib);
    assert.equal(f.offset, fileOffsetOf(app.lib, addr), 'located to the changed byte');
    assert.equal(s.manifest.state, 'differs');
    assert.equal(s.manifest.memory.runsDiffering, 1);
  } finally {
    poke(addr, orig);
    g.stop();
  }
});

test('a listed file changed while running is re-verified through inotify and reported; a manifest edit is manifest-invalid', async () => {
  const app = await appWithLib();
  const g = guardFor(app.manifestPath);
  try {
    await g.start();
    const t0 = performance.now();
    const seen = waitFor(g, 'finding', (f) => f.kind === 'file-differs-from-manifest', 10000, 'file-differs-from-manifest after a write');
    flipByte(path.join(app.dir, 'resources', 'app.asar'), 1234);
    const f = await seen;
    const ms = performance.now() - t0;
    assert.equal(f.path, path.join(app.dir, 'resources', 'app.asar'));
    assert.equal(f.evidence.reason, 'content');
    console.log(`# write -> file-differs-from-manifest in ${ms.toFixed(0)} ms`);
    const invalid = waitFor(g, 'finding', (x) => x.kind === 'manifest-invalid', 10000, 'manifest-invalid after the manifest was edited');
    fs.appendFileSync(app.manifestPath, ' ');
    const inv = await invalid;
    assert.equal(inv.evidence.reason, 'bad-signature');
    assert.equal(g.status().manifest.state, 'invalid');
  } finally {
    g.stop();
  }
});

test('a library loaded from the app folder that the manifest does not list is file-not-in-manifest', async () => {
  const app = await appWithLib();
  const extra = copyTestLib('libextra', app.dir);
  loadTestLib(extra);
  const g = guardFor(app.manifestPath);
  try {
    const s = await g.start();
    const rel = path.relative(app.dir, extra);
    const f = s.findings.find((x) => x.kind === 'file-not-in-manifest' && x.evidence?.relativePath === rel);
    assert.ok(f, `the side-loaded library is a finding: ${JSON.stringify(s.findings.map((x) => [x.kind, x.path]))}`);
  } finally {
    g.stop();
  }
});

test('a missing or foreign-signed manifest is manifest-invalid; a bad public key is a typed error at construction', async () => {
  const app = await appWithLib();
  const g = guardFor(path.join(app.dir, 'nope.json'));
  try {
    const s = await g.start();
    assert.equal(s.manifest.state, 'invalid');
    assert.ok(s.findings.some((f) => f.kind === 'manifest-invalid' && f.evidence.reason === 'missing'), JSON.stringify(s.findings));
  } finally {
    g.stop();
  }
  const other = await keys();
  await m.createManifest(app.dir, { secretKey: other.secretKey, app: APP });
  const h = guardFor(app.manifestPath);
  try {
    const s = await h.start();
    assert.ok(s.findings.some((f) => f.kind === 'manifest-invalid' && f.evidence.reason === 'bad-signature'), 'signed by another key');
  } finally {
    h.stop();
  }
  assert.throws(() => new Guard({ manifest: { publicKey: 'not a key' } }), (e) => e.code === 'ERR_MANIFEST_KEY');
});

test('a library changed on disk before it was loaded: the file differs, and the mapped code differs from the vendor runs', async () => {
  const app = await appWithLib();
  const entry = JSON.parse(fs.readFileSync(app.manifestPath, 'utf8')).files.find((f) => f.path === app.rel);
  const code = entry.code[0];
  flipByte(app.lib, code.offset + 40);
  loadTestLib(app.lib);
  const g = guardFor(app.manifestPath);
  try {
    const s = await g.start();
    assert.ok(s.findings.some((f) => f.kind === 'file-differs-from-manifest' && f.path === app.lib && f.offset === code.offset), JSON.stringify(s.findings.map((f) => [f.kind, f.offset])));
    const mem = s.findings.find((f) => f.kind === 'code-differs-from-manifest' && f.key.includes('manifest:memory:'));
    assert.ok(mem, 'the engine baseline (memory = file) differs from the vendor run');
    assert.equal(mem.offset, code.offset);
    assert.ok(s.manifest.memory.runsDiffering >= 1);
  } finally {
    g.stop();
  }
});

test('a listed file removed, then put back with other bytes, then with the vendor bytes: missing, differs, closed', async () => {
  const app = await appWithLib();
  const asar = path.join(app.dir, 'resources', 'app.asar');
  const vendor = fs.readFileSync(asar);
  const g = guardFor(app.manifestPath, { periodMs: 300 });
  try {
    await g.start();
    const missing = waitFor(g, 'finding', (f) => f.kind === 'file-missing', 10000, 'file-missing after the delete');
    fs.rmSync(asar);
    assert.equal((await missing).evidence.relativePath, 'resources/app.asar');
    // Put back: no watch exists on a new inode; the period's listing sees the new file and hashes it.
    const differs = waitFor(g, 'finding', (f) => f.kind === 'file-differs-from-manifest', 10000, 'file-differs-from-manifest for the file put back');
    fs.writeFileSync(asar, Buffer.alloc(vendor.length, 6));
    assert.equal((await differs).evidence.reason, 'content');
    fs.writeFileSync(asar, vendor);
    const deadline = Date.now() + 10000;
    while (g.status().manifest.state !== 'match' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(g.status().manifest.state, 'match', `the vendor bytes back close the finding: ${JSON.stringify(g.status().findings.map((f) => f.kind))}`);
  } finally {
    g.stop();
  }
});

test('a manifest that was missing at start and then appears is loaded by the periodic check, signature first', async () => {
  const app = await appWithLib();
  const moved = app.manifestPath + '.away';
  fs.renameSync(app.manifestPath, moved);
  const g = guardFor(app.manifestPath, { periodMs: 300 });
  try {
    const s = await g.start();
    assert.equal(s.manifest.state, 'invalid');
    fs.renameSync(moved, app.manifestPath);
    const deadline = Date.now() + 10000;
    while (g.status().manifest.state !== 'match' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(g.status().manifest.state, 'match', JSON.stringify(g.status().manifest));
    assert.ok(!g.status().findings.some((f) => f.kind === 'manifest-invalid'), 'the manifest-invalid finding closed');
  } finally {
    g.stop();
  }
});
