// The engine's zero-copy read path (native/memory/file_view.h): present page-cache pages of a file the
// engine may lease are hashed in place from a file's second pass on, with the digests the copying
// path gives; a file open for writing is read with pread; a file truncated and restored by another
// process while passes run never crashes this one; a writer breaking the lease over and over never
// signals the app (the break's SIGIO stays on the engine thread); and a view being populated during a pass does
// not blind the tamper sentinel (which watches statm's file-backed count). Real files, real
// mappings, real leases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import { loadNative } from '../../dist/native.js';
import { Guard } from '../../dist/index.js';
import { copyTestLib, fileKeyOf, flip, waitFor, hooks } from './helpers.mjs';
import { scaled, timeScale } from '../time-scale.mjs';

const PAGE = 4096;
const linux = process.platform === 'linux';
const native = linux ? loadNative() : null;

/** A copy of the test library mapped r-xp and resident, adopted by a fresh engine. */
function setup() {
  assert.ok(native.openPagemap().ok, '/proc/self/pagemap opens (the pass routes pages by it)');
  const file = copyTestLib('zerocopy');
  const size = fs.statSync(file).size & ~(PAGE - 1);
  const start = hooks.mapFileExec(file, size, true);
  const fileKey = fileKeyOf(file);
  const fd = fs.openSync(file, 'r');
  const scanner = new native.Scanner();
  const adopted = scanner.adoptFile(fileKey, fd);
  assert.ok(adopted.ok, `the engine adopts the file (errno ${adopted.errno})`);
  const regions = [{ start, end: start + BigInt(size), fileKey, fileOffset: 0, compareDisk: true }];
  const done = () => {
    scanner.close();
    fs.closeSync(fd);
    hooks.munmap(start, size);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  };
  return { file, size, start, scanner, regions, done };
}

/**
 * Runs passes back to back while a python child (`py`, given `args`) works on the file; returns the
 * child's exit code and output, the passes run and how many of them read in place.
 */
async function passesWhile(s, mode, py, args) {
  const child = spawn('/usr/bin/python3', ['-c', py, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let running = true;
  const exited = new Promise((r) => child.on('exit', r)).then((code) => ((running = false), code));
  let passes = 0;
  let inPlace = 0;
  try {
    await s.scanner.pass(s.regions, { mode });
    while (running) {
      const r = await s.scanner.pass(s.regions, { mode });
      passes++;
      if (r.viewBytes > 0) inPlace++;
    }
    return { code: await exited, out: out.trim(), passes, inPlace };
  } finally {
    child.kill();
  }
}

test('present page-cache pages are hashed in place from the second pass on, with the digests of the copy path', { skip: !linux && 'Linux only: read leases' }, async () => {
  const s = setup();
  try {
    const first = await s.scanner.pass(s.regions, { mode: 'blake3', firstRead: 'copy' });
    assert.equal(first.viewBytes, 0, "a baseline pass with firstRead: 'copy' reads with pread");
    assert.equal(first.fileReadBytes, s.size, 'the baseline pass read every page from the page cache once');
    const second = await s.scanner.pass(s.regions, { mode: 'blake3' });
    assert.equal(second.viewBytes, s.size, `the second pass hashed every present page in place (viewBytes ${second.viewBytes} of ${s.size})`);
    assert.deepEqual(second.changes, [], 'in-place digests equal the baseline taken with pread');
    const copied = await s.scanner.pass(s.regions, { mode: 'blake3', zeroCopy: false });
    assert.equal(copied.viewBytes, 0, 'zeroCopy: false reads with pread');
    assert.deepEqual(copied.changes, [], 'the copy path agrees too');

    // A write(2) through the page cache is what the view shows.
    const off = 7 * PAGE + 123;
    const fd = fs.openSync(s.file, 'r+');
    const orig = Buffer.alloc(1);
    fs.readSync(fd, orig, 0, 1, off);
    fs.writeSync(fd, Buffer.from([orig[0] ^ 0x40]), 0, 1, off);
    fs.closeSync(fd); // no writer left: the lease is granted again
    const written = await s.scanner.pass(s.regions, { mode: 'blake3' });
    assert.equal(written.viewBytes, s.size, 'the pass after the write read in place');
    assert.equal(written.changes.length, 1, `one changed page (got ${JSON.stringify(written.changes.map((c) => c.filePage))})`);
    assert.equal(written.changes[0].filePage, 7, 'the written page');
    // (The engine locates a change against the file, which here changed too; the Guard's byte
    // offset for page-cache writes comes from its pristine copies, see test/fastloops.)
    const wfd = fs.openSync(s.file, 'r+');
    fs.writeSync(wfd, orig, 0, 1, off);
    fs.closeSync(wfd);
    const restored = await s.scanner.pass(s.regions, { mode: 'blake3' });
    assert.deepEqual(restored.changes, [], 'restored: no change');
  } finally {
    s.done();
  }
});

/** A fresh random file of `pages` pages in the temp dir, mapped r-xp and resident; its key and cleanup. */
function mappedRandomFile(pages) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-first-'));
  const file = path.join(dir, 'code.bin');
  fs.writeFileSync(file, crypto.randomBytes(pages * PAGE));
  const size = pages * PAGE;
  const start = hooks.mapFileExec(file, size, true);
  const fileKey = fileKeyOf(file);
  const regions = [{ start, end: start + BigInt(size), fileKey, fileOffset: 0, compareDisk: true }];
  const scanners = [];
  const scanner = () => {
    const sc = new native.Scanner();
    const fd = fs.openSync(file, 'r');
    const adopted = sc.adoptFile(fileKey, fd);
    fs.closeSync(fd);
    assert.ok(adopted.ok, `the engine adopts the file (errno ${adopted.errno})`);
    scanners.push(sc);
    return sc;
  };
  const done = () => {
    for (const sc of scanners) sc.close();
    hooks.munmap(start, size);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { file, size, start, fileKey, regions, scanner, done };
}

test("a file's first pass in place (firstRead: 'view') takes the digests of the copy path and finds a page written before it", { skip: !linux && 'Linux only: read leases' }, async () => {
  assert.ok(native.openPagemap().ok, '/proc/self/pagemap opens');
  const m = mappedRandomFile(3 * 1024); // 12 MiB: three 4 MiB chunks
  try {
    const written = 1000; // copied on write before the first pass: read from memory, not the view
    const restore = flip(m.start + BigInt(written * PAGE + 99), 0x10);
    // Present page-cache pages go through the view. (The write may unmap its neighbours in the same
    // large folio, measured on ext4: those are read from the page cache with pread.)
    const states = native.pagemapStates(m.start, m.size);
    const present = states.filter((x) => x === 1).length;
    const inPlace = m.scanner();
    const copy = m.scanner();
    const v = await inPlace.pass(m.regions, { mode: 'blake3', firstRead: 'view' });
    const c = await copy.pass(m.regions, { mode: 'blake3', firstRead: 'copy' });
    restore();
    assert.ok(present > 0, 'pages of the mapping are present');
    assert.equal(v.viewBytes, present * PAGE, `every present page-cache page was hashed in place (viewBytes ${v.viewBytes}, ${present} pages present)`);
    assert.equal(v.fileReadBytes, (m.size / PAGE - present - 1) * PAGE, 'the others but the written page were read from the page cache');
    assert.equal(c.viewBytes, 0, "firstRead: 'copy' copies every page");
    const pages = m.size / PAGE;
    const dv = inPlace.pageCacheDigests(m.fileKey, 0, pages);
    const dc = copy.pageCacheDigests(m.fileKey, 0, pages);
    assert.ok(dv.equals(dc), 'the baseline digests of both routes are equal, byte for byte');
    for (const [name, r] of [['view', v], ['copy', c]]) {
      assert.deepEqual(r.changes.map((x) => [x.filePage, x.preexisting]), [[written, true]], `${name}: the page written before the first pass differs from the file`);
    }
    const again = await inPlace.pass(m.regions, { mode: 'blake3' });
    assert.deepEqual(again.changes.map((x) => x.filePage), [], 'restored: the next pass finds nothing');
  } finally {
    m.done();
  }
});

test('firstRead: auto times the in-place view against a copy on first passes and keeps the cheaper', { skip: !linux && 'Linux only: read leases' }, async () => {
  assert.ok(native.openPagemap().ok, '/proc/self/pagemap opens');
  const probe = new native.Scanner();
  try {
    assert.throws(() => probe.pass([], { mode: 'fast', firstRead: 'mmap' }), /firstRead must be 'auto', 'view' or 'copy'/, 'an unknown firstRead is a TypeError');
  } finally {
    probe.close();
  }
  const m = mappedRandomFile(3 * 1024);
  try {
    const r = await m.scanner().pass(m.regions, { mode: 'fast' });
    assert.deepEqual(r.changes, [], 'nothing changed');
    const choice = native.firstReadChoice();
    assert.ok(choice.viewNsPerPage > 0 && choice.copyNsPerPage > 0, `both routes were timed (${JSON.stringify(choice)})`);
    assert.equal(choice.route, choice.viewNsPerPage < choice.copyNsPerPage ? 'view' : 'copy', `the cheaper route is kept (${JSON.stringify(choice)})`);
  } finally {
    m.done();
  }
});

test('a file open for writing is read with pread: the read lease is refused while a writer exists', { skip: !linux && 'Linux only: read leases' }, async () => {
  const s = setup();
  try {
    await s.scanner.pass(s.regions, { mode: 'fast' });
    const writer = fs.openSync(s.file, 'r+');
    let held;
    try {
      held = await s.scanner.pass(s.regions, { mode: 'fast' });
    } finally {
      fs.closeSync(writer);
    }
    assert.equal(held.viewBytes, 0, 'no page was read in place while the file was open for writing');
    assert.equal(held.fileReadBytes, s.size, 'every page was read with pread instead');
    assert.deepEqual(held.changes, [], 'and nothing changed');
    const after = await s.scanner.pass(s.regions, { mode: 'fast' });
    assert.equal(after.viewBytes, s.size, 'with the writer gone the view is used again');
  } finally {
    s.done();
  }
});

test('another process truncating and restoring the file while passes read it in place: no crash', { skip: !linux && 'Linux only: read leases' }, async () => {
  const s = setup();
  const copy = fs.readFileSync(s.file);
  // The child truncates the second half away at a page boundary and rewrites the same bytes, with
  // short gaps, for 5 s; truncate(2) must wait for the lease, so no pass ever touches a page past the
  // end of the file. (While the child has the file open for writing the lease is refused and passes
  // pread. Truncation zaps this process's page-table entries past the cut, so those pages are read
  // with pread from then on; the first half stays present and is read in place.)
  const py = [
    'import os, sys, time',
    'p, n = sys.argv[1], int(sys.argv[2])',
    'data = open(p, "rb").read()',
    'end = time.time() + 5',
    'rounds = 0',
    'while time.time() < end:',
    '    os.truncate(p, n // 2 + (rounds % 4) * 4096)',
    '    with open(p, "r+b") as f: f.write(data)',
    '    rounds += 1',
    '    time.sleep(0.005 * (rounds % 4))', // gaps with no writer open: the lease can be granted
    'print(rounds)',
  ].join('\n');
  try {
    const { code, out, passes, inPlace } = await passesWhile(s, 'blake3', py, [s.file, String(s.size)]);
    assert.equal(code, 0, 'the truncating child finished');
    assert.ok(Number(out) > 10, `the child truncated the file many times (${out} rounds)`);
    assert.ok(passes > 10, `passes ran meanwhile (${passes})`);
    assert.ok(inPlace > 0, `some passes read in place between truncations (${inPlace} of ${passes})`);
    assert.deepEqual(fs.readFileSync(s.file), copy, 'the file is whole again');
    const last = await s.scanner.pass(s.regions, { mode: 'blake3' });
    assert.deepEqual(last.changes.map((c) => c.filePage), [], 'the restored file matches the baseline');
  } finally {
    s.done();
  }
});

test('a writer breaking the lease over and over: its SIGIO never reaches the app, it waits on an engine thread', { skip: !linux && 'Linux only: read leases' }, async () => {
  const s = setup();
  let appSigio = 0;
  const onSigio = () => appSigio++; // without it a process-directed SIGIO would terminate the test
  process.on('SIGIO', onSigio);
  // Every open for writing breaks the lease the pass holds (or is refused one); 3 s of it.
  const py = ['import os, sys, time', 'end = time.time() + 3', 'n = 0', 'while time.time() < end:', '    os.close(os.open(sys.argv[1], os.O_WRONLY))', '    n += 1', 'print(n)'].join('\n');
  try {
    const { code, out, passes, inPlace } = await passesWhile(s, 'fast', py, [s.file]);
    assert.equal(code, 0, 'the writer child finished');
    assert.ok(Number(out) > 100, `the child opened the file for writing many times (${out})`);
    assert.ok(inPlace > 0, `some passes held the lease and read in place (${inPlace} of ${passes})`);
    await new Promise((r) => setImmediate(r)); // a pending signal event would be dispatched by now
    assert.equal(appSigio, 0, `no lease-break SIGIO reached the app (${appSigio})`);
  } finally {
    process.off('SIGIO', onSigio);
    s.done();
  }
});

// Both first-read routes (native/scanner/first_read.h): in place, the first pass already populates the view
// (the route the probe picks on AVX2 machines without AVX-512, and under qemu-user); by copy, the
// second (paced) one does.
for (const firstRead of ['view', 'copy']) test(`writes to code while a paced pass populates the view are still found by the sentinel at once (first read: ${firstRead})`, { skip: !linux && 'Linux only: read leases' }, async () => {
  // 64 MiB of mapped code: the second (paced) pass maps the view chunk by chunk for seconds, and
  // every chunk raises statm's file-backed count. Before the views were discounted, each rise
  // looked like a change, spent the sentinel's walk budget, and a real write waited ~2 s for it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-view-'));
  const file = path.join(dir, 'big.bin');
  const size = 64 * 1024 * 1024;
  fs.writeFileSync(file, crypto.randomBytes(size));
  const start = hooks.mapFileExec(file, size, true);
  // The sentinel's walk budget is a share of CPU; under qemu-user (time scale 10) every walk costs ~10x the
  // CPU, so the share is scaled like the time bounds: the same number of walks fit (the default 0.1 % natively).
  const sentinelBudget = Math.min(0.01, 0.001 * timeScale);
  const g = new Guard({ periodMs: 300, cpuBudget: 0.01, sentinelMs: 25, sentinelBudget, kernel: false, launch: false, firstRead });
  try {
    await g.start();
    // The second pass (the view's first) starts at 300 ms and populates for seconds; by 2.5 s the
    // walks a populating view would trigger have used up the sentinel's initial walk budget (without
    // the discount, writes from then on waited 0.7-1 s here; with it, under 30 ms).
    await new Promise((r) => setTimeout(r, 2500));
    const latencies = [];
    for (let i = 0; i < 8; i++) {
      const addr = start + BigInt((((i * 2039 + 7) % (size / PAGE)) * PAGE) + 11);
      const seen = waitFor(g, 'finding', (f) => f.kind === 'code-modified' && f.address === `0x${addr.toString(16)}`, scaled(5000), `code-modified for write ${i}`);
      const t0 = performance.now();
      const restore = flip(addr, 0x10);
      try {
        await seen;
        latencies.push(performance.now() - t0);
      } finally {
        restore();
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    const worst = Math.max(...latencies);
    assert.ok(worst < scaled(500), `every write found within 0.5 s while the view was populated (ms: ${latencies.map((l) => l.toFixed(0)).join(', ')})`);
  } finally {
    g.stop();
    hooks.munmap(start, size);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
