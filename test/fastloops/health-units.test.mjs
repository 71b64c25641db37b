// The pure parts of checker health and the code-file watch: the stall rule, the stat parser, the
// throttle diff, and who can rewrite a code file (including the root rule).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stallVerdict } from '../../dist/guard/health.js';
import { parseStatSched, ThrottleWatch, ownThreads } from '../../dist/guard/threads.js';
import { writableBy, mapsDev } from '../../dist/integrity/code-files.js';

test('stall rule: a long paced pass that progresses is not a stall; no progress past the pace or the cap is', () => {
  const base = { periodMs: 10000, cpuBudget: 0.002, capMs: 60000 };
  const now = 1_000_000;
  // 282 MiB: ~80 ms of CPU per pass -> ~40 s paced; progress 10 s ago during a pass: fine.
  let v = stallVerdict({ ...base, now, lastPassCpuMs: 80, progress: { passActive: true, pagesDone: 10, pagesTotal: 100, lastProgressAt: now - 10000 } });
  assert.equal(v.stalled, false);
  assert.equal(v.limitMs, 60000, 'capped: 2 x 40 s + 5 s > 60 s');
  v = stallVerdict({ ...base, now, lastPassCpuMs: 80, progress: { passActive: true, pagesDone: 10, pagesTotal: 100, lastProgressAt: now - 61000 } });
  assert.equal(v.stalled, true, 'no progress for longer than the cap');
  // A small process: 10 ms CPU -> 5 s paced -> limit 15 s.
  v = stallVerdict({ ...base, now, lastPassCpuMs: 10, progress: { passActive: true, pagesDone: 1, pagesTotal: 9, lastProgressAt: now - 16000 } });
  assert.deepEqual([v.stalled, v.limitMs], [true, 15000], 'the limit follows the pace');
  // Between passes: the next progress is a period away.
  v = stallVerdict({ ...base, now, lastPassCpuMs: 10, progress: { passActive: false, pagesDone: 9, pagesTotal: 9, lastProgressAt: now - 20000 } });
  assert.deepEqual([v.stalled, v.limitMs], [false, 25000]);
  // Before any pass completed: the cap (no false stall at start).
  v = stallVerdict({ ...base, now, lastPassCpuMs: null, progress: { passActive: true, pagesDone: 0, pagesTotal: 0, lastProgressAt: now - 59000 } });
  assert.equal(v.stalled, false);
  v = stallVerdict({ ...base, now, lastPassCpuMs: 10, fixedMs: 300, progress: { passActive: false, pagesDone: 0, pagesTotal: 0, lastProgressAt: now - 301 } });
  assert.deepEqual([v.stalled, v.limitMs], [true, 300], 'an explicit limit');
});

test('stat parser: nice and policy, with a comm holding spaces and parentheses', () => {
  const fields = Array.from({ length: 52 }, (_, i) => String(i + 1));
  fields[19 - 1] = '19'; // nice
  fields[41 - 1] = '5'; // SCHED_IDLE
  const text = `123 (proc (guard) x) ${fields.slice(2).join(' ')}\n`;
  assert.deepEqual(parseStatSched(text), { nice: 19, policy: 5 });
  assert.equal(parseStatSched('garbage'), null);
  assert.equal(parseStatSched('1 (x) S 1 2'), null, 'truncated');
});

test('throttle diff: a change from first sight is checker-throttled; SCHED_IDLE at first sight too', () => {
  const w = new ThrottleWatch();
  const t = { tid: 7, comm: 'procguard-scan', policy: 0, nice: 0, cpus: '0-1' };
  assert.deepEqual(w.check([t]), []);
  const o = w.check([{ ...t, nice: 19, cpus: '1' }]);
  assert.equal(o.length, 1);
  assert.equal(o[0].kind, 'checker-throttled');
  assert.match(o[0].detail, /nice 0 -> 19/);
  assert.match(o[0].detail, /CPU affinity 0-1 -> 1/);
  assert.deepEqual(w.check([t]), [], 'restored: closes');
  assert.equal(new ThrottleWatch().check([{ ...t, policy: 5 }]).length, 1, 'SCHED_IDLE at first sight');
  if (process.platform === 'linux') assert.ok(Array.isArray(ownThreads()), 'reads /proc without throwing');
});

test('who can rewrite a code file: non-root by ownership/group/world; root by non-root ownership or g/o write', () => {
  assert.match(writableBy({ uid: 1000, gid: 1000, mode: 0o100555 }, 1000, [1000]), /owned by this process's user/, 'an owner can chmod u+w');
  assert.equal(writableBy({ uid: 0, gid: 0, mode: 0o100755 }, 1000, [1000]), null);
  assert.match(writableBy({ uid: 0, gid: 50, mode: 0o100775 }, 1000, [50]), /group-writable/);
  assert.equal(writableBy({ uid: 0, gid: 50, mode: 0o100775 }, 1000, [1000]), null, 'not in the group');
  assert.match(writableBy({ uid: 0, gid: 0, mode: 0o100757 }, 1000, []), /world-writable/);
  assert.equal(writableBy({ uid: 0, gid: 0, mode: 0o100644 }, 0, [0]), null, 'root-owned and not g/o-writable: nothing a non-root user can do');
  assert.match(writableBy({ uid: 1000, gid: 1000, mode: 0o100444 }, 0, [0]), /owned by uid 1000/, 'root process, user-owned library');
  assert.equal(mapsDev(254, 1), 'fe:01');
  assert.equal(mapsDev(0, 0x2a), '00:2a');
});

test('CheckerHealth: a loop that stops ticking is a checker-stalled observation, and clears', async () => {
  const { CheckerHealth } = await import('../../dist/guard/health.js');
  const h = new CheckerHealth({ periodMs: 1000, cpuBudget: 0.001, stallCapMs: 60_000, sentinelMs: 200 });
  h.startedAt = 0;
  const progress = { passActive: false, pagesDone: 0, pagesTotal: 0, lastProgressAt: 0, lastProgressAgeMs: 10 };
  const input = (watchAge, sentinelAge) => ({
    progress,
    watchLoop: { state: 'running', tickMs: 200, lastTickAgeMs: watchAge },
    watchTickMs: 200,
    sentinel: { state: 'running', lastTickAgeMs: sentinelAge },
    now: 100,
  });
  assert.equal(h.update(input(10, 10)), false, 'healthy loops: nothing changed');
  assert.equal(h.stalled, false);
  assert.equal(h.update(input(20_000, 10)), true, 'the watch loop stopped: a change');
  assert.equal(h.stalled, true, 'a stalled loop makes the checker stalled');
  assert.deepEqual(h.observations(progress, 100).map((o) => o.key), ['guard:checker-stalled:watch']);
  h.update(input(10, 20_000));
  assert.deepEqual(h.observations(progress, 100).map((o) => [o.key, o.subsystem]), [['guard:checker-stalled:sentinel', 'code']], 'the sentinel, not the watch loop');
  assert.equal(h.update(input(10, 10)), true, 'recovered: a change');
  assert.equal(h.stalled, false);
});

test("CheckerHealth: the process tree's fast loop that stops ticking is a 'tree' checker-stalled, and clears", async () => {
  const { CheckerHealth } = await import('../../dist/guard/health.js');
  const h = new CheckerHealth({ periodMs: 1000, cpuBudget: 0.001, stallCapMs: 60_000, sentinelMs: 0 });
  h.startedAt = 0;
  const progress = { passActive: false, pagesDone: 0, pagesTotal: 0, lastProgressAt: 0, lastProgressAgeMs: 10 };
  const input = (ticks, now) => ({ progress, watchLoop: { state: 'off', tickMs: 0 }, watchTickMs: 0, sentinel: null, tree: { ticks, tickMs: 100 }, now });
  assert.equal(h.update(input(5, 0)), false, 'first sight of the tree loop: nothing stalled');
  assert.equal(h.update(input(5, 6000)), false, 'within the limit (20 ticks + 5 s = 7 s): not stalled');
  assert.equal(h.update(input(5, 8000)), true, 'no tick for 8 s: a change');
  assert.deepEqual(h.observations(progress, 8000).map((o) => [o.key, o.subsystem]), [['guard:checker-stalled:tree', 'tree']], "the tree loop's stall is the tree's");
  assert.equal(h.update(input(6, 8100)), true, 'it ticked again: a change');
  assert.deepEqual(h.observations(progress, 8100), [], 'cleared');
});

test('CheckerHealth: no sweep progress past the limit is a stalled sweep', async () => {
  const { CheckerHealth } = await import('../../dist/guard/health.js');
  const h = new CheckerHealth({ periodMs: 1000, cpuBudget: 0.001, stallCapMs: 60_000, stallAfterMs: 2000, sentinelMs: 0 });
  h.startedAt = 0;
  const off = { state: 'off', tickMs: 0 };
  const stale = { passActive: true, pagesDone: 1, pagesTotal: 9, lastProgressAt: 0, lastProgressAgeMs: 5000 };
  assert.equal(h.update({ progress: stale, watchLoop: off, watchTickMs: 0, sentinel: null, now: 10_000 }), true);
  const [o] = h.observations(stale, 10_000);
  assert.equal(o.key, 'guard:checker-stalled', 'the sweep stalled');
  assert.match(o.detail, /no sweep progress for 5\.0 s \(limit 2\.0 s\)/, o.detail);
  // Before start() the progress age counts from start(), not from the monitor's creation.
  const h2 = new CheckerHealth({ periodMs: 1000, cpuBudget: 0.001, stallCapMs: 60_000, stallAfterMs: 2000, sentinelMs: 0 });
  h2.startedAt = 9000;
  assert.equal(h2.sweepVerdict({ ...stale, lastProgressAgeMs: 1e9 }, 10_000).sinceMs, 1000, 'counted from start()');
});
