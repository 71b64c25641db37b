// A harden step whose read-back disagrees is not verified: a child with an LD_PRELOAD prctl shim
// (test/native/prctlshim.c) whose PR_GET_DUMPABLE answers 1 after the process set 0. The kernel did
// what was asked; the read-back says otherwise, and the report must say so (verified: false, a
// warning), not trust the call's return value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon, fixtures, root } from './helpers.mjs';
import { prctlShimPath } from '../native/hooks.mjs';
import { scaled } from '../time-scale.mjs';

const skip =
  process.platform !== 'linux' ? 'the dumpable step and LD_PRELOAD are Linux here' : !fs.existsSync(addon) ? `no native build at ${addon}` : !fs.existsSync(prctlShimPath) ? 'pg_prctlshim.so not built (node scripts/test-native.js)' : false;

function run(env) {
  const r = spawnSync(process.execPath, [path.join(fixtures, 'harden-child.js'), path.join(root, 'dist'), '[null]'], { encoding: 'utf8', timeout: scaled(20000), env: { ...process.env, ...env } });
  assert.equal(r.status, 0, `child failed (status ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('a dumpable read-back that disagrees: verified false on the step and the report, with a warning', { skip }, () => {
  const out = run({ LD_PRELOAD: prctlShimPath });
  const r = out.calls[0].report;
  const dumpable = r.steps.find((s) => s.id === 'dumpable');
  assert.equal(dumpable.status, 'applied', `the call itself succeeded: ${JSON.stringify(dumpable)}`);
  assert.equal(dumpable.verified, false, `the step is not verified when the read-back says 1: ${JSON.stringify(dumpable)}`);
  assert.match(dumpable.detail, /read back 1/, 'the detail gives the value read back');
  assert.equal(r.verified, false, 'the report is not verified');
  assert.ok(
    r.warnings.some((w) => /dumpable could not be verified by read-back/.test(w)),
    `a warning names the step: ${JSON.stringify(r.warnings)}`,
  );
});

test('the same child without the shim verifies (the shim is what disagrees)', { skip }, () => {
  const r = run({}).calls[0].report;
  assert.equal(r.steps.find((s) => s.id === 'dumpable').verified, true, 'read back 0 without the shim');
  assert.equal(r.verified, true);
});
