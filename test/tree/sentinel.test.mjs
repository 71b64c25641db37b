// The tree's native fast loop (native/tree/tree_sentinel_linux.cc) on plain processes, without chromium:
// the pid + start-time identity, an exit, a byte written into a child's code and written back, a
// tracer on one of a child's non-leader threads, and typed errors for bad arguments.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { root, jsonProc } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { loadNative } = require(path.join(root, 'dist', 'native.js'));
const { planChildCode } = require(path.join(root, 'dist', 'tree', 'code.js'));
const { parseMaps } = require(path.join(root, 'dist', 'procfs', 'maps.js'));

const native = process.platform === 'linux' ? loadNative() : null;
const skip = !native?.TreeSentinel ? 'Linux only (no TreeSentinel in this build)' : false;
const rootSkip = skip || (process.getuid() !== 0 ? 'needs root (writes another process\'s code, PTRACE_SEIZE)' : false);

const children = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

const startOf = (pid) => {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  return BigInt(s.slice(s.lastIndexOf(')') + 2).split(' ')[19]);
};

/** A TreeSentinel whose events are collected; waitFor(pred) resolves with the first matching one. */
function collector(tickMs = 50) {
  const events = [];
  let waiters = [];
  const s = new native.TreeSentinel(tickMs, 1, 0.01, (evs) => {
    for (const e of evs) {
      events.push(e);
      waiters = waiters.filter((w) => !(w.pred(e) && (w.resolve(e), true)));
    }
  });
  const waitFor = (pred, what, ms = 5000) => {
    const hit = events.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; events: ${JSON.stringify(events, (k, v) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 2000)}`)), ms);
      waiters.push({ pred, resolve: (e) => (clearTimeout(t), resolve(e)) });
    });
  };
  return { s, events, waitFor, clear: () => events.splice(0) };
}

function spawnSleeper() {
  const c = spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

async function started(pid) {
  // The exec has happened once /proc/<pid>/exe is sleep.
  for (let i = 0; i < 100 && !fs.readlinkSync(`/proc/${pid}/exe`).endsWith('/sleep'); i++) await new Promise((r) => setTimeout(r, 20));
}

test('add() keys a process by pid and start time; an exit is reported', { skip }, async () => {
  const c = spawnSleeper();
  await started(c.pid);
  const { s, waitFor } = collector();
  try {
    const wrong = s.add(c.pid, startOf(c.pid) + 1n);
    assert.equal(wrong.errno, 3, `a wrong start time is ESRCH: ${JSON.stringify(wrong)}`);
    assert.match(wrong.error, /not the process started at/);
    const st = startOf(c.pid);
    assert.equal(s.add(c.pid, st), true, 'the right start time is accepted');
    assert.equal(s.add(4194304, 1n).errno, 3, 'a pid that does not exist is ESRCH');
    c.kill('SIGKILL');
    const e = await waitFor((x) => x.kind === 'exited' && x.pid === c.pid, 'exited event');
    assert.equal(e.startTicks, st, 'the event carries the start time');
    assert.equal(s.stats().processes, 1, 'an exited process stays until remove()');
    s.remove(c.pid, e.startTicks);
    assert.equal(s.stats().processes, 0, 'remove() drops it');
  } finally {
    s.close();
  }
});

test('a byte written into a child\'s code is a code event with the byte; written back, the page is equal', { skip: rootSkip }, async () => {
  const c = spawnSleeper();
  await started(c.pid);
  const { s, waitFor, clear } = collector();
  try {
    const start = startOf(c.pid);
    assert.equal(s.add(c.pid, start), true);
    const plan = planChildCode(c.pid, parseMaps(fs.readFileSync(`/proc/${c.pid}/maps`, 'utf8'), 'maps'), fs.readlinkSync(`/proc/${c.pid}/exe`));
    assert.ok(plan.job.regions.length > 0, 'sleep has file-backed code regions');
    s.setRegions(c.pid, start, plan.job.regions);
    const first = await waitFor((x) => x.kind === 'code', 'the first walk\'s report');
    assert.deepEqual(first.result.hits, [], 'the first walk of new regions is reported, clean');
    assert.ok(first.result.ok && first.result.pages > 0, `the first walk covered the regions: ${JSON.stringify(first.result)}`);
    const r0 = plan.job.regions[0];
    const addr = Number(r0.start) + 0x40;
    const fd = fs.openSync(`/proc/${c.pid}/mem`, 'r+');
    const b = Buffer.alloc(1);
    try {
      fs.readSync(fd, b, 0, 1, addr);
      clear();
      fs.writeSync(fd, Buffer.from([b[0] ^ 0xff]), 0, 1, addr);
      const e = await waitFor((x) => x.kind === 'code' && x.result.hits.some((h) => h.state === 'modified'), 'code event');
      const h = e.result.hits.find((x) => x.state === 'modified');
      assert.equal(h.region, 0, 'indexes the region given');
      assert.equal(h.address, r0.start, 'the written page');
      assert.equal(h.fileOffset, r0.fileOffset, 'its file offset');
      assert.equal(h.firstDiff, 0x40, 'the byte in the page');
      assert.equal(h.fileByte, b[0], 'the file byte');
      assert.equal(h.memByte, b[0] ^ 0xff, 'the memory byte');
      clear();
      fs.writeSync(fd, b, 0, 1, addr);
      const r = await waitFor((x) => x.kind === 'code' && x.result.hits.length > 0 && x.result.hits.every((h) => h.state === 'equal'), 'restored code event');
      assert.equal(r.result.hits.length, 1, 'the page is still written (anonymous), now equal to the file');
    } finally {
      fs.closeSync(fd);
    }
    assert.ok(s.stats().walks >= 2, `walked on the counter change: ${JSON.stringify(s.stats())}`);
  } finally {
    s.close();
  }
});

test('a tracer on a non-leader thread of a child is reported with that thread, and its detach', { skip: rootSkip }, async () => {
  // A node child has several threads besides its leader.
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(c);
  await new Promise((r) => setTimeout(r, 300));
  const tid = fs.readdirSync(`/proc/${c.pid}/task`).map(Number).find((t) => t !== c.pid);
  assert.ok(tid, 'the child has a non-leader thread');
  const { s, waitFor } = collector();
  let tracer = null;
  try {
    assert.equal(s.add(c.pid, startOf(c.pid)), true);
    await new Promise((r) => setTimeout(r, 200)); // the baseline read
    tracer = jsonProc('/usr/bin/python3', [path.join(root, 'test', 'kernel', 'children', 'tracer.py'), String(tid)], {});
    const seized = await tracer.waitFor((l) => l.raw?.startsWith('seized') || l.raw?.startsWith('error'), 'seize');
    assert.match(seized.raw, /^seized \d+$/, `could not seize ${tid}: ${seized.raw}`);
    const e = await waitFor((x) => x.kind === 'threads' && x.tracedTid === tid, 'threads event naming the thread');
    assert.equal(e.tracerPid, Number(seized.raw.split(' ')[1]), 'names the tracer');
    assert.equal(e.leaderChanged, false, 'the leader is not traced');
    tracer.send('detach');
    await tracer.waitFor((l) => l.raw === 'detached', 'detach');
    await waitFor((x) => x.kind === 'threads' && x.tracedTid === 0, 'threads event after the detach');
  } finally {
    tracer?.child.kill('SIGKILL');
    s.close();
  }
});

test('bad arguments are typed errors', { skip }, () => {
  assert.throws(() => new native.TreeSentinel(5, 1, 0.01, () => {}), RangeError, 'a tick under 10 ms');
  assert.throws(() => new native.TreeSentinel(100, 0, 0.01, () => {}), RangeError, 'zero thread slices');
  assert.throws(() => new native.TreeSentinel(100, 1, 0, () => {}), RangeError, 'a zero budget');
  assert.throws(() => new native.TreeSentinel(100, 1, 0.01), TypeError, 'no callback');
  const s = new native.TreeSentinel(100, 1, 0.01, () => {});
  try {
    assert.throws(() => s.add('1', 1n), TypeError, 'a string pid');
    assert.throws(() => s.add(0, 1n), RangeError, 'pid 0');
    assert.throws(() => s.add(1, 1), TypeError, 'a number start time');
    assert.throws(() => s.setRegions(1, 1n, [{ start: 1n, end: 4096n }]), RangeError, 'an unaligned region');
  } finally {
    s.close();
  }
  assert.deepEqual(s.add(1, 1n), { errno: 9, error: 'the tree sentinel is closed' }, 'add() after close()');
});
