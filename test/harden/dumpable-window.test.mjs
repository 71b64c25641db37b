// Research behind "no dumpable window" (docs/harden.md, "Desktop portals"): making the process
// dumpable for a short time around its first portal call would let the portal identify it, but a
// same-user attacker that polls open("/proc/<pid>/mem") gets a file descriptor during the window,
// and the kernel checks access only at open: the fd keeps reading the memory after dumpable is 0
// again, and no tracer ever shows in TracerPid (what the Guard's tracer watch looks at).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtures, isRoot, jsonLines, NOBODY, worldReadableDir } from './helpers.mjs';
import { scaled } from '../time-scale.mjs';

const skip =
  process.platform !== 'linux' ? 'Linux only'
  : !isRoot ? 'needs root to run target and attacker as uid 65534'
  : !fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3 is missing'
  : false;

const WINDOW_US = 50_000; // 50 ms: less than one D-Bus round trip to a portal that is being activated

test('a 50 ms dumpable window hands a polling same-user attacker a /proc/<pid>/mem fd that outlives it', { skip }, async () => {
  const dir = worldReadableDir([path.join(fixtures, 'window-target.py'), path.join(fixtures, 'window-attacker.py')]);
  const procs = [];
  try {
    const attempts = [];
    // The attacker must be scheduled during the window; on a loaded machine one try may miss it.
    for (let i = 0; i < 3 && !attempts.some((a) => a.opened); i++) {
      const t = jsonLines('/usr/bin/python3', [path.join(dir, 'window-target.py'), String(WINDOW_US)], { uid: NOBODY, gid: NOBODY, cwd: dir });
      procs.push(t);
      const ready = await t.next();
      assert.equal(ready.dumpable, 0, `the target starts non-dumpable: ${JSON.stringify(ready)}`);
      const a = jsonLines('/usr/bin/python3', [path.join(dir, 'window-attacker.py'), String(ready.pid), String(ready.addr), String(ready.size), String(scaled(10))], {
        uid: NOBODY, gid: NOBODY, cwd: dir,
      });
      procs.push(a);
      assert.equal((await a.next()).uid, NOBODY, 'the attacker runs as uid 65534');
      t.send('go');
      const closed = await t.next();
      const polled = await a.next();
      a.send('read');
      const read = polled.opened ? await a.next() : null;
      attempts.push({ ...polled, ...closed, read: read?.read ?? null });
      await t.close();
      await a.close();
    }
    const hit = attempts.find((x) => x.opened);
    assert.ok(hit, `in 3 windows of ${WINDOW_US / 1000} ms the polling attacker never opened /proc/<pid>/mem: ${JSON.stringify(attempts)}`);
    assert.equal(hit.dumpable, 0, 'the target had restored dumpable 0 before the attacker read');
    assert.equal(hit.read, 'PROCGUARD-WINDOW-SECRET-0123456789', `the fd opened in the window still reads the memory after it: ${JSON.stringify(hit)}`);
    assert.equal(hit.tracerPid, 0, 'no tracer appears: a tracer watch cannot see this');
  } finally {
    for (const p of procs) await p.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
