// One owner for the code-file path: a CodeMonitor given a fast loop (watchFiles) sees a write(2)
// to a mapped code file and re-checks it itself, with no Guard in between; its result comes
// through the one callback, located to the byte, and the restore closes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { CodeMonitor } from '../../dist/internals.js';
import { FastLoop } from '../../dist/fastloop/fast-loop.js';
import { loadTestLib, fileOffsetOf } from '../integrity/helpers.mjs';

const linux = process.platform === 'linux' ? false : 'Linux only (inotify)';

/** The next result for which `pred` holds, from the monitor's callback (rejects after `ms`). */
function nextResult(sink, pred, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    sink.waiters.push((r) => {
      if (!pred(r)) return false;
      clearTimeout(timer);
      resolve(r);
      return true;
    });
  });
}

test('the code monitor owns its file watch: a write is re-checked and reported without a Guard', { skip: linux, timeout: 60000 }, async () => {
  const lib = loadTestLib();
  fs.chmodSync(lib.path, 0o666); // writable: a pristine copy is kept, so the write is located to the byte
  const errors = [];
  const sink = { waiters: [] };
  const mon = new CodeMonitor();
  const loop = new FastLoop(60_000, (m) => errors.push(m));
  try {
    assert.equal(loop.reason, '', `the fast loop runs: ${loop.reason}`);
    await mon.check(); // the baseline
    mon.watchFiles(loop, '', 32 << 20, {
      onResult: (r) => {
        sink.waiters = sink.waiters.filter((w) => !w(r));
      },
      onError: (e) => errors.push(e),
    });
    const st = mon.filesStatus();
    assert.ok(st.watchedPaths.includes(lib.path), `watchFiles after the baseline arms the mapped files at once: ${JSON.stringify(st)}`);
    assert.ok(st.pristineBytes > 0, 'a pristine copy of the writable library is kept');

    const addr = lib.blob + 4096n * 41n + 77n;
    const off = fileOffsetOf(lib.path, addr);
    const fd = fs.openSync(lib.path, 'r+');
    const orig = Buffer.alloc(1);
    fs.readSync(fd, orig, 0, 1, off);
    const modified = nextResult(sink, (r) => r.open.some((o) => o.kind === 'code-modified' && o.path === lib.path), 10_000, 'code-modified result');
    fs.writeSync(fd, Buffer.from([orig[0] ^ 0x20]), 0, 1, off);
    let r;
    try {
      r = await modified;
    } catch (e) {
      fs.writeSync(fd, orig, 0, 1, off);
      throw e;
    }
    const o = r.open.find((x) => x.kind === 'code-modified' && x.path === lib.path);
    assert.equal(o.offset, off, `located to the written byte by the pristine copy: ${JSON.stringify(o)}`);
    assert.ok(r.open.some((x) => x.kind === 'code-file-writable' && x.path === lib.path), 'the writable-file observation rides along');
    const restored = nextResult(sink, (x) => x.events.some((e) => e.kind === 'code-restored' && e.path === lib.path), 10_000, 'code-restored result');
    fs.writeSync(fd, orig, 0, 1, off);
    fs.closeSync(fd);
    const back = await restored;
    assert.equal(back.open.some((x) => x.kind === 'code-modified' && x.path === lib.path), false, 'closed after the restore');
    assert.deepEqual(errors, [], 'no checker error');
  } finally {
    mon.close();
    loop.close();
  }
  assert.equal(mon.filesStatus().pristineBytes, 0, 'close() releases the pristine copies');
});
