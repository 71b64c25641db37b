// A child that works against the process tree's code check: it swaps the file behind its written
// code page for a FIFO (the check must not hang), a pid that is no longer the tracked process (the
// native job checks the start time), and trees and memory maps larger than the monitor's bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { Guard } = require(path.join(root, 'dist', 'index.js'));
const { TreeMonitor } = require(path.join(root, 'dist', 'tree', 'monitor.js'));
const { loadNative } = require(path.join(root, 'dist', 'native.js'));
const linux = process.platform === 'linux' ? false : 'Linux only';
const rootOnly = linux || (process.getuid() !== 0 ? 'writes another process memory through /proc/<pid>/mem: needs root' : false);

const MAPPER = `
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, int(sys.argv[2]), flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC)
os.close(fd)
print('ready', flush=True)
time.sleep(120)
`;

/** A python3 child that maps `file` private and executable; resolves with it and the mapping's maps line. */
async function mapper(file, size) {
  const child = spawn('python3', ['-c', MAPPER, file, String(size)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (c) => reject(new Error(`the mapping child exited (${c}): ${err}`)));
  });
  const line = fs
    .readFileSync(`/proc/${child.pid}/maps`, 'utf8')
    .split('\n')
    .find((l) => l.endsWith(file));
  assert.ok(line, `the child maps ${file}`);
  return { child, line };
}

/** Flips a byte of the child's private mapping (a copy-on-write: the page becomes a written page). */
function writeChildByte(pid, addr) {
  const fd = fs.openSync(`/proc/${pid}/mem`, 'r+');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, addr);
    fs.writeSync(fd, Buffer.from([b[0] ^ 0x5a]), 0, 1, addr);
  } finally {
    fs.closeSync(fd);
  }
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

test('a child that swaps its mapped code file for a FIFO: Guard.check() resolves within 5 s and reports the written page unreadable', { skip: rootOnly }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-fifo-'));
  const real = path.join(dir, 'real');
  const fake = path.join(dir, 'fake');
  fs.mkdirSync(real);
  fs.mkdirSync(fake);
  const file = path.join(real, 'code.bin');
  const size = 16 * 4096;
  fs.writeFileSync(file, crypto.randomBytes(size));
  const mk = spawnSync('mkfifo', [path.join(fake, 'code.bin')]);
  assert.equal(mk.status, 0, `mkfifo: ${mk.stderr}`);
  const { child, line } = await mapper(file, size);
  const g = new Guard({ code: false, kernel: false, launch: false, processTree: { codeMs: 60_000, settleMs: 0 } });
  let mounted = false;
  try {
    const start = Number(BigInt('0x' + line.split('-')[0]));
    writeChildByte(child.pid, start + 2 * 4096 + 100);
    // The path the child's maps show now opens a FIFO: a directory holding one is mounted over the
    // mapped file's directory (the mapping keeps the file; its path string does not change).
    const m = spawnSync('mount', ['--bind', fake, real], { encoding: 'utf8' });
    assert.equal(m.status, 0, `mount --bind (needs CAP_SYS_ADMIN): ${m.stderr}`);
    mounted = true;
    assert.ok(fs.statSync(file).isFIFO(), 'the mapped path is a FIFO now');
    // start() runs a first tree pass too: both must settle.
    await withTimeout(g.start(), 5000, 'Guard.start() with a FIFO at the mapped path');
    const status = await withTimeout(g.check(), 5000, 'Guard.check() with a FIFO at the mapped path');
    const f = status.findings.find((x) => x.kind === 'code-unreadable' && x.pid === child.pid);
    assert.ok(f, `a code-unreadable finding for the child; findings: ${JSON.stringify(status.findings.map((x) => [x.kind, x.detail]))}`);
    assert.equal(f.path, file, 'the finding names the mapped path');
    assert.match(f.detail, /not a regular file/, 'the finding says why the page could not be compared');
  } finally {
    g.stop();
    // Before the fix the pass blocked in open(): a writer opening the FIFO releases that thread.
    try {
      fs.closeSync(fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    } catch {
      // no reader waiting
    }
    if (mounted) spawnSync('umount', [real]);
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a child whose mapped code file sits on a FUSE mount that stops answering: the pass settles, checker-stalled and code-unreadable', { skip: rootOnly || (fs.existsSync('/dev/fuse') ? false : 'no /dev/fuse') }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-fuse-'));
  const size = 16 * 4096;
  // A one-file FUSE daemon (children/stall-fuse.py) that stops answering when told to.
  const daemon = spawn('python3', [path.join(root, 'test', 'tree', 'children', 'stall-fuse.py'), dir, String(size)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  daemon.stdout.on('data', (d) => (out += d));
  daemon.stderr.on('data', (d) => (err += d));
  const waitOut = async (word) => {
    for (let i = 0; i < 200 && !out.includes(word); i++) {
      assert.equal(daemon.exitCode, null, `the FUSE daemon exited: ${err}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(out.includes(word), `the FUSE daemon says ${word}: ${err}`);
  };
  let child = null;
  const g = new Guard({ code: false, kernel: false, launch: false, processTree: { codeMs: 60_000, settleMs: 0 } });
  try {
    await waitOut('ready');
    const file = path.join(dir, 'code.bin');
    ({ child } = await mapper(file, size));
    const start = Number(BigInt('0x' + fs.readFileSync(`/proc/${child.pid}/maps`, 'utf8').split('\n').find((l) => l.endsWith(file)).split('-')[0]));
    writeChildByte(child.pid, start + 3 * 4096 + 5);
    daemon.stdin.write('stall\n');
    await waitOut('stalled');
    const t0 = performance.now();
    await withTimeout(g.start(), 10_000, 'Guard.start() with a stalled FUSE file behind a written page');
    const status = await withTimeout(g.check(), 10_000, 'Guard.check() with a stalled FUSE file behind a written page');
    const ms = performance.now() - t0;
    const stall = status.findings.find((x) => x.kind === 'checker-stalled' && x.key.startsWith('tree:'));
    assert.ok(stall, `a checker-stalled finding from the tree: ${JSON.stringify(status.findings.map((x) => [x.kind, x.detail]))}`);
    assert.match(stall.detail, /did not return in time|have not returned/, 'it says the read did not return');
    const f = status.findings.find((x) => x.kind === 'code-unreadable' && x.pid === child.pid);
    assert.ok(f, `the written page is code-unreadable: ${JSON.stringify(status.findings.map((x) => [x.kind, x.detail]))}`);
    assert.ok(ms < 10_000, `start() and check() took ${ms.toFixed(0)} ms in all (3 s per pass at most for file reads)`);
  } finally {
    g.stop();
    child?.kill('SIGKILL');
    daemon.kill('SIGKILL'); // the connection aborts: requests still waiting fail with ENOTCONN
    await new Promise((r) => (daemon.exitCode !== null ? r() : daemon.once('exit', r)));
    spawnSync('umount', ['-l', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('treeCodeScan reads only the process of the job start time: another start time (a reused pid) is ESRCH', { skip: rootOnly }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-reuse-'));
  const file = path.join(dir, 'code.bin');
  const size = 8 * 4096;
  fs.writeFileSync(file, crypto.randomBytes(size));
  const { child, line } = await mapper(file, size);
  try {
    const [range, , off, dev, ino] = line.split(/\s+/);
    const [lo, hi] = range.split('-').map((x) => BigInt('0x' + x));
    const [maj, min] = dev.split(':').map((x) => parseInt(x, 16));
    writeChildByte(child.pid, Number(lo) + 4096 + 7);
    const region = { start: lo, end: hi, fileOffset: parseInt(off, 16), path: file, devMajor: maj, devMinor: min, ino: BigInt(ino) };
    const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'latin1');
    const startTicks = BigInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const n = loadNative();
    let [r] = await n.treeCodeScan([{ pid: child.pid, startTicks, regions: [region] }]);
    assert.equal(r.ok, true, `the job of the right start time reads the process: ${r.detail}`);
    assert.equal(r.hits.length, 1, 'its written page is found');
    assert.equal(r.hits[0].state, 'modified');
    // The same pid with another start time: what a tracked process that exited, its pid taken by a
    // new process, looks like to the job.
    [r] = await n.treeCodeScan([{ pid: child.pid, startTicks: startTicks + 1n, regions: [region] }]);
    assert.equal(r.ok, false, 'a pid whose start time differs is not read as the tracked process');
    assert.equal(r.errno, 3, `ESRCH (reported as exited), got ${r.errno}: ${r.detail}`);
    assert.equal(r.hits.length, 0, 'no page of the other process is reported');
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a tracked child's pid taken by a new process: the code loop does not read the new one as the old (pid namespace, ns_last_pid)", { skip: rootOnly }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-pidreuse-'));
  try {
    const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, path.join(root, 'test', 'tree', 'children', 'pid-reuse.mjs'), path.join(root, 'dist'), dir], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `the namespace child (needs CAP_SYS_ADMIN for unshare): ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.equal(out.reused, true, 'the new process took the tracked process pid');
    assert.ok(out.aKey, 'the first process was tracked');
    assert.deepEqual(out.underA, [], `no code finding of the new process under the old one's pid before discovery: ${JSON.stringify(out.underA)}`);
    const b = out.afterDiscovery.find((o) => o.path.endsWith('b.bin'));
    assert.ok(b, `after a full discovery the new process's written page is found: ${JSON.stringify(out.afterDiscovery)}`);
    assert.ok(!b.key.includes(`:${out.aKey}:`), `under the new process's own identity, not ${out.aKey}: ${b.key}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('descendants past maxProcesses are left untracked with a tree-limit-reached observation', { skip: linux }, async () => {
  assert.throws(() => new TreeMonitor({ maxProcesses: 0 }), RangeError, 'maxProcesses 0 is a RangeError');
  assert.throws(() => new TreeMonitor({ maxMapsBytes: 1.5 }), RangeError, 'a fractional maxMapsBytes is a RangeError');
  const sh = spawn('/bin/sh', ['-c', 'sleep 30 & sleep 30 & sleep 30 & wait'], { stdio: 'ignore' });
  const m = new TreeMonitor({ codeMs: 0, maxProcesses: 2 });
  try {
    let open = [];
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 50));
      open = (await m.check()).open;
      if (open.some((o) => o.kind === 'tree-limit-reached' && o.evidence?.untracked === 2)) break;
    }
    assert.equal(m.processes().length - 1, 2, `two descendants tracked (of four): ${JSON.stringify(m.processes().map((p) => p.pid))}`);
    const lim = open.find((o) => o.kind === 'tree-limit-reached');
    assert.ok(lim, `a tree-limit-reached observation: ${JSON.stringify(open)}`);
    assert.equal(lim.evidence.untracked, 2, `it counts the two untracked descendants: ${lim.detail}`);
    assert.match(lim.detail, /maxProcesses/);
  } finally {
    m.stop();
    sh.kill('SIGKILL');
  }
});

test("a child's memory map larger than maxMapsBytes is not read whole: its code check is reported limited", { skip: linux }, async () => {
  const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  const m = new TreeMonitor({ codeMs: 60_000, settleMs: 0, maxMapsBytes: 256 });
  try {
    await new Promise((r) => setTimeout(r, 200));
    const mapsBytes = fs.readFileSync(`/proc/${child.pid}/maps`).length;
    assert.ok(mapsBytes > 256, `sleep's maps are longer than the bound (${mapsBytes} bytes)`);
    const { open } = await m.check();
    const lim = open.find((o) => o.kind === 'tree-limit-reached' && o.pid === child.pid);
    assert.ok(lim, `a tree-limit-reached observation for the child: ${JSON.stringify(open)}`);
    assert.match(lim.detail, /larger than 256 bytes/);
    const entry = m.processes().find((p) => p.pid === child.pid);
    assert.equal(entry?.coverage, null, 'no code coverage for a child whose maps were not read');
  } finally {
    m.stop();
    child.kill('SIGKILL');
  }
});
