// TreeMonitor on a procfs tree written to a temp dir (identity by pid + start time, pid reuse,
// tracer, sandbox change, settle) and on live processes (discovery both ways), and the native
// written-page check on a live process whose code page the test writes through /proc/<pid>/mem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { root, fakeProc } from './helpers.mjs';
const fx = (name) => fs.readFileSync(path.join(root, 'test', 'fixtures', 'tree', name), 'latin1');

const require = createRequire(import.meta.url);
const { TreeMonitor } = require(path.join(root, 'dist', 'tree', 'monitor.js'));
const { listDescendants, listDescendantsJs, listDescendantsByScan } = require(path.join(root, 'dist', 'tree', 'descendants.js'));
const { loadNative } = require(path.join(root, 'dist', 'native.js'));
const linux = process.platform === 'linux' ? false : 'Linux only';

test('options are validated with typed errors', () => {
  assert.throws(() => new TreeMonitor({ rootPid: -1 }), RangeError);
  assert.throws(() => new TreeMonitor({ pollMs: 1 }), RangeError);
  assert.throws(() => new TreeMonitor({ codeMs: 50 }), RangeError);
  assert.throws(() => new TreeMonitor({ sentinelMs: 5 }), RangeError, 'a fast-loop tick under 10 ms');
  assert.throws(() => new TreeMonitor({ sentinelMs: 4_000_000 }), RangeError, 'a fast-loop tick over an hour');
  assert.throws(() => new TreeMonitor({ sentinelBudget: 2 }), RangeError, 'a walk budget over one core');
  assert.throws(() => new TreeMonitor({ threadMs: 1 }), RangeError, 'a thread period under 10 ms');
  if (process.platform === 'linux') assert.doesNotThrow(() => new TreeMonitor({ sentinelMs: 0 }), 'sentinelMs 0 turns the fast loop off');
  assert.throws(() => new TreeMonitor({ claims: 5 }), TypeError);
  assert.throws(() => new TreeMonitor(null), TypeError);
});

test('captured tree: identity by pid + start time, pid reuse, tracer, sandbox change', { skip: linux }, async () => {
  const p = fakeProc();
  try {
    const m = new TreeMonitor({ rootPid: 100, procRoot: p.dir, settleMs: 0 });
    let u = await m.check();
    let procs = m.processes();
    assert.deepEqual(procs.map((x) => [x.pid, x.type]), [[100, 'browser'], [200, 'renderer']]);
    // Captured renderer facts with namespaces unreadable in a plain directory: judged unsandboxed (namespace unknown).
    assert.deepEqual(u.open.map((o) => o.kind), ['child-unsandboxed']);
    assert.match(u.open[0].detail, /namespace/);
    assert.equal(u.open[0].pid, 200);
    assert.equal(u.open[0].processType, 'renderer');

    // A tracer appears.
    p.edit(200, 'status', (t) => t.replace(/TracerPid:\t0/, 'TracerPid:\t4242'));
    u = await m.check();
    const tr = u.open.find((o) => o.kind === 'child-tracer-attached');
    assert.ok(tr, 'tracer reported');
    assert.equal(tr.evidence.tracerPid, 4242);
    // The seccomp filter is dropped (as if): a sandbox change.
    p.edit(200, 'status', (t) => t.replace(/Seccomp:\t2/, 'Seccomp:\t0'));
    u = await m.check();
    const ch = u.open.find((o) => o.kind === 'child-sandbox-changed');
    assert.ok(ch, 'sandbox change reported');
    assert.match(ch.detail, /seccomp 2 -> 0/);

    // pid 200 exits and the pid is reused by a new (sandboxed-looking) renderer: a new identity,
    // the old findings close, nothing of the old process is attributed to the new one.
    p.put(200, 100, 99, 'renderer');
    u = await m.check();
    assert.ok(!u.open.some((o) => o.kind === 'child-tracer-attached' || o.kind === 'child-sandbox-changed'), JSON.stringify(u.open.map((o) => o.kind)));
    procs = m.processes();
    assert.equal(procs[1].startTicks, '99');
    assert.ok(u.open.every((o) => o.key.includes('200:99')), 'keys carry the new identity');

    // A young process that enters its sandbox after it was judged is re-baselined, not 'changed'.
    p.put(300, 100, 99_990, 'renderer-nosandbox'); // 0.1 s old at uptime 1000 s
    p.edit(100, 'task/100/children', () => '200 300 ');
    const m3 = new TreeMonitor({ rootPid: 100, procRoot: p.dir, settleMs: 0 });
    let u3 = await m3.check();
    assert.ok(u3.open.some((o) => o.kind === 'child-unsandboxed' && o.pid === 300), 'judged unsandboxed first');
    p.edit(300, 'status', () => fx('status-renderer.txt').replace(/\nPid:\t\d+/, '\nPid:\t300'));
    u3 = await m3.check();
    assert.ok(!u3.open.some((o) => o.kind === 'child-sandbox-changed' && o.pid === 300), JSON.stringify(u3.open.filter((o) => o.pid === 300).map((o) => o.detail)));

    // Not yet settled: not judged.
    const young = new TreeMonitor({ rootPid: 100, procRoot: p.dir, settleMs: 10_000_000 });
    assert.deepEqual((await young.check()).open, []);
    assert.equal(young.processes()[1].settled, false);
  } finally {
    fs.rmSync(p.dir, { recursive: true, force: true });
  }
});

test('live discovery: native and JS children-file walks and the /proc scan agree; exited children leave the list', { skip: linux }, async () => {
  const sh = spawn('/bin/sh', ['-c', 'sleep 30 & sleep 30 & wait'], { stdio: 'ignore' });
  try {
    let d = [];
    for (let i = 0; i < 50 && d.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
      d = listDescendants(process.pid);
    }
    assert.ok(d.includes(sh.pid), 'the shell is a descendant');
    assert.equal(d.length, 3, `shell and two sleeps: ${d}`);
    assert.deepEqual(new Set(listDescendantsByScan(process.pid)), new Set(d), 'the /proc/*/stat scan agrees');
    assert.deepEqual(listDescendantsJs(process.pid), d, 'the JS children-file walk agrees with the native one');
    assert.deepEqual(loadNative().treeDescendants(4194303), [], 'a pid that does not exist has no descendants');
    assert.throws(() => loadNative().treeDescendants(0), RangeError);
    const m = new TreeMonitor({ codeMs: 0 });
    await m.check();
    const procs = m.processes();
    assert.equal(procs[0].pid, process.pid);
    assert.deepEqual(procs.slice(1).map((x) => x.type), ['other', 'other', 'other']);
    assert.ok(procs.slice(1).every((x) => x.sandboxRequired === false && x.sandboxed === false));
    sh.kill('SIGKILL');
    await new Promise((r) => sh.on('exit', r));
    await m.check();
    assert.ok(!m.processes().some((x) => x.pid === sh.pid), 'the exited shell is gone');
  } finally {
    sh.kill('SIGKILL');
  }
});

test('treeCodeScan: a byte written into a live process code page, then restored', { skip: linux || (process.getuid() !== 0 ? 'writes another process memory: needs root' : false) }, async () => {
  const n = loadNative();
  const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 200));
    const line = fs.readFileSync(`/proc/${child.pid}/maps`, 'utf8').split('\n').find((l) => / r-xp .*libc/.test(l));
    assert.ok(line, 'libc code mapping');
    const [range, , off, dev, ino] = line.split(/\s+/);
    const [lo, hi] = range.split('-').map((x) => BigInt('0x' + x));
    const [maj, min] = dev.split(':').map((x) => parseInt(x, 16));
    const region = { start: lo, end: hi, fileOffset: parseInt(off, 16), path: line.slice(line.indexOf('/')), devMajor: maj, devMinor: min, ino: BigInt(ino) };
    const job = [{ pid: child.pid, regions: [region] }];
    let [r] = await n.treeCodeScan(job);
    assert.equal(r.ok, true, r.detail);
    assert.equal(r.hits.length, 0, 'no written page before');
    // The PAGEMAP_SCAN ioctl (Linux 6.7+) reads no pagemap entries; the fallback reads 8 bytes per page.
    assert.equal(r.pagemapBytes, r.pagemapScan ? 0 : Number((hi - lo) / 4096n) * 8);
    const addr = Number(lo + 4096n * 3n + 0x77n);
    const fd = fs.openSync(`/proc/${child.pid}/mem`, 'r+');
    const orig = Buffer.alloc(1);
    fs.readSync(fd, orig, 0, 1, addr);
    fs.writeSync(fd, Buffer.from([orig[0] ^ 0x01]), 0, 1, addr);
    [r] = await n.treeCodeScan(job);
    assert.equal(r.hits.length, 1);
    assert.equal(r.hits[0].state, 'modified');
    assert.equal(r.hits[0].address, lo + 4096n * 3n);
    assert.equal(r.hits[0].fileOffset, region.fileOffset + 3 * 4096);
    assert.equal(r.hits[0].firstDiff, 0x77);
    assert.equal(r.hits[0].diffBytes, 1, 'a single bit flip is one byte');
    assert.equal(r.hits[0].memByte, orig[0] ^ 0x01);
    assert.equal(r.hits[0].fileByte, orig[0]);
    fs.writeSync(fd, orig, 0, 1, addr);
    fs.closeSync(fd);
    [r] = await n.treeCodeScan(job);
    assert.equal(r.hits[0].state, 'equal', 'written back: still anonymous, equal to the file');
    // The file is checked to be the mapped one.
    [r] = await n.treeCodeScan([{ pid: child.pid, regions: [{ ...region, ino: region.ino + 1n }] }]);
    assert.equal(r.hits[0].state, 'unreadable');
    assert.match(r.hits[0].detail, /no longer the mapped file/);
    child.kill('SIGKILL');
    await new Promise((res) => child.on('exit', res));
    [r] = await n.treeCodeScan(job);
    assert.equal(r.ok, false, 'an exited process is not ok');
    assert.ok(r.errno > 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('treeCodeScan: bad arguments are typed errors', { skip: linux }, () => {
  const n = loadNative();
  assert.throws(() => n.treeCodeScan(5), TypeError);
  assert.throws(() => n.treeCodeScan([{ pid: 0, regions: [] }]), RangeError);
  assert.throws(() => n.treeCodeScan([{ pid: 1, regions: [{ start: 4097n, end: 8192n, fileOffset: 0, path: '/x', devMajor: 0, devMinor: 0, ino: 1n }] }]), RangeError);
  assert.throws(() => n.treeCodeScan([{ pid: 1, regions: [{ start: 4096n, end: 8192n, fileOffset: 0, path: 5, devMajor: 0, devMinor: 0, ino: 1n }] }]), TypeError);
  assert.throws(() => n.treeCodeScan([{ pid: 1, regions: [{ start: 4096, end: 8192n, fileOffset: 0, path: '/x', devMajor: 0, devMinor: 0, ino: 1n }] }]), TypeError);
});
