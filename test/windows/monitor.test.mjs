// The code monitor on the Windows build: the VirtualQuery region walk, safe reads, hashFile through
// a Node fd (uv_get_osfhandle), the Guard's coverage and sentinel status, and a byte written into
// node.exe's code by ANOTHER process (WriteProcessMemory, test/windows/attacker.c) reported as
// code-modified at the right page, then code-restored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attacker, root, skipOffWindows, wine } from './helpers.mjs';

const skip = skipOffWindows;
const PAGE = 4096;
const load = async () => {
  const { loadNative } = await import('../../dist/native.js');
  return loadNative();
};
const lower = (p) => (p ?? '').toLowerCase();

test('the VirtualQuery walk finds node.exe and the addon as executable images', { skip }, async () => {
  const native = await load();
  const regions = native.executableRegions();
  assert.ok(Array.isArray(regions) && regions.length > 5, `regions: ${regions?.length}`);
  const exe = regions.filter((r) => r.type === 'image' && lower(r.path) === lower(process.execPath));
  assert.ok(exe.length >= 1, `node.exe (${process.execPath}) is not among ${regions.map((r) => r.path).join(', ')}`);
  assert.ok(exe.every((r) => r.protect.includes('x') && r.start >= r.allocationBase && r.end <= r.allocationEnd), JSON.stringify(exe, (k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
  assert.ok(regions.some((r) => r.type === 'image' && lower(r.path).endsWith(`${path.sep}procguard.node`)), 'the addon image is listed');
  const { discoverNativeRegions } = await import('../../dist/integrity/regions-native.js');
  const code = discoverNativeRegions(native, { mainExecutable: process.execPath });
  const main = code.find((r) => r.klass === 'main-executable');
  assert.ok(main, 'node.exe is classified as the main executable');
  assert.equal(main.offsetKind, 'rva', 'a Windows image offset is an RVA');
  assert.match(main.fileKey, /^\d+:\d+$/, `node.exe is keyed by its file identity: ${main.fileKey}`);
});

test('safe reads: node.exe code reads back, an unmapped address reads nothing', { skip }, async () => {
  const native = await load();
  const exe = native.executableRegions().find((r) => r.type === 'image' && lower(r.path) === lower(process.execPath));
  const bytes = native.readMemory(exe.start, 2 * PAGE);
  assert.equal(bytes?.length, 2 * PAGE, 'two pages of node.exe code');
  const again = native.readMemory(exe.start, 2 * PAGE);
  assert.ok(bytes.equals(again), 'the same bytes twice');
  assert.equal(native.readMemory(0x10n, 16), null, 'address 0x10 is never mapped');
});

test('hashFile through a Node fd matches hashPages of the same bytes', { skip }, async () => {
  const native = await load();
  const file = path.join(root, 'test', 'fixtures', 'blake3-test-vectors.json');
  const data = fs.readFileSync(file);
  const len = Math.floor(data.length / PAGE) * PAGE;
  assert.ok(len >= PAGE, 'the fixture holds at least a page');
  const fd = fs.openSync(file, 'r');
  const scanner = new native.Scanner();
  try {
    const got = await scanner.hashFile(fd, 0, len, 'blake3');
    assert.ok(got.equals(native.hashPages(data.subarray(0, len), 'blake3')), 'per-page digests of the file');
  } finally {
    scanner.close();
    fs.closeSync(fd);
  }
});

/** A byte inside int3 padding (0xCC runs between functions) of node.exe's code: never executed. */
function paddingByte(native, region) {
  const start = region.start + 64n * BigInt(PAGE); // past the first pages
  const len = Math.min(Number(region.end - start), 256 * PAGE);
  const bytes = native.readMemory(start, len);
  for (let i = 0; i + 32 < bytes.length; i++) {
    if (bytes[i] !== 0xcc) continue;
    let n = 0;
    while (i + n < bytes.length && bytes[i + n] === 0xcc) n++;
    if (n >= 16) return start + BigInt(i + 8);
    i += n;
  }
  throw new Error('no int3 padding found in node.exe code');
}

test('a byte written into node.exe code by another process is code-modified at its page, then code-restored', { skip }, async () => {
  const { Guard } = await import('../../dist/index.js');
  const native = await load();
  const guard = new Guard({ kernel: false, launch: false, sentinelMs: 0 });
  try {
    const first = await guard.start();
    assert.ok(first.coverage.regions >= 5, `coverage: ${JSON.stringify(first.coverage)}`);
    assert.equal(first.findings.filter((f) => f.kind === 'code-modified').length, 0, 'no modification at baseline');
    const exe = native.executableRegions().find((r) => r.type === 'image' && lower(r.path) === lower(process.execPath));
    const addr = paddingByte(native, exe);
    const rvaPage = Number((addr - exe.allocationBase) / BigInt(PAGE));
    const pageAddr = `0x${(exe.allocationBase + BigInt(rvaPage * PAGE)).toString(16)}`;
    const w = attacker('write', process.pid, addr.toString(16), 'cd');
    assert.deepEqual(w, { open: true, written: true }, 'the attacker (another process) wrote the byte');
    let restoredByAttacker = false;
    try {
      assert.equal(native.readMemory(addr, 1)[0], 0xcd, 'the write is visible in this process');
      const s = await guard.check();
      const f = s.findings.find((x) => x.kind === 'code-modified' && lower(x.path) === lower(process.execPath));
      assert.ok(f, `code-modified in node.exe expected: ${JSON.stringify(s.findings.map((x) => [x.kind, x.path, x.page]))}`);
      assert.equal(f.page, rvaPage, `the finding's page is the written page (RVA 0x${(rvaPage * PAGE).toString(16)})`);
      assert.equal(f.address, pageAddr, 'address of the written page (the byte is unknown without a disk comparison)');
      assert.match(f.detail, new RegExp(`page ${rvaPage} \\(RVA 0x${(rvaPage * PAGE).toString(16)}\\)`), `the text says RVA: ${f.detail}`);
      assert.equal(f.evidence?.offsetKind, 'rva');
      assert.deepEqual(attacker('write', process.pid, addr.toString(16), 'cc'), { open: true, written: true });
      restoredByAttacker = true;
      const s2 = await guard.check();
      assert.ok(!s2.findings.some((x) => x.kind === 'code-modified' && lower(x.path) === lower(process.execPath)), 'the finding closes once the byte is back');
    } finally {
      if (!restoredByAttacker) attacker('write', process.pid, addr.toString(16), 'cc');
    }
  } finally {
    guard.stop();
  }
});

test("the Guard's status says which tamper sentinel runs", { skip }, async () => {
  const { Guard } = await import('../../dist/index.js');
  const guard = new Guard({ kernel: false, launch: false });
  try {
    const s = await guard.start();
    if (wine) {
      // Wine copies image sections into private memory: QueryWorkingSetEx's Shared bit is never set.
      assert.equal(s.sentinel.kind, 'none', JSON.stringify(s.sentinel));
      assert.equal(s.sentinel.verified, false);
      assert.match(s.sentinel.reason, /^wine \d/, 'the reason names Wine');
    } else {
      assert.deepEqual({ kind: s.sentinel.kind, verified: s.sentinel.verified }, { kind: 'working-set', verified: false });
    }
  } finally {
    guard.stop();
  }
  const off = new Guard({ kernel: false, launch: false, sentinelMs: 0 });
  try {
    const s = await off.start();
    assert.deepEqual(s.sentinel, { kind: 'none', verified: false, reason: 'turned off (sentinelMs: 0)' });
  } finally {
    off.stop();
  }
});
