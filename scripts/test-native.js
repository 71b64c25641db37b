#!/usr/bin/env node
// Builds the test- and bench-only native code (test/native/binding.gyp: pg_testhooks.node,
// pgtestlib.so and the LD_PRELOAD shims pg_clockshift.so, pg_prctlshim.so) into
// test/native/build/Release/. Run by `npm test` and `npm run bench`; never by
// `npm install`, so nothing test-only is built on a user's machine or packed.
// Incremental: does nothing when every output is are newer than every source they are built from.
// Linux only: elsewhere it says so and exits 0 (the tests that need the hooks skip with a reason).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { localNodedir, nodeGyp } = require('./node-gyp-local');

const root = path.resolve(__dirname, '..');
const dir = path.join(root, 'test', 'native');
const out = path.join(dir, 'build', 'Release');
const outputs = ['pg_testhooks.node', 'pgtestlib.so', 'pg_clockshift.so', 'pg_prctlshim.so'].map((f) => path.join(out, f));

function newestSource() {
  const files = [path.join(dir, 'binding.gyp'), path.join(root, 'binding.gyp')];
  for (const f of fs.readdirSync(dir)) if (/\.(cc|c|h)$/.test(f)) files.push(path.join(dir, f));
  const hash = path.join(root, 'native', 'hash');
  for (const f of fs.readdirSync(hash)) if (/\.(cc|h|inc)$/.test(f)) files.push(path.join(hash, f));
  return Math.max(...files.map((f) => fs.statSync(f).mtimeMs));
}

function upToDate() {
  if (!outputs.every((f) => fs.existsSync(f))) return false;
  const oldestOut = Math.min(...outputs.map((f) => fs.statSync(f).mtimeMs));
  return oldestOut >= newestSource();
}



function main() {
  if (process.platform !== 'linux') {
    console.log(`test-native: the test hooks are Linux-only; skipped on ${process.platform}`);
    return 0;
  }
  if (upToDate()) return 0;
  const gyp = nodeGyp();
  if (!gyp) {
    console.error('test-native: node-gyp not found (it ships with npm); run the tests through `npm test`');
    return 1;
  }
  const env = { ...process.env };
  const nodedir = env.npm_config_nodedir || localNodedir();
  if (nodedir) env.npm_config_nodedir = nodedir;
  // configure once (it writes build/Makefile), then `build` lets make recompile only what changed.
  // A binding.gyp newer than the Makefile (a target added) needs configure again.
  const makefile = path.join(dir, 'build', 'Makefile');
  const configured =
    fs.existsSync(makefile) && fs.existsSync(path.join(dir, 'build', 'config.gypi')) && fs.statSync(makefile).mtimeMs >= fs.statSync(path.join(dir, 'binding.gyp')).mtimeMs;
  const steps = configured ? [['build']] : [['configure'], ['build']];
  console.log(`test-native: building the test addons in ${path.relative(root, dir)}/build`);
  for (const args of steps) {
    const r = spawnSync(process.execPath, [gyp, ...args, '-j', '2'], { cwd: dir, env, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`test-native: node-gyp ${args[0]} failed (exit ${r.status ?? r.signal})`);
      return 1;
    }
  }
  // make skips relinking an unchanged output; touch so the mtime check above sees it current.
  const now = new Date();
  for (const f of outputs) fs.utimesSync(f, now, now);
  return 0;
}

process.exit(main());
