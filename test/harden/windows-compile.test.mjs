// Windows compile check (not a run): scripts/check-windows.sh syntax-checks the Windows sources
// with mingw-w64 against the Node-API headers. A deliberately broken file proves the check bites.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { root } from './helpers.mjs';

const script = path.join(root, 'scripts', 'check-windows.sh');
const hasMingw = spawnSync('sh', ['-c', 'command -v x86_64-w64-mingw32-g++'], { encoding: 'utf8' }).status === 0;
const skip = !hasMingw ? 'x86_64-w64-mingw32-g++ is not installed (apt-get install g++-mingw-w64-x86-64)' : false;

test('the Windows sources compile with mingw-w64 (-fsyntax-only)', { skip }, () => {
  const r = spawnSync('sh', [script], { encoding: 'utf8', cwd: root, timeout: 120000 });
  assert.equal(r.status, 0, `check-windows.sh failed:\n${r.stdout}\n${r.stderr}`);
  const expected = ['harden/harden_win.cc', 'addon/addon_harden.cc', 'memory/memory_win.cc', 'addon/addon_memory.cc', 'scanner/scanner_pass.cc', 'addon/addon_scanner.cc',
    'addon/addon_watch.cc', 'addon/addon_tree.cc',
    // Every hash source but the arm64-only kernels (binding.gyp builds those for target_arch=='arm64' only).
    ...fs.readdirSync(path.join(root, 'native', 'hash')).filter((f) => f.endsWith('.cc') && !/(_neon|_arm)\.cc$/.test(f)).map((f) => path.join('hash', f))];
  for (const f of expected) {
    assert.ok(r.stdout.includes(`check-windows: ok   ${path.join(root, 'native', f)}`), `${f} must be checked:\n${r.stdout}`);
  }
});

test('the check fails on Windows code that does not compile', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procguard-wincheck-'));
  try {
    const bad = path.join(dir, 'bad_win.cc');
    // Valid on Linux, wrong on Windows: SetSecurityInfo takes 7 arguments.
    fs.writeFileSync(bad, '#include <windows.h>\n#include <aclapi.h>\nint f() { return SetSecurityInfo(GetCurrentProcess()); }\n');
    const r = spawnSync('sh', [script, bad], { encoding: 'utf8', cwd: root, timeout: 120000 });
    assert.equal(r.status, 1, `a broken file must fail the check:\n${r.stdout}\n${r.stderr}`);
    assert.ok(r.stderr.includes(`check-windows: FAIL ${bad}`), r.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
