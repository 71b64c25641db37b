// scripts/windows/build-addon.mjs reads binding.gyp the way gyp does for OS=='win', x64: the
// Windows platform files and the shared engine, never a Linux/POSIX file or a test-only target.
// Runs on every OS (no toolchain needed: --list stops before compiling).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { root } from './helpers.mjs';

const skip = process.platform === 'win32' && 'the build runs on the Linux side (host python3 reads binding.gyp); checked there';

test('the mingw build compiles the binding.gyp sources for OS==win, x64', { skip }, () => {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'windows', 'build-addon.mjs'), '--list'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const units = JSON.parse(r.stdout);
  const srcs = units.map((u) => u.src);
  for (const f of ['native/harden/harden_win.cc', 'native/memory/memory_win.cc', 'native/tree/tree_win.cc', 'native/addon/addon.cc', 'native/scanner/scanner_pass.cc', 'native/addon/addon_watch.cc',
    'native/addon/addon_tree.cc', 'native/hash/blake3.cc']) {
    assert.ok(srcs.includes(f), `${f} must be built: ${srcs.join(', ')}`);
  }
  assert.deepEqual(srcs.filter((f) => /_(linux|darwin|freebsd|posix)\.cc$|testing\//.test(f)), [], 'no other OS file, no test-only source');
  assert.deepEqual(units.find((u) => u.src === 'native/hash/blake3_avx2.cc')?.flags, ['-mavx2'], 'each SIMD kernel keeps its own ISA flags');
  assert.deepEqual(units.find((u) => u.src === 'native/harden/harden_win.cc').flags, [], 'portable files get no ISA flag');
  assert.equal(new Set(srcs).size, srcs.length, 'no source twice');
  assert.ok(srcs.includes('native/addon/host_imports_win.cc'), 'the Node-API binding to the host executable is built (the mingw build names no host DLL)');
});
