#!/usr/bin/env node
// clang-format over the C/C++ sources (native/ and test/native/) with the checked-in .clang-format.
// `--check` (npm run lint): report files that differ and exit 1; no flag (npm run format): rewrite them.
// CLANG_FORMAT names another binary. Without clang-format it fails with the install command.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = process.env.CLANG_FORMAT || 'clang-format';

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

const check = process.argv.includes('--check');
const files = [...sources(path.join(root, 'native')), ...sources(path.join(root, 'test', 'native'))].sort();
const args = check ? ['--dry-run', '--Werror', ...files] : ['-i', ...files];
const r = spawnSync(bin, args, { cwd: root, stdio: 'inherit' });
if (r.error) {
  console.error(`clang-format: cannot run ${bin} (${r.error.code}); Debian: apt-get install clang-format`);
  process.exit(1);
}
if (r.status !== 0 && check) console.error('clang-format: the files above differ from .clang-format; run `npm run format`');
process.exit(r.status ?? 1);
