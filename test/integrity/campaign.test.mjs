// Issue 3, test 2: a seeded campaign of 100 random (page, bit) flips across the test library and
// the addon's own code: every flip found, at the right page and byte.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CodeMonitor } from '../../dist/internals.js';
import { test, loadTestLib, flip, execMappingOf, fileOffsetOf, hooks, prng } from './helpers.mjs';
import { buildDir } from '../build-dir.mjs';

test('100 seeded random bit flips across the test library and the addon code are each found at the right page and offset', async () => {
  const lib = loadTestLib();
  // The addon's code, mapped a second time from a copy: the running addon executes its own pages
  // during a check, so flipping those could crash the test rather than test the checker. The copy
  // holds the identical production bytes and is never executed.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-addon-'));
  const addonCopy = path.join(dir, 'procguard-copy.node');
  fs.copyFileSync(path.join(buildDir, 'procguard.node'), addonCopy);
  hooks.dlopen(addonCopy);
  const addonText = execMappingOf(addonCopy);
  assert.ok(addonText.length > 0, 'the addon copy has an executable mapping');
  const targets = [
    { name: 'testlib', file: lib.path, ranges: [{ start: lib.blob, end: lib.blob + BigInt(lib.size) }] },
    { name: 'addon', file: fs.realpathSync(addonCopy), ranges: addonText },
  ];
  const rand = prng(0x5eed);
  const m = new CodeMonitor({ compareDisk: true });
  try {
    await m.baseline();
    const misses = [];
    for (let i = 0; i < 100; i++) {
      const t = targets[i % 2];
      const range = t.ranges[Math.floor(rand() * t.ranges.length)];
      const len = Number(range.end - range.start);
      const addr = range.start + BigInt(Math.floor(rand() * len));
      const bit = 1 << Math.floor(rand() * 8);
      const restore = flip(addr, bit);
      let r;
      try {
        r = await m.check();
      } finally {
        restore();
      }
      const want = fileOffsetOf(t.file, addr);
      const hits = r.open.filter((o) => o.kind === 'code-modified' && o.path === t.file);
      if (hits.length !== 1 || hits[0].offset !== want || hits[0].page !== Math.floor(want / 4096)) {
        misses.push({ i, target: t.name, want, got: hits.map((h) => [h.offset, h.page]) });
      }
      const after = await m.check();
      if (after.open.some((o) => o.kind === 'code-modified' && o.path === t.file)) misses.push({ i, target: t.name, notRestored: true });
    }
    assert.deepEqual(misses, [], `flips not found exactly: ${JSON.stringify(misses.slice(0, 5))}`);
  } finally {
    m.close();
  }
});
