// Resident-only mode: a sweep hashes only pages mincore() reports resident, and never faults the
// others in (no RSS growth); non-resident file pages are covered by the on-disk comparison.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { CodeMonitor } from '../../dist/index.js';
import { copyTestLib, execMappingOf, hooks, root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const native = require(`${root}/build/Release/procguard.node`);
const isRoot = process.getuid?.() === 0;

function residentPages(m) {
  const v = native.residency(m.start, Number(m.end - m.start));
  return v.reduce((n, b) => n + b, 0);
}

test('resident-only sweeps skip non-resident code and leave it non-resident', { skip: isRoot ? false : 'needs root to drop the page cache (echo 1 > /proc/sys/vm/drop_caches)' }, async () => {
  // Not under /tmp, which may be tmpfs (its pages cannot be dropped): beside the build, on disk.
  const file = copyTestLib('cold', `${root}/build`);
  fs.writeFileSync('/proc/sys/vm/drop_caches', '1'); // the copy's pages leave the page cache
  hooks.dlopen(file);
  const [text] = execMappingOf(file);
  const pages = Number(text.end - text.start) / 4096;
  const before = residentPages(text);
  assert.ok(before < pages / 2, `most of the new library's code should be cold after dropping caches (${before}/${pages} resident)`);
  const m = new CodeMonitor({ residentOnly: true, compareDisk: false });
  try {
    const r = await m.check();
    const after = residentPages(text);
    assert.ok(after <= before + 1, `a resident-only sweep must not fault code in (resident ${before} -> ${after} of ${pages})`);
    assert.ok(r.coverage.hashedBytes < r.coverage.bytes, 'some bytes were skipped as non-resident');
    assert.ok(r.coverage.residentBytes <= r.coverage.bytes);
    const full = new CodeMonitor({ residentOnly: false, compareDisk: false });
    try {
      await full.check();
      assert.equal(residentPages(text), pages, 'a full sweep faults every page in (the cost resident-only avoids)');
    } finally {
      full.close();
    }
  } finally {
    m.close();
  }
});
