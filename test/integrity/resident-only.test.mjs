// Resident-only mode: a sweep hashes only pages mincore() reports resident, and never faults the
// others in (no RSS growth); non-resident file pages are covered by the on-disk comparison.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { CodeMonitor } from '../../dist/internals.js';
import { test, execMappingOf, hooks, root } from './helpers.mjs';
import { buildDir } from '../build-dir.mjs';

const require = createRequire(import.meta.url);
const native = require(`${buildDir}/procguard.node`);
const isRoot = process.getuid?.() === 0;

function residentPages(m) {
  const v = native.residency(m.start, Number(m.end - m.start));
  return v.reduce((n, b) => n + b, 0);
}

test('resident-only sweeps skip non-resident code and leave it non-resident', { skip: isRoot ? false : 'needs root to drop the page cache (echo 1 > /proc/sys/vm/drop_caches)' }, async () => {
  // 8 MiB of "code" in a file on disk (not tmpfs, whose pages cannot be dropped), mapped r-x
  // without touching it: unlike dlopen, nothing reads it ahead.
  const dir = fs.mkdtempSync(`${root}/build/pg-cold-`);
  const file = `${dir}/cold.bin`;
  fs.writeFileSync(file, crypto.randomBytes(8 << 20));
  const fd = fs.openSync(file, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.writeFileSync('/proc/sys/vm/drop_caches', '1'); // clean pages leave the page cache
  const addr = hooks.mapFileExec(file, 8 << 20, false);
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
    hooks.munmap(addr, 8 << 20);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
