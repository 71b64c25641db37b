// What `npm pack` publishes: nothing test-only (test hooks, the test library, tests, bench, fixture
// sources), and prebuilt binaries that install and load on a machine without a compiler: this
// platform's, and win32-x64's (cross-built with mingw-w64; its import table is checked here, its
// install and load under Wine in test/windows/hosts.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { npmCli, packWithDeps, root } from './pack-local.mjs';

const target = `${process.platform}-${process.arch}`;
const prebuild = path.join(root, 'prebuilds', target, 'procguard.node');

function npm(args, opts = {}) {
  const r = spawnSync(process.execPath, [npmCli(), ...args], { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  assert.equal(r.status, 0, `npm ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

// Anything that only tests or the bench use. A match in the packed file list fails the test.
const TEST_ONLY = [
  [/testhooks/i, 'test hooks addon or its source'],
  [/pgtestlib/i, 'test library'],
  [/^test\//, 'a test file'],
  [/^bench\//, 'a bench file'],
  [/(^|\/)fixtures\//, 'test fixtures'],
  [/(^|\/)children\//, 'test child processes'],
  [/\.test\.m?js$/, 'a test file'],
  [/^scripts\/(run-tests|test-|find-browser|check-windows|clang-format)/, 'a test/lint script'],
  [/^demo-app\//, 'the demo app'],
  [/^build\//, 'a local build directory'],
];

test('npm pack --dry-run: nothing test-only is in the package', () => {
  const [info] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root }));
  const files = info.files.map((f) => f.path);
  assert.ok(files.length > 0, 'npm pack listed no files');
  const bad = [];
  for (const f of files) for (const [re, what] of TEST_ONLY) if (re.test(f)) bad.push(`${f} (${what})`);
  assert.deepEqual(bad, [], `test-only files in the package:\n  ${bad.join('\n  ')}`);
  // And what the package needs is there: the library, the sources to build elsewhere, the loader.
  for (const need of ['dist/index.js', 'dist/native.js', 'dist/cli.js', 'binding.gyp', 'native/addon/addon.cc', 'scripts/install.js', 'scripts/node-gyp-local.js', 'package.json']) {
    assert.ok(files.includes(need), `${need} missing from the package`);
  }
  if (fs.existsSync(prebuild)) assert.ok(files.includes(`prebuilds/${target}/procguard.node`), 'the prebuild is not packed');
});

const winPrebuild = path.join(root, 'prebuilds', 'win32-x64', 'procguard.node');
const objdump = process.env.MINGW_OBJDUMP || 'x86_64-w64-mingw32-objdump';
const haveMingw = spawnSync(objdump, ['--version'], { stdio: 'ignore' }).status === 0;

/** The DLL names and exports `objdump -p` reads from a PE file's import and export tables. */
function peTables(file) {
  const r = spawnSync(objdump, ['-p', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${objdump} -p ${file}: ${r.stderr}`);
  const imports = [...r.stdout.matchAll(/^\s*DLL Name: (\S+)$/gm)].map((m) => m[1]);
  const exportPart = r.stdout.slice(r.stdout.indexOf('[Ordinal/Name Pointer] Table'));
  const exports = [...exportPart.matchAll(/^\s*\[\s*\d+\]\s+(\S+)$/gm)].map((m) => m[1]);
  const dllCharacteristics = parseInt(/^DllCharacteristics\s+([0-9a-f]+)$/m.exec(r.stdout)?.[1] ?? '0', 16);
  return { imports, exports, dllCharacteristics };
}

test(
  'the win32-x64 prebuild is packed and imports only system DLLs: no host executable, no runtime DLL',
  { skip: !haveMingw && `${objdump} not found (Debian: g++-mingw-w64-x86-64-posix; scripts/test-prereqs.js installs it)`, timeout: 600000 },
  () => {
    if (!fs.existsSync(winPrebuild)) {
      const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'prebuild.js'), '--target', 'win32-x64'], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 0, `npm run build:prebuilds (win32-x64) failed:\n${r.stderr}\n${r.stdout}`);
    }
    const [info] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root }));
    assert.ok(info.files.some((f) => f.path === 'prebuilds/win32-x64/procguard.node'), 'prebuilds/win32-x64/procguard.node is not in the package');
    const { imports, exports, dllCharacteristics } = peTables(winPrebuild);
    // HIGH_ENTROPY_VA 0x20 | DYNAMIC_BASE 0x40 | NX_COMPAT 0x100: ASLR with a 64-bit range, no executable data.
    assert.equal(dllCharacteristics & 0x160, 0x160, `DllCharacteristics 0x${dllCharacteristics.toString(16)}: ASLR, high-entropy VA and NX expected`);
    // Node-API comes from the executable that loads the addon (native/addon/host_imports_win.cc), never from
    // an import of node.exe; libstdc++/libgcc/winpthread are linked in statically.
    assert.deepEqual(imports, ['ADVAPI32.dll', 'KERNEL32.dll', 'msvcrt.dll'], `the Windows prebuild's import table: ${imports.join(', ')}`);
    assert.deepEqual(exports, ['napi_register_module_v1', 'node_api_module_get_api_version_v1', 'procguard_node_api_binding'], `its exports: ${exports.join(', ')}`);
  },
);

/** A directory holding only links to the tools npm needs to install: no cc, c++, g++, make, python. */
function noCompilerPath() {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-nocc-bin-'));
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  for (const tool of ['sh', 'env', 'uname']) {
    const where = ['/bin', '/usr/bin'].map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
    if (where) fs.symlinkSync(where, path.join(bin, tool));
  }
  return bin;
}

test(
  'the packed tarball installs without a compiler: require() loads the prebuild and `procguard scan` runs',
  { skip: process.platform !== 'linux' && 'the no-compiler PATH is built for Linux', timeout: 900000 },
  () => {
    if (!fs.existsSync(prebuild)) {
      // The prebuild is made in a staging copy (scripts/prebuild.js), so build/ is untouched meanwhile.
      const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'prebuild.js')], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 0, `npm run build:prebuilds failed:\n${r.stderr}\n${r.stdout}`);
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-pack-'));
    // Offline: the tarball, and its dependencies packed from this checkout's node_modules (the
    // versions package.json pins, transitively), so no registry and no cache is involved.
    const { tarball: tgz, files, deps } = packWithDeps(work);
    assert.ok(files.includes(`prebuilds/${target}/procguard.node`), 'the tarball has no prebuild for this platform');

    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'pg-consumer', version: '1.0.0', private: true }));
    const bin = noCompilerPath();
    const env = { HOME: process.env.HOME ?? os.homedir(), PATH: bin, npm_config_cache: process.env.npm_config_cache ?? path.join(os.homedir(), '.npm') };
    const which = spawnSync('sh', ['-c', 'for t in cc c++ gcc g++ make python3 python; do command -v $t; done'], { env, encoding: 'utf8' });
    assert.equal(which.stdout.trim(), '', `the stripped PATH still finds a build tool: ${which.stdout}`);

    const install = spawnSync(process.execPath, [npmCli(), 'install', tgz, ...deps, '--offline', '--no-audit', '--no-fund', '--foreground-scripts'], {
      cwd: app,
      env,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const log = `${install.stdout}\n${install.stderr}`;
    assert.equal(install.status, 0, `npm install of the tarball failed without a compiler:\n${log}`);
    assert.doesNotMatch(log, /gyp info|node-gyp rebuild|make: /, `the install tried to compile:\n${log}`);
    const installed = path.join(app, 'node_modules', 'procguard');
    assert.ok(!fs.existsSync(path.join(installed, 'build')), 'the install compiled a build/ directory');

    const probe = `
      const pg = require('procguard');
      const native = require('procguard/package.json') && require(require.resolve('procguard').replace(/index\\.js$/, 'native.js')).loadNative();
      const loaded = Object.keys(require.cache).filter((k) => k.endsWith('.node'));
      const rep = pg.harden({ dryRun: true });
      console.log(JSON.stringify({ loaded, backends: native.hashBackends().blake3Active, steps: rep.steps.map((s) => s.id) }));`;
    const r = spawnSync(process.execPath, ['-e', probe], { cwd: app, env, encoding: 'utf8' });
    assert.equal(r.status, 0, `require('procguard') failed in the installed app:\n${r.stderr}`);
    const got = JSON.parse(r.stdout);
    assert.deepEqual(got.loaded, [path.join(fs.realpathSync(installed), 'prebuilds', target, 'procguard.node')], `loaded addon is not the prebuild: ${r.stdout}`);
    assert.ok(got.steps.includes('dumpable'), `harden() dry run has no dumpable step: ${r.stdout}`);

    const scan = spawnSync(path.join(app, 'node_modules', '.bin', 'procguard'), ['scan', '--json', '--mode', 'fast'], { cwd: app, env, encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(scan.status, 0, `procguard scan failed:\n${scan.stderr}`);
    const rep = JSON.parse(scan.stdout);
    assert.ok(rep.regions.length > 0 && rep.totalBytes > 0, `procguard scan found no executable regions: ${scan.stdout.slice(0, 500)}`);
    assert.ok(rep.regions.some((g) => String(g.path ?? '').endsWith(`prebuilds/${target}/procguard.node`)), 'scan does not list the prebuild as mapped code');
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(bin, { recursive: true, force: true });
  },
);
