// qemu-user's AArch64 signal trampoline page is recognised precisely: that exact page (4 KiB, r-x,
// `mov x8,#139; svc #0` and zeros) on arm64, and nothing else; a page differing in one byte, of
// another size or on another CPU stays an anonymous-exec finding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodeMonitor } from '../../dist/internals.js';
import { isQemuSigtrampPage, isQemuSigtramp } from '../../dist/integrity/qemu-sigtramp.js';
import { hooks, hex } from './helpers.mjs';

const PAGE = 4096;
function trampoline() {
  const b = Buffer.alloc(PAGE);
  Buffer.from([0x68, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4]).copy(b);
  return b;
}
const region = (size = PAGE, perms = 'r-xp') => ({ start: 0x5500843000n, end: 0x5500843000n + BigInt(size), perms });

test('the exact trampoline page is recognised; one changed byte, another size or protection is not', () => {
  assert.equal(isQemuSigtrampPage(region(), trampoline()), true);
  for (const at of [0, 3, 7, 8, 100, PAGE - 1]) {
    const b = trampoline();
    b[at] ^= 0x01;
    assert.equal(isQemuSigtrampPage(region(), b), false, `byte ${at} changed must not match`);
  }
  assert.equal(isQemuSigtrampPage(region(2 * PAGE), Buffer.concat([trampoline(), Buffer.alloc(PAGE)])), false, '8 KiB');
  assert.equal(isQemuSigtrampPage(region(PAGE, 'rwxp'), trampoline()), false, 'writable');
  assert.equal(isQemuSigtrampPage(region(), null), false, 'unreadable');
  assert.equal(isQemuSigtramp(region(), () => trampoline(), 'x64'), false, 'only on arm64');
  assert.equal(isQemuSigtramp(region(), () => trampoline(), 'arm64'), true);
});

test('a mapped copy of the trampoline is skipped only on arm64, and one extra byte makes it a finding', async () => {
  const m = new CodeMonitor();
  const anonExec = (r) => new Set(r.open.filter((o) => o.kind === 'anonymous-exec').map((o) => o.address));
  try {
    // Under qemu-user the real trampoline page is there too: nothing is reported at baseline.
    const before = anonExec(await m.baseline());
    if (process.arch === 'arm64') assert.deepEqual([...before], [], 'no anonymous-exec finding in a fresh arm64 process');
    // One page at a time: two adjacent anonymous r-x mappings would merge into one 8 KiB region.
    const exact = hooks.mapAnonExec(PAGE, trampoline());
    try {
      const anon = anonExec(await m.check());
      assert.equal(anon.has(hex(exact)), process.arch !== 'arm64', `the exact page is reported only off arm64: ${[...anon]}`);
    } finally {
      hooks.munmap(exact, PAGE);
    }
    const tampered = trampoline();
    tampered[64] = 0xd4; // anything after the two instructions
    const other = hooks.mapAnonExec(PAGE, tampered);
    try {
      const anon = anonExec(await m.check());
      assert.equal(anon.has(hex(other)), true, `the tampered page must be reported: ${[...anon]}`);
    } finally {
      hooks.munmap(other, PAGE);
    }
  } finally {
    m.close();
  }
});
