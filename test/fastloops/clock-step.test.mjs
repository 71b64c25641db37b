// Health runs on one monotonic clock: a +120 s wall-clock step in a running Guard's process (made for
// real by an LD_PRELOAD shim of clock_gettime/gettimeofday/time, test/native/clockshift.c, so JS's
// Date.now() and any native wall-clock read jump together; the system clock is not touched) gives no
// checker-stalled, while a real stall (the ticker thread frozen with ptrace) still does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { lineProc, reapChildren } from '../kernel/helpers.mjs';
import { clockShiftPath } from '../native/hooks.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '..', '..', 'dist');
let scope = 0;
try {
  scope = Number(fs.readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8'));
} catch {
  // no Yama
}
const skip =
  process.platform !== 'linux'
    ? 'Linux only (LD_PRELOAD shim, ptrace freeze)'
    : !fs.existsSync(clockShiftPath)
      ? 'pg_clockshift.so not built (node scripts/test-native.js)'
      : !fs.existsSync('/usr/bin/python3')
        ? 'needs /usr/bin/python3'
        : scope >= 2 || (scope === 1 && process.getuid() !== 0)
          ? `Yama ptrace_scope=${scope} forbids freezing a non-descendant`
          : false;

test.afterEach(reapChildren); // the Guard child and freeze.py never outlive a failing test

test('a +120 s wall-clock step gives no checker-stalled; a frozen ticker still does', { skip, timeout: 120000 }, async () => {
  const g = lineProc(process.execPath, [path.join(here, 'children', 'clock-step-child.cjs'), dist], { env: { ...process.env, LD_PRELOAD: clockShiftPath, PG_CLOCK_STEP_MS: '120000', PG_CLOCK_STEP_AFTER_MS: '6000' } }, JSON.parse, 60000);
  await g.waitFor((l) => l.event === 'ready', 'the Guard started');
  const before = g.lines.length;
  const step = await g.waitFor((l) => l.event === 'clock' && l.skewMs > 100000, 'the wall clock jumped', before, 30000);
  assert.ok(step.skewMs > 110000 && step.skewMs < 130000, `Date.now() moved +120 s against the monotonic clock (${step.skewMs} ms)`);
  // Six heartbeats (1 s each) after the step: each would compare a +120 s wall clock with the
  // loops' tick times and the sweep's progress, were any of them on the wall clock.
  await sleep(6000);
  const stalls = g.lines.filter((l) => l.event === 'finding' && l.kind === 'checker-stalled');
  assert.deepEqual(stalls, [], `no checker-stalled after the clock step: ${JSON.stringify(stalls)}`);
  assert.equal(g.lines.filter((l) => l.event === 'clock').at(-1).state !== 'stalled', true, 'the Status is not stalled');

  // A real stall after the step: freeze the ticker thread.
  g.send('tid');
  const { tid } = await g.waitFor((l) => l.event === 'tid', 'the ticker tid');
  const f = lineProc('/usr/bin/python3', [path.join(here, 'children', 'freeze.py'), String(tid)], {}, (l) => l);
  await f.waitFor((l) => l === 'frozen' || l.startsWith('error'), 'freeze');
  assert.ok(f.lines.includes('frozen'), `the ticker thread was stopped: ${f.lines.join(' | ')}`);
  const from = g.lines.length;
  const stalled = await g.waitFor((l) => l.event === 'finding' && l.key === 'guard:checker-stalled:watch', 'checker-stalled for the frozen watch loop', from, 40000);
  assert.match(stalled.detail, /has not ticked for (9|1\d)\.\d s/, `the stall is measured in real seconds (9 s limit), not the step: ${stalled.detail}`);
  f.send('thaw');
  await f.waitFor((l) => l === 'thawed' || l.startsWith('error'), 'thaw');
  await g.waitFor((l) => l.event === 'closed' && l.key === 'guard:checker-stalled:watch', 'the stall closes once the ticker runs again', from, 30000);
  g.send('exit');
});
