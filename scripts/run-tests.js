#!/usr/bin/env node
// Runs every test/**/*.test.mjs file with node's built-in test runner (one process per file).
// Usage: node scripts/run-tests.js [filter-substring ...]
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
function walk(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'fixtures' && e.name !== 'node_modules') out.push(...walk(p)); }
    else if (e.name.endsWith('.test.mjs')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
// PROCGUARD_TEST_EXCLUDE: a regular expression of test files to leave out (the qemu runs leave out
// host-toolchain checks and long soak tests that the native run already covers).
const exclude = process.env.PROCGUARD_TEST_EXCLUDE ? new RegExp(process.env.PROCGUARD_TEST_EXCLUDE) : null;
const files = walk(path.join(root, 'test'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .filter((f) => !exclude || !exclude.test(path.relative(root, f)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
// The tests never use the session bus of the desktop they run on (the portal tests start their own):
// harden()'s portal prediction would otherwise add a warning on a developer's desktop and not in CI.
const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:' };
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit', cwd: root, env });
process.exit(r.status ?? 1);
