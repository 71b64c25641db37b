// The pure parts of checker health and the code-file watch: the stall rule, the stat parser, the
// throttle diff, and who can rewrite a code file (including the root rule).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stallVerdict } from '../../dist/health/stall.js';
import { parseStatSched, ThrottleWatch, ownThreads } from '../../dist/health/threads.js';
import { writableBy, mapsDev } from '../../dist/watch/code-files.js';

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
