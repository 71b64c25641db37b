// The process-tree monitor's own failures are checker errors of the 'tree' subsystem (not 'kernel').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Guard, defaultPolicy } from '../../dist/index.js';

test("a process tree that cannot start is a 'tree' checker error in the Status, not a crash", async () => {
  const g = new Guard({ code: false, kernel: false, launch: false, debuggers: false, processTree: { rootPid: -1 } });
  try {
    const s = await g.start();
    const e = s.checkerErrors.find((x) => /rootPid/.test(x.message));
    assert.ok(e, `the bad rootPid is recorded: ${JSON.stringify(s.checkerErrors)}`);
    assert.equal(e.subsystem, 'tree', `subsystem 'tree', got '${e.subsystem}'`);
    assert.equal(s.processes, undefined, 'no tree: no processes in the Status');
  } finally {
    g.stop();
  }
});

test("the default policy counts 'tree' as a subsystem of its own", () => {
  const p = defaultPolicy();
  const ctx = { openBySubsystem: { code: 0, kernel: 1, launch: 0, electron: 0, tree: 1 } };
  assert.equal(p.classify({ key: 'k', subsystem: 'tree', kind: 'x', detail: 'd' }, ctx), 'degrade', 'two subsystems diverge -> degrade');
});
