// The 4 KiB-digest / OS-page arithmetic (native/memory/page_math.h, used by the scanner's residency and
// sentinel paths) for 4, 16 and 64 KiB OS pages, compiled with the host C++ compiler and run.
// The kernels here have 4 KiB pages: this is the part of other page sizes that a test can show
// without that hardware (see docs/tested-platforms.md, arm64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const cxx = ['g++', 'c++', 'clang++'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);

test('regions on 4, 16 and 64 KiB pages map onto 4 KiB digest pages exactly once each', { skip: !cxx && 'no C++ compiler (g++) on PATH' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-pagemath-'));
  try {
    const bin = path.join(dir, 'page_math_test');
    const c = spawnSync(cxx, ['-std=c++17', '-Wall', '-Werror', '-I', path.join(root, 'native', 'memory'), path.join(here, 'page_math_test.cc'), '-o', bin], { encoding: 'utf8' });
    assert.equal(c.status, 0, `compile failed: ${c.stderr}`);
    const r = spawnSync(bin, [], { encoding: 'utf8' });
    assert.equal(r.status, 0, `page_math unit test failed:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /page_math: ok/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
