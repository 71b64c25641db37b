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
  test(`native/harden/harden_${os}.cc passes a g++ -fsyntax-only check against man-page shims`, { skip }, () => {
    const r = spawnSync('g++', [
      '-fsyntax-only', '-std=c++17', '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter',
      `-I${path.join(fixtures, 'shims', os)}`, `-I${path.join(root, 'native', 'harden')}`, path.join(root, 'native', 'harden', `harden_${os}.cc`),
    ], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, `harden_${os}.cc does not compile:\n${r.stderr}`);
  });
}

// native/memory/memory_posix.cc holds both OS branches behind __APPLE__ / __FreeBSD__. Defining those on a
// Linux host breaks the host's own headers, so a forced-include prelude pulls the host headers in
// first and then defines the macro (fixtures/shims/<os>/prelude.h).
function checkMemoryPosix(os, extra = []) {
  const shims = path.join(fixtures, 'shims', os);
  return spawnSync('g++', [
    '-fsyntax-only', '-std=c++17', '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter', ...extra,
    `-I${shims}`, `-I${path.join(root, 'native', 'memory')}`, path.join(root, 'native', 'memory', 'memory_posix.cc'),
  ], { encoding: 'utf8', timeout: 60000 });
}

for (const os of ['darwin', 'freebsd']) {
  test(`native/memory/memory_posix.cc (${os} branch) passes a g++ -fsyntax-only check against man-page shims`, { skip }, () => {
    const r = checkMemoryPosix(os, ['-include', path.join(fixtures, 'shims', os, 'prelude.h')]);
    assert.equal(r.status, 0, `memory_posix.cc (${os}) does not compile:\n${r.stderr}`);
  });
}

test('native/memory/memory_posix.cc refuses to compile for an OS it does not implement (the check selects a branch)', { skip }, () => {
  const r = checkMemoryPosix('freebsd');
  assert.notEqual(r.status, 0, 'without __APPLE__ or __FreeBSD__ the file must hit its #error');
  assert.match(r.stderr, /memory_posix\.cc is for macOS and FreeBSD/, `expected the #error message:\n${r.stderr}`);
});
