// Issue 3, tests 1 and 6: a bit flipped in code is reported at the exact byte, by check() and by
// the running monitor on its own, and closes with code-restored; a page changed before start is
// reported as differs-from-disk.
import assert from 'node:assert/strict';
import { Guard } from '../../dist/index.js';
import { CodeMonitor } from '../../dist/internals.js';
import { test, loadTestLib, flip, fileOffsetOf, hex, waitFor, hooks } from './helpers.mjs';
import { scaled } from '../time-scale.mjs';

const codeFindings = (list, path) => list.filter((o) => (o.kind === 'code-modified' || o.kind === 'differs-from-disk') && o.path === path);

test('check() reports a /proc/self/mem bit flip as code-modified at the exact byte, then code-restored', async () => {
  const lib = loadTestLib();
  const m = new CodeMonitor();
  try {
    const base = await m.baseline();
    assert.deepEqual(codeFindings(base.open, lib.path), [], 'a clean library must give no finding at baseline');
    const addr = lib.blob + 12345n;
    const restore = flip(addr, 0x04);
    let r;
    try {
      r = await m.check();
    } finally {
      restore();
    }
    const found = codeFindings(r.open, lib.path);
    assert.equal(found.length, 1, `expected one code finding for ${lib.path}, got ${JSON.stringify(found)}`);
    const f = found[0];
    assert.equal(f.kind, 'code-modified');
    assert.equal(f.offset, fileOffsetOf(lib.path, addr), 'offset must be the flipped byte\'s offset in the file');
    assert.equal(f.address, hex(addr), 'address must be the flipped byte');
    assert.equal(f.page, Math.floor(f.offset / 4096));
    assert.equal(f.evidence.differingBytes, 1, 'exactly one byte differs');
    assert.equal(f.evidence.firstXor, '0x4', 'the flipped bit is reported');
    assert.notEqual(f.before, f.after, 'before/after digests must differ');
    const r2 = await m.check();
    assert.deepEqual(codeFindings(r2.open, lib.path), [], 'the finding must close once the byte is restored');
    const restored = r2.events.filter((e) => e.kind === 'code-restored' && e.path === lib.path);
    assert.equal(restored.length, 1, 'one code-restored event');
    assert.equal(restored[0].offset, f.offset);
  } finally {
    m.close();
  }
});

test('a running Guard reports a flip on its own (pagemap sentinel) and its restore, with no check() call', async () => {
  const lib = loadTestLib();
  const g = new Guard({ periodMs: 60_000, sentinelMs: 25, kernel: false, launch: false });
  try {
    await g.start();
    const addr = lib.blob + 4096n * 7n + 99n;
    const seen = waitFor(g, 'finding', (f) => f.kind === 'code-modified' && f.path === lib.path, scaled(5000), 'code-modified from the running guard');
    const restore = flip(addr, 0x80);
    let f;
    try {
      f = await seen;
    } catch (e) {
      restore();
      throw e;
    }
    assert.equal(f.offset, fileOffsetOf(lib.path, addr), 'the running monitor locates the byte too');
    assert.equal(g.status().findings.some((x) => x.id === f.id), true, 'the finding is open in status()');
    const back = waitFor(g, 'finding', (x) => x.kind === 'code-restored' && x.path === lib.path, scaled(5000), 'code-restored from the running guard');
    restore();
    const r = await back;
    assert.equal(r.offset, f.offset);
    assert.equal(r.transient, true, 'code-restored is a one-shot event');
    assert.equal(g.status().findings.some((x) => x.kind === 'code-modified' && x.path === lib.path), false, 'closed in status()');
  } finally {
    g.stop();
  }
});

test('a page changed before the monitor started is reported as differs-from-disk, at the byte', async () => {
  const lib = loadTestLib();
  const addr = lib.blob + 4096n * 20n + 1000n;
  const restore = flip(addr, 0x10);
  const m = new CodeMonitor({ compareDisk: true });
  try {
    const base = await m.baseline();
    const found = codeFindings(base.open, lib.path);
    assert.equal(found.length, 1, `expected one finding at baseline, got ${JSON.stringify(found)}`);
    assert.equal(found[0].kind, 'differs-from-disk');
    assert.equal(found[0].offset, fileOffsetOf(lib.path, addr));
    restore();
    const r = await m.check();
    assert.deepEqual(codeFindings(r.open, lib.path), [], 'memory matches the file again: closed');
    assert.equal(r.events.some((e) => e.kind === 'code-restored' && e.offset === found[0].offset), true, 'code-restored emitted');
  } finally {
    m.close();
  }
});

test('without disk comparison a pre-start change is not invented as a finding (the baseline is memory)', async () => {
  const lib = loadTestLib();
  const restore = flip(lib.blob + 77n, 0x01);
  const m = new CodeMonitor({ compareDisk: false });
  try {
    const base = await m.baseline();
    assert.deepEqual(codeFindings(base.open, lib.path), []);
  } finally {
    restore();
    m.close();
  }
  void hooks;
});

test('a change to the mapped file itself (the page cache behind unwritten code pages) is reported at its page', async () => {
  const lib = loadTestLib();
  const m = new CodeMonitor({ compareDisk: true });
  const fs = await import('node:fs');
  try {
    await m.baseline();
    const addr = lib.blob + 4096n * 40n + 321n;
    const off = fileOffsetOf(lib.path, addr);
    const fd = fs.openSync(lib.path, 'r+'); // a shared library is not ETXTBSY: its bytes can be rewritten
    const orig = Buffer.alloc(1);
    fs.readSync(fd, orig, 0, 1, off);
    fs.writeSync(fd, Buffer.from([orig[0] ^ 0x02]), 0, 1, off);
    let r;
    try {
      r = await m.check();
    } finally {
      fs.writeSync(fd, orig, 0, 1, off);
      fs.closeSync(fd);
    }
    const hits = codeFindings(r.open, lib.path);
    assert.equal(hits.length, 1, `the page-cache change should be one finding, got ${JSON.stringify(hits)}`);
    assert.equal(hits[0].kind, 'code-modified');
    assert.equal(hits[0].page, Math.floor(off / 4096), 'the right page (the byte itself is unknown: memory and file agree)');
    const r2 = await m.check();
    assert.deepEqual(codeFindings(r2.open, lib.path), [], 'closed once the file is restored');
  } finally {
    m.close();
  }
});
