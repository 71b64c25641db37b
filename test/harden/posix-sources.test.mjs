// macOS and FreeBSD hardening sources: no SDK for either exists here, so this is only a C++
// syntax/type check with g++ against small declaration shims transcribed from the man pages
// (test/harden/fixtures/shims). It catches C++ mistakes, not API mistakes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os_ from 'node:os';
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

// The macOS/FreeBSD memory code: the shared part (native/memory/memory_posix.cc) and one per-OS file
// (memory_darwin.cc, memory_freebsd.cc), which binding.gyp builds together. Defining the target OS
// macro on a Linux host breaks the host's own headers, so a forced-include prelude pulls the host
// headers in first and then defines the macro (fixtures/shims/<os>/prelude.h).
function checkMemory(os, file, extra = []) {
  const shims = path.join(fixtures, 'shims', os);
  return spawnSync('g++', [
    ...(extra.includes('-c') ? [] : ['-fsyntax-only']), '-std=c++17', '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter', ...extra,
    `-I${shims}`, `-I${path.join(root, 'native', 'memory')}`, path.join(root, 'native', 'memory', file),
  ], { encoding: 'utf8', timeout: 60000 });
}

for (const os of ['darwin', 'freebsd']) {
  for (const file of ['memory_posix.cc', `memory_${os}.cc`]) {
    test(`native/memory/${file} (${os}) passes a g++ -fsyntax-only check against man-page shims`, { skip }, () => {
      const r = checkMemory(os, file, ['-include', path.join(fixtures, 'shims', os, 'prelude.h')]);
      assert.equal(r.status, 0, `${file} (${os}) does not compile:\n${r.stderr}`);
    });
  }

  // -fsyntax-only cannot see a hook memory_posix.h declares but the per-OS file does not define:
  // compile both to objects and compare their symbol tables (nothing links without the OS's SDK).
  test(`native/memory/memory_${os}.cc defines every pg::posix function memory_posix.cc calls`, { skip }, () => {
    const dir = fs.mkdtempSync(path.join(os_.tmpdir(), 'procguard-posix-'));
    try {
      const symbols = (file, kind) => {
        const obj = path.join(dir, `${file}.o`);
        const c = checkMemory(os, file, ['-include', path.join(fixtures, 'shims', os, 'prelude.h'), '-c', '-o', obj]);
        assert.equal(c.status, 0, `${file} (${os}) does not compile:\n${c.stderr}`);
        const nm = spawnSync('nm', ['-C', obj], { encoding: 'utf8' });
        assert.equal(nm.status, 0, `nm ${obj} failed: ${nm.stderr}`);
        return nm.stdout.split('\n').filter((l) => l.includes(` ${kind} pg::posix::`)).map((l) => l.slice(l.indexOf('pg::posix::'))).sort();
      };
      const needed = symbols('memory_posix.cc', 'U');
      assert.ok(needed.length >= 3, `memory_posix.cc should call the per-OS hooks: ${needed.join(', ')}`);
      const defined = symbols(`memory_${os}.cc`, 'T');
      assert.deepEqual(needed.filter((f) => !defined.includes(f)), [], `memory_${os}.cc leaves these undefined`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`native/memory/memory_${os}.cc refuses to compile for another OS (the check compiles the ${os} file)`, { skip }, () => {
    const r = checkMemory(os, `memory_${os}.cc`);
    assert.notEqual(r.status, 0, `without the ${os} macro the file must hit its #error`);
    assert.match(r.stderr, new RegExp(`memory_${os}\\.cc is for`), `expected the #error message:\n${r.stderr}`);
  });
}
