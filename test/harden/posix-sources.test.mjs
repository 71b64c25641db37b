// macOS and FreeBSD hardening sources: no SDK for either exists here, so this is only a C++
// syntax/type check with g++ against small declaration shims transcribed from the man pages
// (test/harden/fixtures/shims). It catches C++ mistakes, not API mistakes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fixtures, root } from './helpers.mjs';

const hasGxx = spawnSync('sh', ['-c', 'command -v g++'], { encoding: 'utf8' }).status === 0;
const skip = process.platform !== 'linux' ? 'the shims target a Linux host' : !hasGxx ? 'g++ is not installed' : false;

for (const os of ['darwin', 'freebsd']) {
  test(`native/harden_${os}.cc passes a g++ -fsyntax-only check against man-page shims`, { skip }, () => {
    const r = spawnSync('g++', [
      '-fsyntax-only', '-std=c++17', '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter',
      `-I${path.join(fixtures, 'shims', os)}`, `-I${path.join(root, 'native')}`, path.join(root, 'native', `harden_${os}.cc`),
    ], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, `harden_${os}.cc does not compile:\n${r.stderr}`);
  });
}
