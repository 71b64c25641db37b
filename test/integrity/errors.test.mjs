// Issue 3, test 8: a failure of the checker is a typed error (or an error in the Status), never a
// finding; and a finding is never an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Guard, ProcfsUnreadableError, ProcfsParseError } from '../../dist/index.js';
import { CodeMonitor } from '../../dist/internals.js';
import { loadTestLib, flip, hooksMissing } from './helpers.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-err-'));

test('an unreadable maps source rejects check() with ProcfsUnreadableError (ERR_PROCFS_UNREADABLE)', async () => {
  const m = new CodeMonitor({ mapsPath: path.join(tmp, 'missing-maps') });
  try {
    await assert.rejects(m.check(), (e) => e instanceof ProcfsUnreadableError && e.code === 'ERR_PROCFS_UNREADABLE' && /missing-maps/.test(e.message));
  } finally {
    m.close();
  }
});

test('malformed maps text rejects check() with ProcfsParseError naming the line', async () => {
  const p = path.join(tmp, 'bad-maps');
  fs.writeFileSync(p, '00400000-00452000 r-xp 00000000 08:02 173521 /bin/x\nzzzz-yyyy r-xp 0 0:0 0\n');
  const m = new CodeMonitor({ mapsPath: p });
  try {
    await assert.rejects(m.check(), (e) => e instanceof ProcfsParseError && e.code === 'ERR_PROCFS_PARSE' && e.line === 2);
  } finally {
    m.close();
  }
});

test('a Guard whose code checker fails shows a checker error in status and emits no finding for it', async () => {
  const g = new Guard({ mapsPath: path.join(tmp, 'missing-maps'), kernel: false, launch: false });
  const findings = [];
  g.on('finding', (f) => findings.push(f));
  try {
    const s = await g.start();
    assert.equal(s.checkerErrors.length, 1, `one checker error expected: ${JSON.stringify(s.checkerErrors)}`);
    assert.equal(s.checkerErrors[0].code, 'ERR_PROCFS_UNREADABLE');
    assert.equal(s.checkerErrors[0].subsystem, 'code');
    assert.deepEqual(s.findings, [], 'a checker failure is not a finding');
    assert.deepEqual(findings, []);
  } finally {
    g.stop();
  }
});

test('a real code change is a finding, not a checker error', { skip: hooksMissing }, async () => {
  const lib = loadTestLib();
  const g = new Guard({ kernel: false, launch: false, sentinelMs: 0 });
  try {
    await g.start();
    const restore = flip(lib.blob + 10n);
    let s;
    try {
      s = await g.check();
    } finally {
      restore();
    }
    assert.deepEqual(s.checkerErrors, [], 'no checker error');
    assert.equal(s.findings.filter((f) => f.kind === 'code-modified' && f.path === lib.path).length, 1);
    assert.equal(s.state, 'findings');
    assert.equal(s.severity, 'log', 'default policy: one subsystem diverged -> log');
  } finally {
    g.stop();
  }
});

test('misuse of CodeMonitor options raises RangeError with the exact message', () => {
  assert.throws(() => new CodeMonitor({ hashMode: 'md5' }), { name: 'RangeError', message: "hashMode must be 'blake3' or 'fast', got 'md5'" });
  assert.throws(() => new CodeMonitor({ cpuBudget: 2 }), { name: 'RangeError', message: 'cpuBudget must be a number from 0 to 1' });
  assert.throws(() => new Guard({ periodMs: 1 }), { name: 'RangeError', message: 'periodMs must be a number >= 50' });
});
