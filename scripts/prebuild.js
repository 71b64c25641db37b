#!/usr/bin/env node
// `npm run build:prebuilds`: the Node-API prebuild for this platform with prebuildify, into
// prebuilds/<platform>-<arch>/, where node-gyp-build (the install script and src/native.ts) finds it.
// - Node-API: one binary serves every Node >= 18 and every Electron; no per-version builds.
// - No download: node-gyp takes the headers of the running Node (npm_config_nodedir) when it ships them.
// - Built in a staging copy of the sources, so a development build in build/ is never replaced.
// - Incremental: skipped when the prebuild is newer than every native source (--force rebuilds).
// - A cross-built arm64 addon (scripts/arm64/: build/linux-arm64/Release/procguard.node) is copied to
//   prebuilds/linux-arm64/ under the same file name when it exists.
// - prebuilds/win32-x64/ is cross-built with mingw-w64 (scripts/windows/build-addon.mjs: static
//   runtime, Node-API bound to whatever executable loads it). Without mingw-w64 it is skipped with a
//   warning; a package published without it needs
//   a compiler on every Windows machine. --skip-windows skips it quietly.
// - `--target win32-x64` makes only the Windows prebuild (npm run test:windows packs with it).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { localNodedir, nodeGyp } = require('./node-gyp-local');

const root = path.resolve(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));
/** prebuildify names a Node-API build after the package: node-gyp-build matches any runtime with it. */
const FILE = `${pkg.name}.node`;
const target = `${process.platform}-${process.arch}`;
const out = path.join(root, 'prebuilds', target, FILE);

function sourcesNewest() {
  let newest = fs.statSync(path.join(root, 'binding.gyp')).mtimeMs;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  walk(path.join(root, 'native'));
  return newest;
}



/** The arm64 cross build, when the arm64 scripts made one: wired into prebuilds/ under the same name. */
function copyArm64() {
  const cross = path.join(root, 'build', 'linux-arm64', 'Release', `${pkg.name}.node`);
  if (!fs.existsSync(cross) || target === 'linux-arm64') return;
  const dest = path.join(root, 'prebuilds', 'linux-arm64', FILE);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(cross, dest);
  console.log(`prebuild: ${path.relative(root, cross)} -> ${path.relative(root, dest)}`);
}

/** The mingw-w64 cross build into prebuilds/win32-x64/ (on Windows itself, prebuildify's MSVC build is that). */
function buildWindows() {
  const cxx = process.env.MINGW_CXX || 'x86_64-w64-mingw32-g++';
  const dest = path.join(root, 'prebuilds', 'win32-x64', FILE);
  const scripts = ['build-addon.mjs', 'host-imports.mjs'].map((f) => fs.statSync(path.join(root, 'scripts', 'windows', f)).mtimeMs);
  if (!process.argv.includes('--force') && fs.existsSync(dest) && fs.statSync(dest).mtimeMs >= Math.max(sourcesNewest(), ...scripts)) {
    console.log(`prebuild: ${path.relative(root, dest)} is up to date`);
    return;
  }
  if (spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status !== 0) {
    const why = `${cxx} not found: the win32-x64 prebuild needs mingw-w64 (Debian: apt-get install g++-mingw-w64-x86-64-posix)`;
    if (only === 'win32-x64') throw new Error(why);
    console.error(`prebuild: WARNING: ${why}; a package packed now has no Windows prebuild`);
    return;
  }
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'windows', 'build-addon.mjs')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`the mingw-w64 build failed (exit ${r.status ?? r.signal})`);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(path.join(root, 'build', 'win32-x64', 'Release', FILE), dest);
  console.log(`prebuild: build/win32-x64/Release/${FILE} -> ${path.relative(root, dest)}`);
}

function buildHere(cb) {
  const force = process.argv.includes('--force');
  if (!force && fs.existsSync(out) && fs.statSync(out).mtimeMs >= sourcesNewest()) {
    console.log(`prebuild: ${path.relative(root, out)} is up to date`);
    return cb(null);
  }
  const gyp = nodeGyp();
  if (!gyp) return cb(new Error('node-gyp not found (it ships with npm): run this through `npm run build:prebuilds`'));
  const nodedir = process.env.npm_config_nodedir || localNodedir();
  if (nodedir) process.env.npm_config_nodedir = nodedir;
  // Under build/ (gitignored, never packed), on the same filesystem as prebuilds/: prebuildify moves
  // the result with rename(2), which fails across filesystems (EXDEV from a tmpfs /tmp).
  const stage = path.join(root, 'build', 'prebuild-stage');
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  for (const f of ['package.json', 'binding.gyp']) fs.copyFileSync(path.join(root, f), path.join(stage, f));
  fs.cpSync(path.join(root, 'native'), path.join(stage, 'native'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'), 'dir'); // node-addon-api
  const prebuildify = require('prebuildify');
  // The running Node as the target: with Node-API it only selects headers, which nodedir provides.
  prebuildify({ napi: true, targets: [process.versions.node], nodeGyp: gyp, cwd: stage, out: root, cache: path.join(stage, '.gyp') }, (err) => {
    fs.rmSync(stage, { recursive: true, force: true });
    if (err) return cb(err);
    if (!fs.existsSync(out)) return cb(new Error(`prebuildify finished but ${out} is missing`));
    console.log(`prebuild: ${path.relative(root, out)}`);
    cb(null);
  });
}

function fail(err) {
  console.error(`prebuild: ${err.message}`);
  process.exit(1);
}

const only = process.argv.includes('--target') ? process.argv[process.argv.indexOf('--target') + 1] : null;
if (only !== null && only !== 'win32-x64') fail(new Error(`--target: only win32-x64 is built alone (got ${only})`));
try {
  if (only === 'win32-x64' || (target !== 'win32-x64' && !process.argv.includes('--skip-windows'))) buildWindows();
} catch (e) {
  fail(e);
}
if (only === null) {
  buildHere((err) => {
    if (err) fail(err);
    copyArm64();
  });
}
