// The engine's read path and the CodeMonitor contract: a library truncated and unmapped mid-sweep
// (no crash, no false finding), checkFiles, progress, sentinelState, mappedFiles, the baseline on
// the first successful check, page-cache digests, and sizes from JS capped with a RangeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CodeMonitor } from '../../dist/internals.js';
import { loadNative } from '../../dist/native.js';
import { copyTestLib, loadTestLib, flip, fileOffsetOf, fileKeyOf, hooks } from './helpers.mjs';

const PAGE = 4096;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const codeFindings = (list) => list.filter((o) => o.kind === 'code-modified' || o.kind === 'differs-from-disk');

test('a library truncated and unmapped mid-sweep, in a loop for 30 s: no crash, no false code finding', async () => {
  const m = new CodeMonitor();
  m.prepare(); // pagemap: the page-cache read path (pread for pages not mapped in) is the one exercised
  const bad = [];
  let rounds = 0;
  let midSweep = 0;
  try {
    await m.baseline();
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      const file = copyTestLib(`trunc${rounds}`);
      const size = fs.statSync(file).size & ~(PAGE - 1);
      const populate = rounds % 2 === 0; // resident pages are read from memory, the others from the file
      const at = hooks.mapFileExec(file, size, populate);
      if (rounds % 3 === 0) for (const o of codeFindings((await m.check()).open)) bad.push(o); // seen whole once
      const pass = rounds % 5 === 4 ? m.checkFiles([fileKeyOf(file)]) : m.check();
      await sleep(rounds % 7); // 0-6 ms into the pass
      if (m.progress().passActive) midSweep++;
      fs.truncateSync(file, rounds % 2 === 0 ? 0 : Math.floor(size / PAGE / 2) * PAGE); // whole pages past EOF
      if (rounds % 4 === 1) for (const o of codeFindings((await m.check()).open)) bad.push(o); // truncated, still mapped
      hooks.munmap(at, size);
      for (const o of codeFindings((await pass).open)) bad.push(o);
      for (const o of codeFindings((await m.check()).open)) bad.push(o);
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      rounds++;
    }
  } finally {
    m.close();
  }
  assert.ok(rounds >= 10, `the loop ran (${rounds} rounds)`);
  assert.ok(midSweep > 0, `some truncations happened while a full pass was running (${midSweep} of ${rounds})`);
  assert.deepEqual(bad.slice(0, 3), [], `false code findings after ${rounds} rounds: ${bad.length}`);
});

test('checkFiles re-checks only the named file, unpaced, and reports a page-cache write there', async () => {
  const lib = loadTestLib();
  const other = loadTestLib();
  const m = new CodeMonitor();
  m.prepare();
  try {
    const before = await m.checkFiles([fileKeyOf(lib.path)]);
    assert.deepEqual(codeFindings(before.open), [], 'no baseline yet: checkFiles checks nothing');
    await m.check();
    const key = fileKeyOf(lib.path);
    assert.ok(m.mappedFiles().some((f) => f.fileKey === key && f.path === lib.path), 'mappedFiles() lists the library');
    const addr = lib.blob + BigInt(PAGE * 9 + 17);
    const off = fileOffsetOf(lib.path, addr);
    const fd = fs.openSync(lib.path, 'r+');
    const orig = Buffer.alloc(1);
    fs.readSync(fd, orig, 0, 1, off);
    const restoreOther = flip(other.blob + 5n); // a change in another file: not this call's business
    let r;
    try {
      fs.writeSync(fd, Buffer.from([orig[0] ^ 0x08]), 0, 1, off);
      r = await m.checkFiles([key]);
    } finally {
      fs.writeSync(fd, orig, 0, 1, off);
      fs.closeSync(fd);
      restoreOther();
    }
    const hits = codeFindings(r.open);
    assert.equal(hits.length, 1, `one finding, in the named file only: ${JSON.stringify(hits.map((h) => h.path))}`);
    assert.equal(hits[0].path, lib.path);
    assert.equal(hits[0].page, Math.floor(off / PAGE));
    const back = await m.checkFiles([key]);
    assert.equal(back.events.filter((e) => e.kind === 'code-restored' && e.path === lib.path).length, 1, 'restored by checkFiles too');
  } finally {
    m.close();
  }
});

test('progress() counts pages while a paced pass runs; sentinelState() says running and ticks', async () => {
  const m = new CodeMonitor();
  const p = m.prepare();
  try {
    assert.deepEqual(m.sentinelState().state, 'off');
    await m.check();
    const total = m.progress().pagesTotal;
    assert.ok(total > 0, 'the last pass had pages');
    assert.equal(m.startSentinel(20, 0.01, () => undefined), p.sentinel, 'the sentinel starts where pagemap opened');
    const slow = m.check(0.02); // 2 % of a core: many seconds for the whole process
    const seen = [];
    for (let i = 0; i < 40 && seen.length < 2; i++) {
      await sleep(100);
      const pr = m.progress();
      if (pr.passActive && pr.pagesDone > 0) seen.push(pr);
    }
    assert.ok(seen.length >= 1, 'progress was visible during the paced pass');
    assert.ok(seen.at(-1).pagesDone <= seen.at(-1).pagesTotal);
    assert.ok(Date.now() - seen.at(-1).lastProgressAt < 15_000, 'lastProgressAt is recent wall-clock time');
    if (p.sentinel) {
      const s = m.sentinelState();
      assert.equal(s.state, 'running');
      assert.ok(typeof s.lastTickAt === 'number' && Date.now() - s.lastTickAt < 5000, `the sentinel ticks: ${JSON.stringify(s)}`);
    }
    m.close();
    await assert.rejects(slow, /closed/, 'close() ends the paced pass');
    assert.deepEqual(m.sentinelState(), { state: 'off', reason: 'closed' });
  } finally {
    m.close();
  }
});

test('a failed first check leaves no baseline: the next successful one is it, then mapping-added works', async () => {
  const maps = path.join(fs.mkdtempSync('/tmp/pg-maps-'), 'maps');
  const m = new CodeMonitor({ mapsPath: maps });
  try {
    await assert.rejects(m.check(), /maps/);
    fs.writeFileSync(maps, fs.readFileSync('/proc/self/maps'));
    const first = await m.check();
    assert.deepEqual(first.events.filter((e) => e.kind === 'mapping-added'), [], 'the baseline pass reports no mapping-added');
    const lib = loadTestLib();
    fs.writeFileSync(maps, fs.readFileSync('/proc/self/maps'));
    const r = await m.check();
    assert.equal(r.events.filter((e) => e.kind === 'mapping-added' && e.path === lib.path).length, 1, 'a library mapped after the baseline is mapping-added');
  } finally {
    m.close();
  }
});

test('page-cache digests by (dev:inode, offset) are the file\'s, and are shared without a second hash', async () => {
  const lib = loadTestLib();
  const m = new CodeMonitor();
  m.prepare();
  try {
    await m.check();
    const key = fileKeyOf(lib.path);
    const off = fileOffsetOf(lib.path, lib.blob) & ~(PAGE - 1);
    const got = m.pageCacheDigests(key, off, 4);
    const bytes = Buffer.alloc(4 * PAGE);
    const fd = fs.openSync(lib.path, 'r');
    fs.readSync(fd, bytes, 0, bytes.length, off);
    fs.closeSync(fd);
    assert.equal(got.toString('hex'), loadNative().hashPages(bytes, 'blake3').toString('hex'), 'the digests are the file pages\' BLAKE3');
    assert.equal(m.pageCacheDigests('0:0', 0, 2).equals(Buffer.alloc(32)), true, 'an unknown file gives unknown (zero) digests');
  } finally {
    m.close();
  }
});

test('sizes from JS are capped with a RangeError before anything is allocated', async () => {
  const native = loadNative();
  const s = new native.Scanner();
  try {
    const huge = [{ start: 0x10000n, end: 0x10000n + (1n << 47n), fileKey: 'x', fileOffset: 0, compareDisk: false }];
    assert.throws(() => s.pass(huge, { mode: 'blake3', residentOnly: false }), { name: 'RangeError', message: /at most 17179869184 \(16 GiB\) per job/ });
    assert.throws(() => s.sweep(huge, { mode: 'blake3', residentOnly: false }), { name: 'RangeError' });
    assert.throws(() => s.hashFile(0, 0, 2 ** 40, 'blake3'), { name: 'RangeError', message: /length covers/ });
    assert.throws(() => s.pageCacheDigests('x', 0, 2 ** 33), { name: 'RangeError' });
    assert.throws(() => s.pass([{ ...huge[0], end: 0x20000n, fileOffset: 1 }], { mode: 'blake3', residentOnly: false }), { name: 'RangeError' });
  } finally {
    s.close();
  }
});

test('a sentinel consumer that throws is contained: no uncaught exception, no unhandled rejection', async () => {
  const lib = loadTestLib();
  const m = new CodeMonitor();
  const p = m.prepare();
  if (!p.sentinel) {
    m.close();
    assert.fail(`pagemap could not be opened here: ${p.detail}`);
  }
  const escaped = [];
  const onErr = (e) => escaped.push(e);
  process.on('uncaughtException', onErr);
  process.on('unhandledRejection', onErr);
  let calls = 0;
  try {
    await m.check();
    assert.equal(m.startSentinel(20, 0.05, () => {
      calls++;
      throw new Error('consumer bug');
    }), true);
    const restore = flip(lib.blob + BigInt(PAGE * 3 + 7));
    for (let i = 0; i < 100 && calls === 0; i++) await sleep(50);
    restore();
    for (let i = 0; i < 100 && calls < 2; i++) await sleep(50);
    assert.ok(calls >= 2, `the sentinel reported the write and the restore despite the throwing consumer (${calls} calls)`);
    await sleep(100);
    assert.deepEqual(escaped, [], 'nothing escaped from the sentinel path');
  } finally {
    process.off('uncaughtException', onErr);
    process.off('unhandledRejection', onErr);
    m.close();
  }
});
