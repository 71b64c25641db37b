// The packed package as a Windows user gets it: `npm install` of the tarball (npm run by node.exe,
// no compiler on the PATH) takes prebuilds/win32-x64/procguard.node, and that addon runs inside any
// executable that carries Node-API: the official node.exe copied to "My App.exe" (a renamed Electron
// app) and to "electron.exe", each alone in its folder, so no node.exe is anywhere the DLL loader
// looks. test-windows.sh packs the tarballs (test/package/pack-local.mjs) into .cache/windows/pack.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { attacker, root, skipOffWindows } from './helpers.mjs';

const skip = skipOffWindows;
const packDir = path.join(root, '.cache', 'windows', 'pack');
const systemRoot = process.env.SystemRoot ?? 'C:\\windows';
/** The PATH of a Windows machine without developer tools. */
const systemPath = [`${systemRoot}\\system32`, systemRoot, `${systemRoot}\\system32\\wbem`].join(';');
const COMPILERS = ['cl.exe', 'gcc.exe', 'g++.exe', 'clang.exe', 'make.exe', 'python.exe', 'python3.exe'];

let app = null;
let work = null;

before(
  async () => {
    if (skip) return;
    const npmCli = process.env.PROCGUARD_NPM_CLI;
    assert.ok(npmCli && fs.existsSync(npmCli), `PROCGUARD_NPM_CLI must name npm-cli.js (test-windows.sh sets it): ${npmCli}`);
    const tarballs = fs.existsSync(packDir) ? fs.readdirSync(packDir).filter((f) => f.endsWith('.tgz')) : [];
    assert.ok(tarballs.some((f) => /^procguard-.*\.tgz$/.test(f)), `no procguard tarball in ${packDir}: ${tarballs}`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-hosts-'));
    app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'pg-consumer', version: '1.0.0', private: true }));
    // npm's install script runs `node scripts/install.js`: node.exe on the PATH, and nothing else.
    const PATH = `${path.dirname(process.execPath)};${systemPath}`;
    const found = PATH.split(';').flatMap((d) => COMPILERS.filter((c) => fs.existsSync(path.join(d, c))).map((c) => path.join(d, c)));
    assert.deepEqual(found, [], 'the install PATH must hold no build tool');
    const r = spawnSync(
      process.execPath,
      [npmCli, 'install', ...tarballs.map((f) => path.join(packDir, f)), '--offline', '--no-audit', '--no-fund', '--foreground-scripts', '--cache', path.join(work, 'npm-cache')],
      { cwd: app, env: { ...process.env, PATH, Path: PATH }, encoding: 'utf8', timeout: 600000, maxBuffer: 64 << 20 },
    );
    const log = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, `npm install of the tarball under node.exe failed (${r.error ?? r.status}):\n${log}`);
    assert.match(log, /node scripts[\\/]install\.js/, `the package's install script did not run:\n${log}`);
    assert.doesNotMatch(log, /gyp info|node-gyp rebuild|gyp ERR/, `the install tried to compile:\n${log}`);
    assert.ok(!fs.existsSync(path.join(app, 'node_modules', 'procguard', 'build')), 'the install made a build/ directory');
  },
  { timeout: 700000 },
);

/** Runs the probe in the installed app with `exe` (a copy of node.exe) on a system-only PATH. */
function probe(exe) {
  const script = `
    const pg = require('procguard');
    const native = require(require('node:path').join(require('node:path').dirname(require.resolve('procguard')), 'native.js')).loadNative();
    (async () => {
      const report = pg.harden();
      const guard = new pg.Guard({ launch: false });
      await guard.start();
      const st = await guard.check();
      guard.stop();
      console.log(JSON.stringify({
        execPath: process.execPath,
        loaded: Object.keys(require.cache).filter((k) => k.endsWith('.node')),
        host: native.nodeApiHost(),
        steps: Object.fromEntries(report.steps.map((s) => [s.id, s.status])),
        regions: st.coverage.regions,
        findings: st.findings.map((f) => f.kind),
        errors: st.checkerErrors.map((e) => e.message),
      }));
    })().catch((e) => { console.error(e.stack); process.exit(1); });`;
  const r = spawnSync(exe, ['-e', script], { cwd: app, env: { ...process.env, PATH: systemPath, Path: systemPath }, encoding: 'utf8', timeout: 300000 });
  assert.equal(r.status, 0, `${path.basename(exe)}: require('procguard') / harden() / check() failed (${r.error ?? r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

for (const [folder, name] of [
  ['My App', 'My App.exe'],
  ['electron', 'electron.exe'],
]) {
  test(`node.exe renamed "${name}", alone in its folder: the installed prebuild loads, harden() and one Guard.check() run`, { skip, timeout: 400000 }, () => {
    const dir = path.join(work, folder);
    fs.mkdirSync(dir);
    const exe = path.join(dir, name);
    fs.copyFileSync(process.execPath, exe);
    assert.deepEqual(fs.readdirSync(dir), [name], 'the executable is alone in its folder');
    const got = probe(exe);
    const lower = (p) => p.toLowerCase();
    assert.equal(lower(got.execPath), lower(exe), 'the probe ran in the renamed executable');
    const prebuild = path.join(fs.realpathSync(app), 'node_modules', 'procguard', 'prebuilds', 'win32-x64', 'procguard.node');
    assert.deepEqual(got.loaded.map(lower), [lower(prebuild)], 'the loaded addon is the installed prebuild');
    assert.equal(lower(got.host), lower(exe), `Node-API is bound to the executable that loaded the addon: ${got.host}`);
    assert.equal(got.steps['process-dacl'], 'applied', `harden(): ${JSON.stringify(got.steps)}`);
    assert.equal(got.steps['thread-dacl'], 'applied', `harden(): ${JSON.stringify(got.steps)}`);
    assert.ok(got.regions > 5, `the Guard's pass covered ${got.regions} code regions`);
    assert.deepEqual(got.errors, [], 'no checker error');
    assert.ok(!got.findings.includes('code-modified'), `no code finding in an untouched process: ${got.findings}`);
  });
}

test('in a process without Node-API the addon loads and its binding names what it searched', { skip }, () => {
  const prebuild = path.join(app, 'node_modules', 'procguard', 'prebuilds', 'win32-x64', 'procguard.node');
  const r = attacker('loadaddon', prebuild);
  assert.equal(r.loaded, true, `LoadLibraryW of the addon in a plain program: ${JSON.stringify(r)}`);
  assert.equal(r.bound, 0, 'nothing to bind to');
  assert.match(r.text, /^no Node-API host in this process: the executable .*attacker\.exe does not export napi_module_register, nor do the [1-9]\d* other loaded modules \(procguard\.node needs a Node\.js >= 18 or Electron process\)$/i, r.text);
});

test('an addon whose DLL dependency is missing: NativeLoadError lists every path tried and says what failed', { skip }, async () => {
  const { loadNative } = await import('../../dist/native.js');
  const fake = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-missing-'));
  const addon = path.join(fake, 'build', 'Release', 'procguard.node');
  fs.mkdirSync(path.dirname(addon), { recursive: true });
  fs.copyFileSync(path.join(root, '.cache', 'windows', 'missing-import.node'), addon);
  let err = null;
  try {
    loadNative(fake);
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'loading must fail');
  assert.equal(err.code, 'ERR_NATIVE_LOAD', String(err));
  assert.ok(err.tried.includes(addon), `the failing file is among the paths tried: ${err.tried}`);
  assert.ok(err.tried.some((p) => p.endsWith(`${path.sep}prebuilds${path.sep}win32-x64`)), 'so is the prebuilds directory');
  assert.ok(err.message.includes(`${addon} (exists, failed: `), err.message);
  assert.match(err.message, /\(a DLL the addon imports was not found\)/, err.message);
});

