// harden() on the Windows build, in this process: dry run, the process-dacl and thread-dacl steps
// with their read-back, idempotence, the keep-dumps mode and the custom-DACL warnings. What other
// processes can still do afterwards is test/windows/attack.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipOffWindows } from './helpers.mjs';

const skip = skipOffWindows;
const step = (r, id) => r.steps.find((s) => s.id === id);
const IDS = ['dumpable', 'core-limit', 'deny-attach', 'trace-ctl', 'process-dacl', 'thread-dacl'];

test('dry run: reports what it would set and changes nothing', { skip }, async () => {
  const { harden } = await import('../../dist/index.js');
  const r = harden({ dryRun: true });
  assert.deepEqual(r.steps.map((s) => s.id), IDS);
  assert.match(step(r, 'process-dacl').detail, /^dry run: would set the protected process DACL allow S-1-5-[\d-]+ 0x101001; allow S-1-3-4 0x101001/);
  assert.match(step(r, 'thread-dacl').detail, /^dry run: would set threads: allow S-1-5-[\d-]+ 0x120800; allow S-1-3-4 0x120800; token default DACL: /);
  assert.equal(harden({ dryRun: true }).steps.find((s) => s.id === 'thread-dacl').status, 'skipped', 'still nothing in force');
});

test('custom DACL: every right beyond query-limited|terminate|synchronize is named in a warning', { skip }, async () => {
  const { harden } = await import('../../dist/index.js');
  const r = harden({
    dryRun: true,
    dacl: [
      { type: 'allow', sid: 'USER', access: ['query-limited', 'terminate', 'synchronize', 'suspend-resume', 'create-process', 'set-information', 'set-quota'] },
      { type: 'allow', sid: 'OWNER_RIGHTS', access: ['query-limited'] },
    ],
  });
  const w = r.warnings.find((x) => x.startsWith('custom DACL allows'));
  assert.equal(w, 'custom DACL allows create-process, set-quota, set-information, suspend-resume (beyond query-limited, terminate, synchronize): each of these lets a same-user process change or stall this process');
  assert.match(step(r, 'process-dacl').detail, /0x101b81/, 'the dry run shows the custom mask');
});

test("crashReporter 'keep-dumps' skips both DACL steps", { skip }, async () => {
  const { harden } = await import('../../dist/index.js');
  const r = harden({ dryRun: true, crashReporter: 'keep-dumps' });
  for (const id of ['process-dacl', 'thread-dacl']) assert.equal(step(r, id).status, 'skipped', `${id}: ${step(r, id).detail}`);
});

test('harden(): process and thread DACLs applied and read back; a second call reports already', { skip }, async (t) => {
  const { harden } = await import('../../dist/index.js');
  const r = harden();
  const p = step(r, 'process-dacl');
  const th = step(r, 'thread-dacl');
  assert.equal(p.status, 'applied', p.detail);
  assert.equal(th.status, 'applied', th.detail);
  assert.equal(th.verified, true, th.detail);
  const m = /read back: (\d+) of (\d+) threads restricted \((\d+) protected\)/.exec(th.detail);
  assert.ok(m, th.detail);
  assert.ok(Number(m[2]) >= 3, `node.exe has several threads: ${th.detail}`);
  assert.equal(m[1], m[2], 'every thread restricted');
  await t.test('process DACL read back with the protected flag', () => {
    assert.equal(p.verified, true, p.detail);
    assert.match(p.detail, /read back allow S-1-5-[\d-]+ 0x101001; allow S-1-3-4 0x101001 \(protected\)$/);
  });
  await t.test('thread DACLs carry the protected flag', () => assert.equal(m[3], m[1], th.detail));
  assert.equal(r.verified, true, `report verified: ${r.warnings}`);
  assert.deepEqual(r.warnings, []);
  // A thread created after harden(): a worker; the next call sees it restricted by the default DACL.
  const { Worker } = await import('node:worker_threads');
  const w = new Worker('setTimeout(() => {}, 3000)', { eval: true });
  await new Promise((resolve) => w.once('online', resolve));
  try {
    const again = harden();
    assert.equal(step(again, 'process-dacl').status, 'already', step(again, 'process-dacl').detail);
    const th2 = step(again, 'thread-dacl');
    assert.equal(th2.status, 'already', `threads born after harden() get the default DACL: ${th2.detail}`);
    assert.equal(th2.verified, true);
  } finally {
    await w.terminate();
  }
});
