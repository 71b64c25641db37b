// Out-of-range numbers and huge (sparse) arrays given to the native binding's public paths: each
// must be a RangeError or TypeError, never an abort. A C++ exception that is not a Napi::Error
// (std::bad_alloc from `pages * 4096` wrapping, a vector sized by a sparse array's length) used to
// unwind into Node and terminate the process, so every case runs in its own child process and the
// test checks the child's exit code as well as the error it printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { root } from '../tree/helpers.mjs';

const linux = process.platform === 'linux' ? false : 'Linux only (treeCodeScan, Watcher)';

/** Runs `body` (a function body with `n` = the binding, `d` = dist/index.js, `sparse` = a holey array of length 2^32 - 1). */
function run(body) {
  const script = `
    const n = require(${JSON.stringify(path.join(root, 'dist', 'native.js'))}).loadNative();
    const d = require(${JSON.stringify(path.join(root, 'dist', 'internals.js'))});
    const sparse = []; sparse.length = 2 ** 32 - 1;
    (async () => {
      try {
        await (async () => { ${body} })();
        console.log(JSON.stringify({ threw: null }));
      } catch (e) {
        console.log(JSON.stringify({ threw: e && e.constructor && e.constructor.name, message: String(e && e.message) }));
      }
      process.exit(0);
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let out = null;
  try {
    out = JSON.parse(line);
  } catch {
    // no result line: the child died
  }
  return { status: r.status, signal: r.signal, stderr: r.stderr.slice(-1500), out };
}

const cases = [
  ['CodeMonitor.pageCacheDigests(key, 0, 2**52)', 'const m = new d.CodeMonitor(); try { m.pageCacheDigests("1:2", 0, 2 ** 52); } finally { m.close(); }', 'RangeError'],
  ['Scanner.pageCacheDigests(key, 0, 2**52)', 'const s = new n.Scanner(); try { s.pageCacheDigests("1:2", 0, 2 ** 52); } finally { s.close(); }', 'RangeError'],
  ['Scanner.pageCacheDigests(key, 0, 2**53 - 1)', 'const s = new n.Scanner(); try { s.pageCacheDigests("1:2", 0, 2 ** 53 - 1); } finally { s.close(); }', 'RangeError'],
  ['Scanner.sweep(sparse array of length 2^32 - 1)', 'const s = new n.Scanner(); try { await s.sweep(sparse, { mode: "fast", residentOnly: false }); } finally { s.close(); }', 'RangeError'],
  ['Scanner.pass(sparse array of length 2^32 - 1)', 'const s = new n.Scanner(); try { await s.pass(sparse, { mode: "fast", residentOnly: false }); } finally { s.close(); }', 'RangeError'],
  ['Scanner.startSentinel(sparse array of length 2^32 - 1)', 'const s = new n.Scanner(); try { s.startSentinel(sparse, "fast", 100, 0.01, () => {}); } finally { s.close(); }', 'RangeError'],
  ['Scanner.hashFile(fd 2^32 + 1)', 'const s = new n.Scanner(); try { await s.hashFile(2 ** 32 + 1, 0, 4096, "fast"); } finally { s.close(); }', 'RangeError'],
  ['Scanner.hashFile(offset 1.5)', 'const s = new n.Scanner(); try { await s.hashFile(0, 1.5, 4096, "fast"); } finally { s.close(); }', 'RangeError'],
];
const linuxCases = [
  ['treeCodeScan(sparse array of length 2^32 - 1)', 'await n.treeCodeScan(sparse);', 'RangeError'],
  ['treeCodeScan(a job whose regions are a sparse array of length 2^32 - 1)', 'await n.treeCodeScan([{ pid: 1, regions: sparse }]);', 'RangeError'],
  [
    'treeCodeScan(a region of 2^46 bytes)',
    'await n.treeCodeScan([{ pid: 1, regions: [{ start: 4096n, end: 4096n + 2n ** 46n, fileOffset: 0, path: "/x", devMajor: 0, devMinor: 0, ino: 1n }] }]);',
    'RangeError',
  ],
  ['Watcher.removeWatch(2^32 + 1)', 'const w = new n.Watcher(1000, () => {}); try { w.removeWatch(2 ** 32 + 1); } finally { w.close(); }', 'RangeError'],
];

for (const [name, body, want] of [...cases, ...(linux ? [] : linuxCases)]) {
  test(`bad input, in a child process: ${name} -> ${want}, exit code 0`, () => {
    const r = run(body);
    assert.equal(r.signal, null, `${name}: the child was killed by ${r.signal} (stderr: ${r.stderr})`);
    assert.equal(r.status, 0, `${name}: the child exited with ${r.status}, not 0 (an exception reached Node unconverted?) stderr: ${r.stderr}`);
    assert.ok(r.out, `${name}: the child printed no result (stderr: ${r.stderr})`);
    assert.equal(r.out.threw, want, `${name}: expected a ${want}, got ${r.out.threw ?? 'no error'}${r.out.message ? `: ${r.out.message}` : ''}`);
  });
}
