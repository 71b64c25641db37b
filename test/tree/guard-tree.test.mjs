// The Guard's processTree option on this process: its children appear in Status.processes, a
// child's tracer becomes a finding with pid and processType on the fast loop, and stop() leaves
// no handle open (the process exits by itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { Guard } = require(path.join(root, 'dist', 'index.js'));
const linux = process.platform === 'linux' ? false : 'Linux only';

test('Guard({ processTree: true }) lists its children and closes cleanly', { skip: linux }, async () => {
  const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  const g = new Guard({ code: false, kernel: false, launch: false, processTree: { codeMs: 0 } });
  try {
    const s = await g.start();
    assert.ok(Array.isArray(s.processes), 'Status.processes present');
    assert.equal(s.processes[0].pid, process.pid, 'the root (this process) first');
    const p = s.processes.find((x) => x.pid === child.pid);
    assert.ok(p, 'the child is listed');
    assert.equal(p.type, 'other');
    assert.equal(p.exe, '/usr/bin/sleep');
    assert.equal(JSON.stringify(JSON.parse(JSON.stringify(s))), JSON.stringify(s), 'plain JSON');
  } finally {
    g.stop();
    child.kill('SIGKILL');
  }
  assert.equal(new Guard().status().processes, undefined, 'absent when the option is off');
});

// The native fast loop (default), and the JS status poll that replaces it with sentinelMs: 0.
for (const [loop, treeOptions] of [['the native fast loop', { codeMs: 0 }], ['the JS poll (sentinelMs: 0)', { codeMs: 0, sentinelMs: 0 }]])
test(`a tracer on a child is child-tracer-attached from ${loop}, with pid and processType`, { skip: linux || (process.getuid() !== 0 ? 'needs root for PTRACE_SEIZE of a child' : false) }, async () => {
  const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  const g = new Guard({ code: false, kernel: false, launch: false, processTree: treeOptions });
  let tracer = null;
  try {
    await g.start();
    const found = new Promise((resolve) => g.on('finding', (f) => f.kind === 'child-tracer-attached' && resolve(f)));
    // Started after the Guard's first pass: the fast loop (not start()) must see it.
    tracer = spawn('/usr/bin/python3', [path.join(root, 'test', 'kernel', 'children', 'tracer.py'), String(child.pid)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const seized = await new Promise((resolve) => tracer.stdout.once('data', (d) => resolve(String(d))));
    assert.match(seized, /^seized/);
    const t0 = Date.now();
    const f = await Promise.race([found, new Promise((_, rej) => setTimeout(() => rej(new Error('no child-tracer-attached within 5 s')), 5000))]);
    assert.ok(Date.now() - t0 < 1000, `reported after ${Date.now() - t0} ms (limit 1000)`);
    assert.equal(f.pid, child.pid);
    assert.equal(f.processType, 'other');
    assert.equal(f.subsystem, 'tree', `a tree finding is subsystem 'tree', got '${f.subsystem}'`);
  } finally {
    g.stop();
    tracer?.kill('SIGKILL');
    child.kill('SIGKILL');
  }
});

test('after stop() the process exits by itself (no timer or handle left)', { skip: linux }, () => {
  const code = `const { Guard } = require(${JSON.stringify(path.join(root, 'dist', 'index.js'))});
const { spawn } = require('node:child_process');
const c = spawn('/bin/sleep', ['0.2'], { stdio: 'ignore' });
const g = new Guard({ code: false, kernel: false, launch: false, processTree: true });
g.start().then(() => { g.stop(); c.unref(); console.log('stopped'); });`;
  const r = spawnSync(process.execPath, ['-e', code], { timeout: 20000, encoding: 'utf8' });
  assert.equal(r.status, 0, `exit ${r.status} signal ${r.signal}: ${r.stderr}`);
  assert.match(r.stdout, /stopped/);
});
