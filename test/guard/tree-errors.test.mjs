// The process-tree monitor's own failures are checker errors of the 'tree' subsystem (not 'kernel').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Guard, defaultPolicy } from '../../dist/index.js';
import { qemuNoTree } from '../qemu.mjs';

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

test("the default policy's ladder counts 'tree' with 'kernel' (a child's sandbox and this process's isolation are one group)", () => {
  const p = defaultPolicy();
  const obs = { key: 'k', subsystem: 'tree', kind: 'child-unsandboxed', detail: 'd' };
  const ctx = (counts) => ({ openBySubsystem: { code: 0, kernel: 0, launch: 0, electron: 0, tree: 0, ...counts } });
  assert.equal(p.classify(obs, ctx({ tree: 1 })), 'log', 'the tree alone: one group -> log');
  assert.equal(p.classify(obs, ctx({ kernel: 1, tree: 1 })), 'log', "kernel and tree: still one group -> log (as when the tree's findings were 'kernel')");
  assert.equal(p.classify(obs, ctx({ code: 1, tree: 1 })), 'degrade', 'code and tree: two groups -> degrade');
  assert.equal(p.classify(obs, ctx({ code: 1, kernel: 2, tree: 1, launch: 1 })), 'safe-mode', 'code, isolation and launch: three groups -> safe-mode');
  assert.equal(defaultPolicy({ overrides: { 'tree:child-unsandboxed': 'restart' } }).classify(obs, ctx({ tree: 1 })), 'restart', "an override qualified by 'tree'");
});

test("a tree finding from a live child is subsystem 'tree' and keeps the severity it had as 'kernel'", { skip: process.platform !== 'linux' ? 'Linux only' : qemuNoTree }, async () => {
  const { TreeMonitor } = await import('../../dist/tree/monitor.js');
  const { classifyAll } = await import('../../dist/policy.js');
  const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  // One tracked process: maxProcesses 1 leaves every other descendant untracked (a tree-limit-reached).
  const other = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  const m = new TreeMonitor({ codeMs: 0, sentinelMs: 0, settleMs: 0, maxProcesses: 1 });
  try {
    let open = [];
    for (let i = 0; i < 50 && !open.some((o) => o.kind === 'tree-limit-reached'); i++) {
      open = (await m.check()).open;
      if (!open.some((o) => o.kind === 'tree-limit-reached')) await new Promise((r) => setTimeout(r, 100));
    }
    const lim = open.find((o) => o.kind === 'tree-limit-reached');
    assert.ok(lim, `a tree-limit-reached observation: ${JSON.stringify(open)}`);
    assert.equal(lim.subsystem, 'tree', `subsystem 'tree', got '${lim.subsystem}'`);
    // With a kernel finding of this process open, it is one group: log, as before.
    const kernel = { key: 'kernel:no-new-privs-changed', subsystem: 'kernel', kind: 'no-new-privs-changed', detail: 'd' };
    assert.deepEqual(classifyAll(defaultPolicy(), [kernel, lim]).map((f) => f.severity), ['log', 'log'], 'kernel + tree: log');
  } finally {
    m.stop();
    child.kill('SIGKILL');
    other.kill('SIGKILL');
  }
});
