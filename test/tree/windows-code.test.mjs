// The Windows tree's code findings as pure logic (src/tree/windows.ts): a treeCodeScan result that
// compared the main module and some DLLs (native/tree/tree_win.cc) becomes code-modified observations
// naming the module a hit lies in; an open observation is decided only by a pass that compared its
// module (equal again: restored), is dropped once its DLL is unloaded, and otherwise stays open for
// the pass whose budget reaches that DLL. Plain Node: the results are shaped as the addon returns them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { windowsCodeObservations, windowsCodeDecided } = require(path.join(root, 'dist', 'tree', 'windows.js'));

const EXE = 'C:\\app\\app.exe';
const CRYPT = 'C:\\windows\\system32\\CRYPT32.dll';
const WS2 = 'C:\\windows\\system32\\WS2_32.dll';
const mod = (p, base, ok = true) => ({ path: p, base, relocationDelta: 0n, ok, pages: 16, filePages: 0 });

/** A pass over the main module and CRYPT32 (WS2_32 loaded, left for the next pass), with one hit in CRYPT32. */
function pass(hits) {
  return {
    pid: 40,
    ok: true,
    pages: 32,
    filePages: 0,
    pagemapBytes: 0,
    readBytes: 0,
    pagemapScan: false,
    writtenPages: 0,
    module: EXE,
    imageBase: 0x140000000n,
    relocationDelta: 0n,
    modules: [mod(EXE, 0x140000000n), mod(CRYPT, 0xe30000n)],
    loadedBases: [0xe30000n, 0x370f70000n],
    nextModuleCursor: 0x370f70000n,
    hits,
  };
}
const hit = { region: 1, address: 0xe33000n, fileOffset: 0x3000, state: 'modified', firstDiff: 0x10, diffBytes: 1, fileByte: 0xcc, memByte: 0xcd };

test('a hit in a DLL is code-modified naming that DLL, its RVA and bytes', () => {
  const [o] = windowsCodeObservations(pass([hit]), '40:1', 'renderer');
  assert.equal(o.kind, 'code-modified');
  assert.equal(o.path, CRYPT, 'the module is the DLL the hit indexes, not the main module');
  assert.equal(o.offset, 0x3010, 'RVA of the byte');
  assert.equal(o.address, '0xe33010');
  assert.deepEqual([o.before, o.after], [0xcc, 0xcd]);
  assert.equal(o.evidence.imageBase, '0xe30000', "the DLL's load address");
  assert.match(o.detail, /^renderer pid 40: C:\\windows\\system32\\CRYPT32\.dll page 3 \(RVA 0x3000\) differs from the file: 1 byte\(s\), first at RVA 0x3010 \(file 0xcc, memory 0xcd\)$/);
  assert.ok(o.key.includes(':c:\\windows\\system32\\crypt32.dll:'), `the key names the module: ${o.key}`);
});

test('an open observation is decided by a pass that compared its module, kept for a later one, dropped when its DLL is gone', () => {
  const [inCrypt] = windowsCodeObservations(pass([hit]), '40:1', 'renderer');
  assert.equal(windowsCodeDecided(pass([]), inCrypt), 'compared', 'CRYPT32 compared again: a missing hit is a restore');
  const inWs2 = { ...inCrypt, path: WS2, evidence: { ...inCrypt.evidence, imageBase: '0x370f70000' } };
  assert.equal(windowsCodeDecided(pass([]), inWs2), 'later', 'WS2_32 still loaded, not compared this pass: stays open');
  const unloaded = { ...inWs2, evidence: { ...inWs2.evidence, imageBase: '0x380000000' } };
  assert.equal(windowsCodeDecided(pass([]), unloaded), 'unloaded', 'a DLL no longer loaded at its base');
  const failed = pass([]);
  failed.modules[1].ok = false;
  assert.equal(windowsCodeDecided(failed, inCrypt), 'later', 'a module that could not be compared decides nothing');
  const [inMain] = windowsCodeObservations(pass([{ ...hit, region: 0, address: 0x140003000n }]), '40:1', 'renderer');
  assert.equal(inMain.path, EXE);
  assert.equal(windowsCodeDecided(pass([]), inMain), 'compared', 'the main module is compared every pass');
});

test('a pass whose differing pages passed the addon cap restores nothing: a page past the cap may still differ', () => {
  const [inCrypt] = windowsCodeObservations(pass([hit]), '40:1', 'renderer');
  const other = { ...hit, address: 0xe34000n, fileOffset: 0x4000 };
  const capped = { ...pass([other]), writtenPages: 65 };
  assert.equal(windowsCodeDecided(capped, inCrypt), 'later', '65 modified pages, one kept in hits: the open finding must stay open, not read as restored');
  assert.equal(windowsCodeDecided({ ...pass([other]), writtenPages: 1 }, inCrypt), 'compared', 'under the cap, a missing hit is a restore');
});
