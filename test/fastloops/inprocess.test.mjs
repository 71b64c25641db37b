// The Guard's fast loops acting on this very process through the real kernel: a write(2) to a
// mapped library is reported at its byte without any check() call, and closes when restored; a
// writable code file is a log finding; SCHED_IDLE put on the scanner thread from another process is
// checker-throttled; a first pass failing by EMFILE recovers and an injected library is still
// reported; a throwing logger and a throwing listener never reach the app.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { Guard } from '../../dist/index.js';
import { loadTestLib, copyTestLib, fileOffsetOf, hooks, waitFor } from '../integrity/helpers.mjs';

const linux = process.platform === 'linux' ? false : 'Linux only (inotify, /proc)';
const clean = { env: {}, argv: [], execArgv: [], inspectorUrl: null };

test('write(2) to a mapped code file: code-modified at the exact byte without check(), then code-restored', { skip: linux, timeout: 60000 }, async () => {
  const lib = loadTestLib();
  fs.chmodSync(lib.path, 0o666); // writable by any user: also the code-file-writable surface, even for root
  const g = new Guard({ launch: clean });
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    await g.start();
    const st = g.status();
    assert.ok(st.loops.files.watchedPaths.includes(lib.path), `the test library is watched: ${JSON.stringify(st.loops.files)}`);
    const writable = st.findings.find((f) => f.kind === 'code-file-writable' && f.path === lib.path);
    assert.ok(writable, `a 0666 code file is code-file-writable: ${JSON.stringify(st.findings.map((f) => f.kind))}`);
    assert.equal(writable.severity, 'log');

    const addr = lib.blob + 4096n * 40n + 321n;
    const off = fileOffsetOf(lib.path, addr);
    const fd = fs.openSync(lib.path, 'r+');
    const orig = Buffer.alloc(1);
    fs.readSync(fd, orig, 0, 1, off);
    const modified = waitFor(g, 'finding', (f) => f.kind === 'code-modified' && f.path === lib.path, 10000, 'code-modified after write(2)');
    const t0 = performance.now();
    fs.writeSync(fd, Buffer.from([orig[0] ^ 0x10]), 0, 1, off);
    let f;
    try {
      f = await modified;
    } catch (e) {
      fs.writeSync(fd, orig, 0, 1, off);
      throw e;
    }
    const ms = performance.now() - t0;
    assert.ok(ms < 5000, `reported in ${ms.toFixed(0)} ms (generous bound; the bench measures the latency)`);
    assert.equal(f.offset, off, `the exact file offset of the written byte: ${JSON.stringify(f)}`);
    assert.equal(f.page, Math.floor(off / 4096));
    assert.equal(BigInt(f.address), addr, 'the address of the written byte');
    const restored = waitFor(g, 'finding', (x) => x.kind === 'code-restored' && x.path === lib.path, 10000, 'code-restored after the restore');
    fs.writeSync(fd, orig, 0, 1, off);
    fs.closeSync(fd);
    const r = await restored;
    assert.equal(r.page, f.page);
    assert.equal(g.status().findings.some((x) => x.kind === 'code-modified' && x.path === lib.path), false, 'closed');
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
  } finally {
    process.off('unhandledRejection', onUnhandled);
    g.stop();
  }
});

test('SCHED_IDLE on the scanner thread, set from another process, is checker-throttled', { skip: linux || (fs.existsSync('/usr/bin/chrt') ? false : 'needs chrt'), timeout: 60000 }, async () => {
  const g = new Guard({ launch: clean, kernel: { }, sentinelMs: 0 });
  try {
    await g.start();
    const tids = fs.readdirSync('/proc/self/task').filter((t) => {
      try {
        return fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'procguard-scan';
      } catch {
        return false;
      }
    });
    assert.ok(tids.length > 0, 'a procguard-scan thread exists');
    const throttled = waitFor(g, 'finding', (f) => f.kind === 'checker-throttled', 10000, 'checker-throttled');
    const r = spawnSync('/usr/bin/chrt', ['-i', '-p', '0', tids[0]], { encoding: 'utf8' });
    assert.equal(r.status, 0, `chrt failed: ${r.stderr}`);
    const f = await throttled;
    assert.match(f.detail, /SCHED_IDLE/);
    assert.equal(f.evidence.tid, Number(tids[0]));
  } finally {
    g.stop();
  }
});

test('a first pass failing by EMFILE recovers; an injected library is reported afterwards', { skip: linux || (fs.existsSync('/usr/bin/prlimit') ? false : 'needs prlimit'), timeout: 90000 }, async (t) => {
  const open = fs.readdirSync('/proc/self/fd').length;
  const lim = fs.readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+(\d+)\s+(\d+)/);
  // The restore runs in a helper started before the limit drops: under EMFILE this process cannot
  // create the pipes a new child needs, but can write to an existing one.
  const restorer = spawn('/bin/sh', ['-c', `read x; /usr/bin/prlimit --pid ${process.pid} --nofile=${lim[1]}:${lim[2]} && echo restored`], { stdio: ['pipe', 'pipe', 'inherit'] });
  // It waits on its stdin: never let it outlive the test (a timeout skips the finally below).
  t.after(() => {
    if (restorer.exitCode === null && restorer.signalCode === null) restorer.kill('SIGKILL');
  });
  let restoredOut = '';
  const restoredP = new Promise((resolve) => restorer.stdout.on('data', (d) => (restoredOut += d) && restoredOut.includes('restored') && resolve()));
  let restored = false;
  const restore = async () => {
    if (restored) return;
    restored = true;
    restorer.stdin.write('go\n');
    await restoredP;
  };
  const lower = spawnSync('/usr/bin/prlimit', ['--pid', String(process.pid), `--nofile=${open}:${lim[2]}`], { encoding: 'utf8' });
  assert.equal(lower.status, 0, `prlimit failed: ${lower.stderr}`);
  const set = () => restore();
  const g = new Guard({ launch: clean, periodMs: 300, cpuBudget: 1 });
  try {
    // Every new fd fails with EMFILE now: /proc/self/maps, status, pagemap, inotify.
    let first;
    try {
      first = await g.start();
    } finally {
      await set();
    }
    assert.ok(first.checkerErrors.some((e) => e.subsystem === 'code'), `the first code pass failed: ${JSON.stringify(first.checkerErrors)}`);
    assert.ok(first.checkerErrors.some((e) => e.subsystem === 'kernel'), 'the kernel baseline failed too');
    await waitFor(g, 'status', (s) => s.lastCheck !== null && s.loops.kernel.lastCheckAt !== null, 20000, 'recovery of both baselines');
    const added = waitFor(g, 'finding', (f) => f.kind === 'mapping-added', 20000, 'mapping-added for the injected library');
    const lib = loadTestLib(copyTestLib('injected'));
    const f = await added;
    assert.equal(f.path, lib.path);
    // The file watch recovers too (inotify_init1 failed with EMFILE at start and is retried).
    await waitFor(g, 'status', (s) => s.loops.files.watchedPaths.includes(lib.path), 20000, 'the injected library watched');
  } finally {
    await set();
    g.stop();
  }
});

test('a throwing logger and a throwing finding listener never reach the app', { skip: linux, timeout: 60000 }, async () => {
  const lib = loadTestLib();
  const boom = () => {
    throw new Error('app bug');
  };
  const logger = { error: boom, warn: boom, info: boom, log: boom };
  const g = new Guard({ launch: { ...clean, env: { NODE_OPTIONS: '--require /tmp/x.js' } }, logger });
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  const uncaught = [];
  const onUncaught = (e) => uncaught.push(e);
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUncaught);
  let calls = 0;
  g.on('finding', () => {
    calls++;
    throw new Error('listener bug');
  });
  g.on('status', boom);
  try {
    await g.start();
    // A background finding (page-cache write through the watch loop) goes through both.
    const off = fileOffsetOf(lib.path, lib.blob + 4096n * 3n + 5n);
    const fd = fs.openSync(lib.path, 'r+');
    const orig = Buffer.alloc(1);
    fs.readSync(fd, orig, 0, 1, off);
    fs.writeSync(fd, Buffer.from([orig[0] ^ 1]), 0, 1, off);
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline && !g.status().findings.some((f) => f.kind === 'code-modified')) await new Promise((r) => setTimeout(r, 50));
    fs.writeSync(fd, orig, 0, 1, off);
    fs.closeSync(fd);
    assert.ok(g.status().findings.some((f) => f.kind === 'code-modified'), 'the background path still works');
    assert.ok(calls >= 2, 'the listener was called');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
    assert.deepEqual(uncaught, [], 'no uncaught exception');
    assert.ok(g.status().checkerErrors.some((e) => /listener bug|app bug/.test(e.message)), 'the failures are recorded');
  } finally {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUncaught);
    g.stop();
  }
  void hooks;
});

test('worker.terminate() with a running Guard (watch loop, sentinel, file watch) never crashes the process', { skip: linux, timeout: 60000 }, async () => {
  const { Worker } = await import('node:worker_threads');
  const dist = new URL('../../dist/index.js', import.meta.url).pathname;
  for (let i = 0; i < 3; i++) {
    const w = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const { Guard } = require(${JSON.stringify(dist)});
       const g = new Guard({ periodMs: 100, sentinelMs: 20, kernelTickMs: 10, cpuBudget: 1 });
       g.start().then(() => parentPort.postMessage('ready'));`,
      { eval: true },
    );
    await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await new Promise((r) => setTimeout(r, 100 * i));
    await w.terminate(); // a native thread calling into the torn-down environment would abort this process here
  }
  // Still alive, and the addon still works in this environment.
  const g = new Guard({ launch: clean, periodMs: 100, cpuBudget: 1 });
  try {
    const s = await g.start();
    assert.ok(s.lastCheck !== null, 'a Guard in the main thread still completes a pass after the workers were terminated');
  } finally {
    g.stop();
  }
});
