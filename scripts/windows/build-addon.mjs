#!/usr/bin/env node
// Cross-builds the Windows addon (build/win32-x64/Release/procguard.node) with mingw-w64.
//
// The source list comes from binding.gyp (the `procguard` target, its OS=='win' condition and the
// x86-64 ISA libraries it depends on), so a file added there is built here too. node-gyp itself is
// not used: it cannot cross-compile to a PE DLL.
//
// Node-API on Windows: the addon must run inside node.exe, electron.exe or an app's renamed
// executable ("My App.exe"), so it names no host in its import table. After compiling, the napi_*,
// node_api_* and uv_* functions the objects call (nm) get generated jump stubs whose pointers
// native/addon/host_imports_win.cc fills while the DLL loads, from the executable that loaded it
// (scripts/windows/host-imports.mjs; an MSVC build gets the same from node-gyp's delay-load hook).
// The runtime is linked statically: the .node imports only system DLLs (test/package/pack.test.mjs
// lists them).
//
// usage: node scripts/windows/build-addon.mjs [--out <dir>] [--jobs N]
//        node scripts/windows/build-addon.mjs --list     (the sources it would build, as JSON)
//        node scripts/windows/build-addon.mjs --include-dirs   (binding.gyp's include dirs, one per line)
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { hostFunctions, hostImportsAsm } from './host-imports.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(root, 'package.json'));

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const outDir = path.resolve(root, arg('--out', path.join('build', 'win32-x64', 'Release')));
const objDir = path.join(outDir, 'obj');
const jobs = Number(arg('--jobs', '2'));
const cxx = process.env.MINGW_CXX || 'x86_64-w64-mingw32-g++';
const nm = process.env.MINGW_NM || 'x86_64-w64-mingw32-nm';

function die(msg) {
  console.error(`build-addon: ${msg}`);
  process.exit(1);
}

// binding.gyp is a Python literal (comments, single quotes) whose conditions are Python
// expressions: let Python read it and evaluate each condition for OS=='win', target_arch=='x64', as
// gyp does, folding the chosen branch's sources / sources= / sources! (and else branches) in order.
const RESOLVE = `
import ast, json, sys
gyp = ast.literal_eval(open(sys.argv[1]).read())
env = {'OS': 'win', 'target_arch': 'x64'}
def fold(d, sources):
    for key in ('sources=', 'sources', 'sources!'):
        if key not in d: continue
        if key == 'sources=': sources = list(d[key])
        elif key == 'sources': sources = sources + list(d[key])
        else: sources = [x for x in sources if x not in d[key]]
    for c in d.get('conditions', []):
        branch = c[1] if eval(c[0], {}, dict(env)) else (c[2] if len(c) > 2 else None)
        if branch: sources = fold(branch, sources)
    return sources
out = {}
for t in gyp['targets']:
    out[t['target_name']] = {'sources': fold(t, []), 'cflags': t.get('cflags', []), 'dependencies': t.get('dependencies', []),
                             'include_dirs': [d for d in t.get('include_dirs', []) if not d.startswith('<!')]}
print(json.dumps(out))
`;
function readGyp() {
  const r = spawnSync('python3', ['-c', RESOLVE, path.join(root, 'binding.gyp')], { encoding: 'utf8' });
  if (r.status !== 0) die(`cannot read binding.gyp with python3: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout);
}

const gyp = readGyp();
const main = gyp.procguard;
if (!main) die('binding.gyp has no procguard target');
const units = [];
for (const dep of main.dependencies) {
  const t = gyp[dep];
  if (!t) die(`binding.gyp: unknown dependency ${dep}`);
  // The ISA flags of each SIMD library (gcc spellings; -fPIC means nothing for PE).
  const flags = t.cflags.filter((f) => f.startsWith('-m'));
  for (const s of t.sources) units.push({ src: s, flags });
}
for (const s of main.sources) units.push({ src: s, flags: [] });
// This build's Node-API binding (an MSVC build uses node-gyp's delay-load hook instead).
units.push({ src: 'native/addon/host_imports_win.cc', flags: [] });
if (!units.some((u) => u.src.endsWith('_win.cc'))) die("binding.gyp's OS=='win' condition lists no *_win.cc source");
// binding.gyp's include dirs of the procguard target (each folder of native/), minus the node-addon-api one
// (a gyp command expansion; napiInc below).
const includeDirs = main.include_dirs.map((d) => path.join(root, d));
if (process.argv.includes('--include-dirs')) {
  // One per line, for scripts/check-windows.sh.
  console.log(includeDirs.join('\n'));
  process.exit(0);
}
if (process.argv.includes('--list')) {
  // The sources and ISA flags this build would compile, as JSON (tests; no toolchain needed).
  console.log(JSON.stringify(units));
  process.exit(0);
}
const napiInc = path.resolve(root, require('node-addon-api').include_dir);
let nodeInc = process.env.NODE_INCLUDE_DIR;
if (!nodeInc) {
  for (const d of ['/usr/include/node', path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node')]) {
    if (fs.existsSync(path.join(d, 'node_api.h')) && fs.existsSync(path.join(d, 'uv.h'))) { nodeInc = d; break; }
  }
}
if (!nodeInc) die('node_api.h and uv.h not found (set NODE_INCLUDE_DIR to a Node include/node directory)');

const cflags = [
  '-O2', '-std=c++17', '-fstack-protector-strong', '-D_FORTIFY_SOURCE=2', '-Wall', '-Wextra', '-Wno-unused-parameter',
  '-Wno-cast-function-type', '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-D_WIN32_WINNT=0x0A00', '-DWINVER=0x0A00',
  '-DPROCGUARD_HOST_IMPORTS',
  `-I${napiInc}`, `-I${nodeInc}`, ...includeDirs.map((d) => `-I${d}`),
];

fs.mkdirSync(objDir, { recursive: true });

// Incremental: an object is rebuilt when older than its source, any native header or this script.
function newest(dir) {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (/\.(h|inc)$/.test(e.name)) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}
const depsTime = Math.max(newest(path.join(root, 'native')), fs.statSync(fileURLToPath(import.meta.url)).mtimeMs);

function compile(u) {
  const obj = path.join(objDir, u.src.replace(/[\\/]/g, '_').replace(/\.\w+$/, '.o'));
  const src = path.join(root, u.src);
  if (fs.existsSync(obj)) {
    const t = fs.statSync(obj).mtimeMs;
    if (t > fs.statSync(src).mtimeMs && t > depsTime) return Promise.resolve(obj);
  }
  return new Promise((resolve, reject) => {
    const p = spawn(cxx, [...cflags, ...u.flags, '-c', src, '-o', obj], { stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('close', (code) => (code === 0 ? resolve(obj) : reject(new Error(`${cxx} failed on ${u.src} (exit ${code})`))));
  });
}

const started = Date.now();
const objs = new Array(units.length);
let next = 0;
async function worker() {
  while (next < units.length) {
    const i = next++;
    objs[i] = await compile(units[i]);
  }
}
try {
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
} catch (e) {
  die(e.message);
}
// The Node-API binding table for exactly the host functions the objects call.
const hostAsm = path.join(objDir, 'host_imports_gen.s');
const hostObj = path.join(objDir, 'host_imports_gen.o');
try {
  fs.writeFileSync(hostAsm, hostImportsAsm(hostFunctions(nm, objs)));
} catch (e) {
  die(e.message);
}
const as = spawnSync(cxx, ['-c', hostAsm, '-o', hostObj], { stdio: 'inherit' });
if (as.status !== 0) die(`assembling ${hostAsm} failed`);
const out = path.join(outDir, 'procguard.node');
// -static*: no libgcc/libstdc++/libwinpthread DLLs to ship; -lssp: the stack protector's runtime.
const link = spawnSync(cxx, [
  '-shared', '-o', out, ...objs, hostObj,
  '-static', '-static-libgcc', '-static-libstdc++',
  '-Wl,--dynamicbase', '-Wl,--nxcompat', '-Wl,--high-entropy-va',
  '-lssp', '-ladvapi32', '-lpsapi',
], { stdio: 'inherit' });
if (link.status !== 0) die('link failed');
console.log(`build-addon: ${path.relative(root, out)} (${units.length} sources, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
