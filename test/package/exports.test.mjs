// The package is usable from require() and import, its entry points resolve, and types are emitted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { root } from '../integrity/helpers.mjs';

const require = createRequire(path.join(root, 'package.json'));

test('require() and import() of procguard expose the same public API', async () => {
  const cjs = require('procguard');
  const esm = await import('procguard');
  for (const name of ['harden', 'hardeningState', 'Guard', 'defaultPolicy', 'classifyAll', 'overallSeverity', 'runAction', 'checkPortals', 'createManifest', 'verifyApp', 'ProcguardError', 'GuardStateError']) {
    assert.equal(typeof cjs[name], 'function', `require: ${name}`);
    assert.equal(esm[name], cjs[name], `import: ${name}`);
  }
});

test('the lower-level pieces are behind procguard/internals, not the root', async () => {
  const pub = require('procguard');
  const cjs = require('procguard/internals');
  const esm = await import('procguard/internals');
  for (const name of ['CodeMonitor', 'KernelMonitor', 'TreeMonitor', 'takeSnapshot', 'diffSnapshots', 'auditLaunch', 'parseMaps', 'parseStatus', 'parseCgroup', 'parseStat', 'classifyRegions', 'predictPortals']) {
    assert.equal(typeof cjs[name], 'function', `procguard/internals: ${name}`);
    assert.equal(esm[name], cjs[name], `import procguard/internals: ${name}`);
    assert.equal(pub[name], undefined, `${name} is not exported from the root any more`);
  }
  assert.ok(fs.existsSync(path.join(root, 'dist/internals.d.ts')), 'types of procguard/internals');
});

test('every exports entry resolves to an emitted file with type declarations', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  for (const [entry, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    assert.ok(fs.existsSync(path.join(root, target.default)), `${entry}: ${target.default} missing`);
    assert.ok(fs.existsSync(path.join(root, target.types)), `${entry}: ${target.types} missing`);
  }
  assert.ok(fs.existsSync(path.join(root, 'dist/index.d.ts')));
});

test('the addon is compiled with hardening flags (full RELRO, NX stack, stack protector)', () => {
  const { execFileSync } = require('node:child_process');
  let out;
  try {
    out = execFileSync('readelf', ['-lW', '-d', '-s', path.join(root, 'build/Release/procguard.node')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (e) {
    assert.fail(`readelf failed: ${e.message}`);
  }
  assert.match(out, /GNU_RELRO/, 'RELRO segment');
  assert.match(out, /BIND_NOW|FLAGS.*NOW/, 'immediate binding (full RELRO)');
  assert.match(out, /GNU_STACK\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+RW /, 'non-executable stack');
  assert.match(out, /__stack_chk_fail/, 'stack protector');
});
