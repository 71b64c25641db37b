#!/usr/bin/env node
// clang-format over the C/C++ sources (native/ and test/native/, or the files named) with the checked-in
// .clang-format. `--check` (npm run lint): report files that differ and exit 1; no flag (npm run format):
// rewrite them.
// The binary is the pinned npm package `clang-format` (a devDependency, so `npm install` brings it and CI and
// every developer format with the same version). Only where that package ships no binary that runs on this
// platform does it fall back to a `clang-format` on PATH; CLANG_FORMAT names another binary explicitly.
// It prints which binary ran, since versions format differently.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const style = path.join(root, '.clang-format');

/** The npm package's own binary for this platform, or null when it ships none. */
function npmBinary() {
  let dir;
  try {
    dir = path.dirname(require.resolve('clang-format/package.json', { paths: [root] }));
  } catch {
    return null;
  }
  const name = process.platform === 'win32' ? 'win32/clang-format.exe' : `${process.platform}_${process.arch}/clang-format`;
  const p = path.join(dir, 'bin', name);
  return fs.existsSync(p) ? p : null;
}

/** `--version` output of bin, or null when it cannot run here (missing, wrong architecture, missing libs). */
function versionOf(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** { bin, version, source } of the binary to use, or exits with what to do. */
function pickBinary() {
  if (process.env.CLANG_FORMAT) {
    const version = versionOf(process.env.CLANG_FORMAT);
    if (!version) fail(`cannot run CLANG_FORMAT=${process.env.CLANG_FORMAT}`);
    return { bin: process.env.CLANG_FORMAT, version, source: 'CLANG_FORMAT' };
  }
  const pinned = npmBinary();
  const pinnedVersion = pinned && versionOf(pinned);
  if (pinnedVersion) return { bin: pinned, version: pinnedVersion, source: 'npm package clang-format' };
  const version = versionOf('clang-format');
  if (version) {
    const why = pinned ? `${path.relative(root, pinned)} does not run here` : `the npm package has no binary for ${process.platform}-${process.arch}`;
    return { bin: 'clang-format', version, source: `PATH (fallback: ${why}; its formatting may differ from the pinned one)` };
  }
  return fail(
    pinned
      ? `${path.relative(root, pinned)} does not run on this platform and no clang-format is on PATH`
      : 'no clang-format: run `npm install` (devDependency clang-format), or install one on PATH',
  );
}

function fail(message) {
  console.error(`clang-format: ${message}`);
  process.exit(1);
}

function sources(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'build' && e.name !== 'node_modules') out.push(...sources(p));
    } else if (/\.(cc|c|h|inc)$/.test(e.name)) out.push(p);
  }
  return out;
}

const argv = process.argv.slice(2);
const check = argv.includes('--check');
const named = argv.filter((a) => !a.startsWith('--'));
const files = named.length
  ? named.map((f) => path.resolve(f))
  : [...sources(path.join(root, 'native')), ...sources(path.join(root, 'test', 'native'))].sort();
const { bin, version, source } = pickBinary();
console.error(`clang-format: ${version} (${source})`);
// The style file is named explicitly so that files outside the tree are judged by the same rules.
const args = [`--style=file:${style}`, ...(check ? ['--dry-run', '--Werror'] : ['-i']), ...files];
const r = spawnSync(bin, args, { cwd: root, stdio: 'inherit' });
if (r.error) fail(`cannot run ${bin} (${r.error.code})`);
if (r.status !== 0 && check) console.error('clang-format: the files above differ from .clang-format; run `npm run format`');
process.exit(r.status ?? 1);
