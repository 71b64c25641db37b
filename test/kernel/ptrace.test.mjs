// A same-uid unprivileged tracer (python3 ctypes, PTRACE_SEIZE) attaches to an unprivileged child
// running the KernelMonitor on a timer: the monitor reports tracer-attached on its own and on a
// manual check, and the observation closes when the tracer detaches. Both run as uid 65534.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { worldReadableCopy, byKey, lineProc, reapChildren } from './helpers.mjs';

const NOBODY = { uid: 65534, gid: 65534 };
let scope;
try {
  scope = Number(fs.readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8'));
} catch {
  scope = 0; // no Yama: classic same-uid ptrace rules
}
const skip =
  process.getuid() !== 0
    ? 'needs root to spawn uid 65534 processes'
    : scope >= 1
      ? `Yama ptrace_scope=${scope} forbids non-descendant same-uid attach`
      : !fs.existsSync('/usr/bin/python3')
        ? 'needs /usr/bin/python3'
        : false;


// A failing test must not leave tracer.py (waiting on its stdin) or the monitor child alive: the
// file would never exit and `npm test` would hang instead of failing.
test.afterEach(reapChildren);

const tracers = [];

async function attachAndDetach(mon, target, expectTid, dir) {
  const from = mon.lines.length;
  const tracer = lineProc('/usr/bin/python3', [path.join(dir, 'children', 'tracer.py'), String(target)], NOBODY, (l) => l);
  tracers.push(tracer);
  const seized = await tracer.waitFor((l) => l.startsWith('seized') || l.startsWith('error'), 'tracer seize');
  assert.match(seized, /^seized \d+$/, `tracer could not seize ${target}: ${seized}`);
  const tracerPid = Number(seized.split(' ')[1]);

  // The timer reports it without any check() call from outside.
  const tick = await mon.waitFor((l) => l.event === 'tick' && byKey(l.observations, 'kernel:tracer-attached'), 'timer tick with tracer-attached', from);
  const o = byKey(tick.observations, 'kernel:tracer-attached');
  assert.equal(o.evidence.tracerPid, tracerPid, 'observation names the tracer pid');
  assert.equal(o.evidence.tracerComm, 'python3', 'observation names the tracer comm');
  assert.equal(o.evidence.tid, expectTid, 'observation names the traced thread');
  assert.equal(o.before.attached, false, 'before: no tracer at baseline');
  assert.equal(o.after.pid, tracerPid, 'after: the tracer');

  // And a manual check reports it too.
  const c0 = mon.lines.length;
  mon.send('check');
  const check = await mon.waitFor((l) => l.event === 'check', 'check result', c0);
  assert.ok(byKey(check.observations, 'kernel:tracer-attached'), 'check() reports tracer-attached while attached');

  // Detach: the observation closes.
  const d0 = mon.lines.length;
  tracer.send('detach');
  assert.equal(await tracer.waitFor((l) => l === 'detached' || l.startsWith('error'), 'tracer detach'), 'detached');
  await mon.waitFor((l) => l.event === 'tick' && !byKey(l.observations, 'kernel:tracer-attached'), 'timer tick with the tracer gone', d0);
  const c1 = mon.lines.length;
  mon.send('check');
  const after = await mon.waitFor((l) => l.event === 'check', 'check after detach', c1);
  assert.deepEqual(after.observations, [], 'nothing open after the tracer detached');
  tracer.child.stdin.end();
}

test('same-uid PTRACE_SEIZE of the main thread and of another thread is reported and closes on detach', { skip, timeout: 90000 }, async () => {
  const dir = worldReadableCopy();
  const mon = lineProc(process.execPath, [path.join(dir, 'children', 'monitor-child.cjs'), path.join(dir, 'dist')], NOBODY, JSON.parse);
  try {
    const ready = await mon.waitFor((l) => l.event === 'ready', 'monitor ready');
    assert.equal(ready.uid, 65534, 'monitor child runs unprivileged');
    await attachAndDetach(mon, ready.pid, ready.pid, dir);

    // A tracer may seize a single non-leader thread; the leader's TracerPid stays 0.
    const tids = fs.readdirSync(`/proc/${ready.pid}/task`).map(Number).filter((t) => t !== ready.pid);
    assert.ok(tids.length > 0, 'node has helper threads');
    await attachAndDetach(mon, tids[0], tids[0], dir);
    assert.equal(mon.lines.filter((l) => l.event === 'error').length, 0, `monitor errors: ${JSON.stringify(mon.lines)}`);
  } finally {
    // Tracers first: a traced child that exits stays a zombie until its tracer waits or dies, and
    // tracer.py only reads its stdin: waiting for the monitor first would hang the file.
    for (const t of tracers.splice(0)) t.child.kill('SIGKILL');
    mon.send('exit');
    mon.child.stdin.end();
    await new Promise((r) => (mon.child.exitCode !== null ? r() : mon.child.on('exit', r)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
