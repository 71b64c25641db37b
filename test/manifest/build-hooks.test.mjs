// procguard/build with the real electron-builder (26.x, offline: `build.electronDist` points at a
// folder the test makes) and with Electron Forge's hook contract; `procguard manifest verify` then
// checks the packaged result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { root, tmpdir, runCli, keys as makeKeys } from './helpers.mjs';
import { makePackagedApp, realNode } from './app-fixture.mjs';

const builderBin = path.join(root, 'node_modules/.bin/electron-builder');
const hookModule = path.join(root, 'dist/packaging/hooks.js');

test('package.json exports procguard/build with afterPack, afterSign and forgeHooks', () => {
  const b = createRequire(path.join(root, 'package.json'))('procguard/build');
  for (const k of ['afterPack', 'afterSign', 'default', 'electronBuilderHook', 'forgeHooks', 'writeAppManifest']) assert.equal(typeof b[k], 'function', `procguard/build exports ${k}`);
});

/** A project and an unpacked "Electron" (any ELF named electron, plus files Electron ships). */
function builderProject(afterPack) {
  const work = tmpdir('pg-eb-');
  const dist = path.join(work, 'electron-dist');
  fs.mkdirSync(path.join(dist, 'locales'), { recursive: true });
  fs.copyFileSync('/bin/true', path.join(dist, 'electron'));
  fs.chmodSync(path.join(dist, 'electron'), 0o755);
  fs.copyFileSync(realNode, path.join(dist, 'libffmpeg.so'));
  fs.writeFileSync(path.join(dist, 'v8_context_snapshot.bin'), Buffer.alloc(200000, 9));
  fs.writeFileSync(path.join(dist, 'locales', 'en-US.pak'), Buffer.alloc(5000, 1));
  const proj = path.join(work, 'project');
  fs.mkdirSync(proj);
  fs.writeFileSync(path.join(proj, 'main.js'), "console.log('hello');\n");
  fs.writeFileSync(
    path.join(proj, 'package.json'),
    JSON.stringify({
      name: 'eb-fixture',
      productName: 'EbFixture',
      version: '2.0.1',
      description: 'procguard build hook test',
      author: 'procguard tests',
      main: 'main.js',
      build: { appId: 'dev.procguard.test', electronDist: dist, electronVersion: '45.4.1', npmRebuild: false, linux: { target: 'dir' }, afterPack, directories: { output: path.join(work, 'out') } },
    }),
  );
  return { work, proj, appOut: path.join(work, 'out', 'linux-unpacked') };
}

function runBuilder(proj, env) {
  return spawnSync(builderBin, ['--linux', 'dir'], {
    cwd: proj,
    encoding: 'utf8',
    timeout: 180000,
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', ELECTRON_BUILDER_OFFLINE: '1', CSC_IDENTITY_AUTO_DISCOVERY: 'false', ...env },
  });
}

test('electron-builder --linux dir with "afterPack": "procguard/build" writes a manifest that verify accepts', { timeout: 240000 }, async () => {
  const k = await makeKeys();
  const p = builderProject('procguard/build');
  // electron-builder resolves the module id from its own install; an app has procguard in the same
  // node_modules. Here a NODE_PATH folder holds `procguard` (a link to this checkout).
  const modules = tmpdir('pg-eb-modules-');
  fs.symlinkSync(root, path.join(modules, 'procguard'));
  const r = runBuilder(p.proj, { PROCGUARD_MANIFEST_KEY: k.privateKey, NODE_PATH: modules });
  assert.equal(r.status, 0, `electron-builder failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout + r.stderr, /procguard: manifest of \d+ files/, 'the hook ran');
  const mf = path.join(p.appOut, 'resources', 'procguard-manifest.json');
  const doc = JSON.parse(fs.readFileSync(mf, 'utf8'));
  assert.deepEqual(doc.app, { name: 'EbFixture', version: '2.0.1', platform: 'linux', arch: process.arch === 'arm64' ? 'arm64' : 'x64' }, 'identity from the builder context');
  const listed = doc.files.map((f) => f.path);
  for (const f of ['eb-fixture', 'resources/app.asar', 'v8_context_snapshot.bin', 'libffmpeg.so', 'locales/en-US.pak']) assert.ok(listed.includes(f), `${f} is listed: ${listed}`);
  const v = runCli('manifest', 'verify', p.appOut, '--pub', k.publicKey);
  assert.equal(v.status, 0, `verify of the packaged app: ${v.stdout}${v.stderr}`);
  // And the packaged app tampered afterwards does not.
  fs.appendFileSync(path.join(p.appOut, 'resources', 'app.asar'), 'x');
  assert.equal(runCli('manifest', 'verify', p.appOut, '--pub', k.publicKey).status, 1, 'a changed app.asar fails');
});

test('electron-builder: the afterSign export takes the same context; without a key the build fails with the reason', { timeout: 240000 }, async () => {
  const k = await makeKeys();
  const wrapperDir = tmpdir('pg-eb-hook-');
  const wrapper = path.join(wrapperDir, 'hook.js');
  fs.writeFileSync(wrapper, `exports.default = (context) => require(${JSON.stringify(hookModule)}).afterSign(context);\n`);
  const p = builderProject(wrapper);
  const r = runBuilder(p.proj, { PROCGUARD_MANIFEST_KEY: k.privateKey });
  assert.equal(r.status, 0, `electron-builder failed:\n${r.stdout}\n${r.stderr}`);
  assert.equal(runCli('manifest', 'verify', p.appOut, '--pub', k.publicKey).status, 0, 'the manifest written through afterSign verifies');

  const q = builderProject(hookModule);
  const env = { PROCGUARD_MANIFEST_KEY: '', PROCGUARD_MANIFEST_KEY_PEM: '' };
  const bad = runBuilder(q.proj, env);
  assert.notEqual(bad.status, 0, 'no key: the build fails rather than ship an app without its manifest');
  assert.match(bad.stdout + bad.stderr, /needs the manifest private key/);
});

test('Electron Forge contract: packageAfterCopy puts the public key into the sources, postPackage the manifest into each output', async () => {
  const k = await makeKeys();
  const { forgeHooks } = createRequire(import.meta.url)(hookModule);
  const hooks = forgeHooks({ privateKey: k.privateKey, log: () => {} });
  const config = { packagerConfig: {}, hooks: {} };
  // packageAfterCopy(config, buildPath, electronVersion, platform, arch): buildPath is the copied app sources.
  const buildPath = tmpdir('pg-forge-build-');
  fs.writeFileSync(path.join(buildPath, 'package.json'), '{"name":"forge-app","version":"1.0.0"}');
  await hooks.packageAfterCopy(config, buildPath, '45.4.1', 'linux', 'x64');
  assert.equal(fs.readFileSync(path.join(buildPath, 'procguard-manifest-public.pem'), 'utf8'), fs.readFileSync(k.publicKey, 'utf8'), 'the public key of the signing key');
  // postPackage(config, { platform, arch, outputPaths }): each output is a packaged app folder.
  const a = await makePackagedApp();
  const b = await makePackagedApp();
  await hooks.postPackage(config, { platform: 'linux', arch: 'x64', outputPaths: [a.dir, b.dir] });
  for (const app of [a, b]) {
    const doc = JSON.parse(fs.readFileSync(path.join(app.resources, 'procguard-manifest.json'), 'utf8'));
    assert.deepEqual(doc.app, { name: 'Fixture App', version: '3.1.4', platform: 'linux', arch: 'x64' });
    const v = runCli('manifest', 'verify', app.dir, '--pub', k.publicKey);
    assert.equal(v.status, 0, `${app.dir}: ${v.stdout}${v.stderr}`);
  }
  await assert.rejects(hooks.postPackage(config, { platform: 'darwin', arch: 'arm64', outputPaths: [a.dir] }), (e) => e.code === 'ERR_MANIFEST_INPUT' && /no \.app bundle/.test(e.message));
});
