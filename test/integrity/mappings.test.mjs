// Issue 3, tests 3, 5 and 7: the in-process hook that splits a mapping, an unmap-and-remap of a
// library's code at the same address, and an anonymous executable mapping created after start.
import assert from 'node:assert/strict';
import { CodeMonitor } from '../../dist/internals.js';
import { test, loadTestLib, execMappingOf, fileOffsetOf, hooks, hex, TRAP_FILL, RET_FILL } from './helpers.mjs';

test('the mprotect-write-mprotect hook (which splits the mapping) is reported at the byte', async () => {
  const lib = loadTestLib();
  const m = new CodeMonitor();
  try {
    await m.baseline();
    const before = execMappingOf(lib.path).length;
    const addr = lib.blob + 4096n * 30n + 5n;
    hooks.mprotectWrite(addr, 0x40);
    const split = execMappingOf(lib.path).length;
    assert.ok(split > before, `the hook must split the code mapping (before ${before} exec mappings, after ${split})`);
    const r = await m.check();
    const hits = r.open.filter((o) => o.kind === 'code-modified' && o.path === lib.path);
    assert.equal(hits.length, 1, `one code-modified expected after the hook, got ${JSON.stringify(hits)}`);
    assert.equal(hits[0].offset, fileOffsetOf(lib.path, addr));
    hooks.mprotectWrite(addr, 0x40); // unhook: the same split mapping, original bytes
    const r2 = await m.check();
    assert.equal(r2.open.some((o) => o.kind === 'code-modified' && o.path === lib.path), false, 'restored after unhooking');
    assert.equal(r2.events.some((e) => e.kind === 'code-restored' && e.offset === hits[0].offset), true);
  } finally {
    m.close();
  }
});

test('unmapping a library\'s code and mapping other bytes at the same address is reported, never re-baselined', async () => {
  const lib = loadTestLib();
  const m = new CodeMonitor();
  try {
    await m.baseline();
    const text = execMappingOf(lib.path);
    assert.equal(text.length, 1, 'the test library has one code mapping');
    const { start, end } = text[0];
    const size = Number(end - start);
    const at = hooks.mapAnonExec(size, RET_FILL, start); // MAP_FIXED over the library's code; its destructors still run at exit
    assert.equal(at, start, 'the new mapping sits at the same address');
    const r = await m.check();
    assert.equal(r.events.some((e) => e.kind === 'mapping-removed' && e.path === lib.path), true, `mapping-removed for ${lib.path} expected, events: ${JSON.stringify(r.events.map((e) => e.kind))}`);
    const anon = r.open.filter((o) => o.kind === 'anonymous-exec' && o.address === hex(start));
    assert.equal(anon.length, 1, `anonymous-exec at ${hex(start)} expected, open: ${JSON.stringify(r.open.map((o) => [o.kind, o.address]))}`);
    const r2 = await m.check();
    assert.equal(r2.open.some((o) => o.kind === 'anonymous-exec' && o.address === hex(start)), true, 'still reported on the next check: not adopted as a new baseline');
  } finally {
    m.close();
  }
});

test('an anonymous executable mapping created after start is reported, and closes when unmapped', async () => {
  const m = new CodeMonitor();
  try {
    const base = await m.baseline();
    const before = new Set(base.open.filter((o) => o.kind === 'anonymous-exec').map((o) => o.address));
    const addr = hooks.mapAnonExec(8192, TRAP_FILL);
    const r = await m.check();
    const found = r.open.filter((o) => o.kind === 'anonymous-exec' && o.address === hex(addr));
    assert.equal(found.length, 1, `anonymous-exec at ${hex(addr)} expected; open: ${JSON.stringify(r.open.map((o) => [o.kind, o.address]))}`);
    assert.equal(before.has(hex(addr)), false);
    assert.match(found[0].detail, /8 KiB/);
    hooks.munmap(addr, 8192);
    const r2 = await m.check();
    assert.equal(r2.open.some((o) => o.address === hex(addr)), false, 'closed once unmapped');
  } finally {
    m.close();
  }
});

test('JIT code of a new Worker (anonymous exec inside a V8 code-range reservation) is not reported', async () => {
  const { Worker } = await import('node:worker_threads');
  const m = new CodeMonitor();
  try {
    const base = await m.baseline();
    const earlier = new Set(base.open.filter((o) => o.kind === 'anonymous-exec').map((o) => o.address));
    const w = new Worker('const f = new Function("x", "return x * 2"); for (let i = 0; i < 1e5; i++) f(i); require("worker_threads").parentPort.postMessage(1)', { eval: true });
    await new Promise((res) => w.once('message', res));
    const r = await m.check();
    await w.terminate();
    const fresh = r.open.filter((o) => o.kind === 'anonymous-exec' && !earlier.has(o.address));
    assert.deepEqual(fresh, [], 'V8 JIT regions of the new isolate must not be reported as anonymous-exec');
  } finally {
    m.close();
  }
});
