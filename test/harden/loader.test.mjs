// Loader failure: a missing or wrong binary gives NativeLoadError (ERR_NATIVE_LOAD) whose
// message names every path tried and the remedy; harden() surfaces the same error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { root } from './helpers.mjs';
import { hooksPath, hooksMissing } from '../native/hooks.mjs';
import { loadNative } from '../../dist/native.js';
import { NativeLoadError } from '../../dist/errors.js';
import { scaled } from '../time-scale.mjs';

const tmp = (p) => fs.mkdtempSync(path.join(os.tmpdir(), p));
const expectedPaths = (dir) => [
  path.join(dir, 'build', 'Release', 'procguard.node'),
  path.join(dir, 'build', 'Debug', 'procguard.node'),
  path.join(dir, 'build', `${process.platform}-${process.arch}`, 'Release', 'procguard.node'),
  path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`),
];

function catchLoad(dir) {
  try {
    loadNative(dir);
  } catch (e) {
    return e;
  }
  assert.fail(`loadNative(${dir}) must throw`);
}

test('loadNative on a directory without a build throws ERR_NATIVE_LOAD naming every path and the remedy', () => {
  const dir = tmp('procguard-nobuild-');
  try {
    const e = catchLoad(dir);
    assert.ok(e instanceof NativeLoadError, `expected NativeLoadError, got ${e?.constructor?.name}`);
    assert.equal(e.code, 'ERR_NATIVE_LOAD');
    assert.deepEqual(e.tried, expectedPaths(dir));
    assert.match(e.message, /^procguard: cannot load the native addon \(no build found\)\./);
    for (const p of expectedPaths(dir)) assert.ok(e.message.includes(`  - ${p} (missing)`), `message must name ${p}:\n${e.message}`);
    assert.ok(e.message.includes('npm rebuild procguard'), 'message must give the rebuild command');
    assert.ok(e.message.includes('g++ make python3'), 'message must name the Linux build tools');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt procguard.node is reported as existing but failing to load', () => {
  const dir = tmp('procguard-badbuild-');
  try {
    const bin = path.join(dir, 'build', 'Release', 'procguard.node');
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    fs.writeFileSync(bin, 'not an ELF file');
    const e = catchLoad(dir);
    assert.equal(e.code, 'ERR_NATIVE_LOAD');
    assert.match(e.message, /a build exists but failed to load/);
    assert.ok(e.message.includes(`  - ${bin} (exists, failed: `), `message must say the file exists and failed:\n${e.message}`);
    assert.ok(e.cause instanceof Error, 'the dlopen error is kept as cause');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('another addon placed at procguard.node is rejected as not the procguard binding', { skip: hooksMissing }, () => {
  const dir = tmp('procguard-wrongbuild-');
  try {
    const bin = path.join(dir, 'build', 'Release', 'procguard.node');
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    fs.copyFileSync(hooksPath, bin);
    const e = catchLoad(dir);
    assert.equal(e.code, 'ERR_NATIVE_LOAD');
    assert.ok(e.message.includes(`  - ${bin} (exists, failed: the loaded module is not the procguard binding (missing exports))`), e.message);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('harden() and hardeningState() throw NativeLoadError when the package has no build', () => {
  // A copy of dist/ with no build/ next to it: the package root the loader searches is the copy.
  const dir = tmp('procguard-nobuild-pkg-');
  try {
    fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    const script = `
      const { harden, hardeningState } = require(${JSON.stringify(path.join(dir, 'dist', 'harden.js'))});
      const out = [];
      for (const f of [() => harden(), () => harden({ dryRun: true }), () => hardeningState()]) {
        try { f(); out.push({ ok: true }); } catch (e) { out.push({ name: e.name, code: e.code, message: e.message }); }
      }
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: scaled(20000) });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    for (const e of out) {
      assert.equal(e.code, 'ERR_NATIVE_LOAD', `expected ERR_NATIVE_LOAD, got ${JSON.stringify(e)}`);
      assert.equal(e.name, 'NativeLoadError');
      assert.ok(e.message.includes(path.join(dir, 'build', 'Release', 'procguard.node')), e.message);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
