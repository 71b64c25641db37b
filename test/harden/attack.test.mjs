// External attack harness (Linux, real kernel): an unprivileged attacker of the same uid as the
// target tries process_vm_readv, PTRACE_ATTACH and /proc/<pid>/mem before and after the target
// calls harden(). A control target that never hardens must stay readable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon, attack, fixtures, isRoot, jsonLines, NOBODY, worldReadableDir } from './helpers.mjs';

const EPERM = 1;
const EACCES = 13;
const skip =
  process.platform !== 'linux' ? 'the attack harness is Linux only'
  : !isRoot ? 'needs root to run target and attacker as uid 65534'
  : !fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3 is missing'
  : !fs.existsSync(addon) ? `no native build at ${addon} (run npm run build:native)`
  : false;

async function withTarget(mode, fn) {
  const dir = worldReadableDir([path.join(fixtures, 'attack-target.js'), path.join(fixtures, 'exe-marker.js'), path.join(fixtures, 'attacker.py'), addon]);
  const t = jsonLines(process.execPath, [path.join(dir, 'attack-target.js'), path.join(dir, 'procguard.node'), mode], {
    uid: NOBODY, gid: NOBODY, cwd: dir,
  });
  try {
    const ready = await t.next();
    assert.equal(ready.phase, 'ready', `target did not start: ${JSON.stringify(ready)} ${t.stderr()}`);
    assert.equal(ready.uid, NOBODY, 'target must run as uid 65534');
    await fn(t, ready, dir);
  } finally {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function assertReadable(a, when) {
  assert.deepEqual(a.vm, { ok: true, errno: 0, match: true }, `${when}: process_vm_readv should read the marker bytes`);
  assert.equal(a.ptrace.ok, true, `${when}: PTRACE_ATTACH should succeed (errno ${a.ptrace.errno})`);
  assert.equal(a.ptrace.detached, true, `${when}: PTRACE_DETACH should succeed`);
  assert.deepEqual(a.mem, { ok: true, errno: 0, match: true }, `${when}: /proc/<pid>/mem should read the marker bytes`);
}

test('same-uid attacker is locked out after harden()', { skip }, async () => {
  await withTarget('harden', async (t, ready, dir) => {
    assert.equal(ready.state.dumpable, 1, 'target starts dumpable');
    assertReadable(attack(dir, ready), 'before harden');

    t.send('go');
    const done = await t.next();
    assert.equal(done.phase, 'done', `target did not harden: ${JSON.stringify(done)}`);
    const byId = Object.fromEntries(done.steps.map((s) => [s.id, s]));
    assert.equal(byId.dumpable.status, 'applied', `dumpable: ${JSON.stringify(byId.dumpable)}`);
    assert.equal(byId.dumpable.verified, true, 'dumpable read-back');
    // 'already' only if the test runner itself started with a 0/0 core limit.
    const coreWas00 = ready.state.coreSoft === 0 && ready.state.coreHard === 0;
    assert.equal(byId['core-limit'].status, coreWas00 ? 'already' : 'applied', `core-limit: ${JSON.stringify(byId['core-limit'])}`);
    assert.equal(byId['core-limit'].verified, true, 'core-limit read-back');
    assert.deepEqual(done.state, { dumpable: 0, coreSoft: 0, coreHard: 0 }, 'target state after harden');

    const a = attack(dir, ready);
    // Measured on this kernel: mm_access() fails with EACCES, which process_vm_readv turns
    // into EPERM; ptrace_attach returns EPERM; opening /proc/<pid>/mem fails with EACCES
    // (the file is now owned by root, mode 0600).
    assert.deepEqual(a.vm, { ok: false, errno: EPERM, match: false }, 'after harden: process_vm_readv must fail with EPERM');
    assert.deepEqual(a.ptrace, { ok: false, errno: EPERM }, 'after harden: PTRACE_ATTACH must fail with EPERM');
    assert.deepEqual(a.mem, { ok: false, errno: EACCES, stage: 'open' }, 'after harden: opening /proc/<pid>/mem must fail with EACCES');
    assert.deepEqual(a.coreLimit, ['0', '0'], 'attacker sees Max core file size 0 0');
    const limits = fs.readFileSync(`/proc/${ready.pid}/limits`, 'utf8');
    assert.match(limits, /^Max core file size\s+0\s+0\s+bytes\s*$/m, `target /proc/<pid>/limits:\n${limits}`);
  });
});

test('control target that does not harden stays readable', { skip }, async () => {
  await withTarget('control', async (t, ready, dir) => {
    assertReadable(attack(dir, ready), 'control, first probe');
    t.send('go');
    const done = await t.next();
    assert.deepEqual(done.steps, [], 'control target must not harden');
    assert.deepEqual(done.state, ready.state, 'control target state (dumpable, core limit) must be unchanged');
    assertReadable(attack(dir, ready), 'control, second probe');
  });
});
