// The Windows/macOS/FreeBSD region conversion (src/integrity/regions-native.ts), on synthetic
// region walks shaped like native/memory/memory_win.cc and memory_posix.cc output. The native walks
// themselves cannot run here; this is the part that can.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { classifyNativeRegions, discoverNativeRegions, statIdentity } from '../../dist/integrity/regions-native.js';
import { loadNative } from '../../dist/native.js';

const KiB = 1024n;
const MiB = 1024n * KiB;
const NODE_EXE = 'C:\\Program Files\\nodejs\\node.exe';

/** One region as memory_win.cc reports it (no file identity, offsets unknown). */
function win(start, size, protect, type, path, allocationBase, allocationSize) {
  return { start, end: start + size, protect, type, path, allocationBase, allocationEnd: allocationBase + allocationSize, fileOffset: null };
}

/** A module image: .text at RVA 0x1000 of `size` bytes, in an allocation of `total` bytes. */
function image(base, path, size = 64n * KiB, total = 256n * KiB, protect = 'r-x') {
  return win(base + 0x1000n, size, protect, 'image', path, base, total);
}

/** A counting identify() with a fixed table. */
function identities(table) {
  const calls = [];
  return { calls, identify: (p) => { calls.push(p); return table[p] ?? null; } };
}

const winOpts = (extra = {}) => ({ platform: 'win32', mainExecutable: NODE_EXE, ...extra });

function pageKeys(regions) {
  const keys = [];
  for (const r of regions) {
    for (let p = 0; p < Number((r.end - r.start) / 4096n); p++) keys.push(`${r.fileKey}@${r.fileOffset / 4096 + p}`);
  }
  return keys.sort();
}

test('Windows images: class by path (case-insensitive main executable), key from file identity, offset as RVA', () => {
  const { identify, calls } = identities({
    'c:\\program files\\nodejs\\NODE.EXE': '1234:1',
    'C:\\Windows\\System32\\KERNEL32.DLL': '1234:77',
    'C:\\app\\build\\Release\\procguard.node': '1234:99',
  });
  const regions = classifyNativeRegions([
    image(0x7ff600000000n, 'c:\\program files\\nodejs\\NODE.EXE'),
    image(0x7ffa10000000n, 'C:\\Windows\\System32\\KERNEL32.DLL'),
    image(0x7ffa20000000n, 'C:\\app\\build\\Release\\procguard.node'),
  ], winOpts({ identify }));
  assert.deepEqual(regions.map((r) => r.klass), ['main-executable', 'shared-library', 'native-addon'], 'classes by module path');
  assert.deepEqual(regions.map((r) => r.fileKey), ['1234:1', '1234:77', '1234:99'], 'file code is keyed by the identity of its file');
  for (const r of regions) {
    assert.equal(r.fileOffset, 0x1000, `${r.path}: the offset of .text is its RVA, start - allocationBase`);
    assert.equal(r.offsetKind, 'rva', `${r.path}: a Windows image offset must be marked as an RVA`);
    assert.equal(r.writable, false, `${r.path}: r-x is not writable`);
  }
  assert.equal(calls.length, 3, 'one identity lookup per module');
});

test('Windows: a hook that splits a code region (VirtualProtect RW, write, RX) keeps every page key', () => {
  const base = 0x7ffa10000000n;
  const dll = 'C:\\Windows\\System32\\kernel32.dll';
  const whole = classifyNativeRegions([image(base, dll)], winOpts({ identify: () => '5:6' }));
  const split = classifyNativeRegions([
    win(base + 0x1000n, 0x3000n, 'r-x', 'image', dll, base, 256n * KiB),
    win(base + 0x4000n, 0x1000n, 'rwx', 'image', dll, base, 256n * KiB), // PAGE_EXECUTE_WRITECOPY after the write
    win(base + 0x5000n, 0xc000n, 'r-x', 'image', dll, base, 256n * KiB),
  ], winOpts({ identify: () => '5:6', includeWritable: true }));
  assert.equal(split.length, 3, 'the split shows as three regions');
  assert.deepEqual(pageKeys(split), pageKeys(whole), 'the same (file, page) keys before and after the split: no silent re-baseline');
  assert.equal(split[1].writable, true, 'the written piece is writable');
});

test('Windows: identity is taken once per (load address, path) and kept while the module stays mapped', () => {
  const cache = new Map();
  const dll = 'C:\\app\\plugin.dll';
  let onDisk = '9:100';
  const lookups = [];
  const identify = (p) => { lookups.push(p); return onDisk; };
  const first = classifyNativeRegions([image(0x180000000n, dll)], winOpts({ identify, identityCache: cache }));
  onDisk = '9:200'; // renamed away and replaced on disk while still loaded
  const again = classifyNativeRegions([image(0x180000000n, dll)], winOpts({ identify, identityCache: cache }));
  assert.equal(again[0].fileKey, first[0].fileKey, 'a file replaced on disk must not re-key code that is still mapped');
  const reloaded = classifyNativeRegions([image(0x190000000n, dll)], winOpts({ identify, identityCache: cache }));
  assert.equal(reloaded[0].fileKey, '9:200', 'a module loaded again (another address) takes the identity of the file now on disk');
  assert.equal(lookups.length, 2, 'identify() runs only for a new (address, path)');
});

test('Windows: a module whose file cannot be stat-ed is keyed by its path (lower-cased)', () => {
  const [r] = classifyNativeRegions([image(0x7ffa30000000n, 'C:\\Gone\\Hook.DLL')], winOpts({ identify: () => null }));
  assert.equal(r.fileKey, 'path:c:\\gone\\hook.dll', 'the fallback key is the case-folded path');
  assert.equal(r.klass, 'shared-library');
});

test('private executable memory: jit inside a large reservation or a declared JIT span, anonymous-exec elsewhere', () => {
  const v8 = 0x2a0000000000n; // a 256 MiB code range reservation with 512 KiB committed rwx
  const regions = classifyNativeRegions([
    win(v8 + 0x40000n, 512n * KiB, 'rwx', 'private', null, v8, 256n * MiB),
    win(0x10000000n, 4n * KiB, 'r-x', 'private', null, 0x10000000n, 64n * KiB), // VirtualAlloc'd stub
    win(0x20000000n, 8n * KiB, 'rwx', 'private', null, 0x20000000n, 64n * KiB),
    win(0x30000000n, 4n * KiB, 'rwx', 'mapped', null, 0x30000000n, 64n * KiB), // unnamed section mapped exec
  ], winOpts({ jitSpans: [{ start: 0x20000000n, end: 0x20010000n }] }));
  assert.deepEqual(regions.map((r) => r.klass), ['jit', 'anonymous-exec', 'jit', 'anonymous-exec'], 'classes of private exec memory');
  for (const r of regions) {
    assert.equal(r.fileKey, null, `${r.klass} at 0x${r.start.toString(16)} must not be hashed as file code`);
    assert.equal(r.offsetKind, undefined, 'anonymous memory has no file offset kind');
  }
});

test('writable file code is dropped unless includeWritable; JIT memory stays; mainExecutableOnly keeps only the executable', () => {
  const input = [
    image(0x7ff600000000n, NODE_EXE),
    image(0x7ffa10000000n, 'C:\\x\\rwx.dll', 64n * KiB, 256n * KiB, 'rwx'),
    win(0x2a0000040000n, 64n * KiB, 'rwx', 'private', null, 0x2a0000000000n, 128n * MiB),
  ];
  const identify = (p) => `1:${p.length}`;
  assert.deepEqual(classifyNativeRegions(input, winOpts({ identify })).map((r) => r.klass), ['main-executable', 'jit'],
    'rwx file code must be left out by default');
  assert.deepEqual(classifyNativeRegions(input, winOpts({ identify, includeWritable: true })).map((r) => r.klass),
    ['main-executable', 'shared-library', 'jit'], 'includeWritable keeps rwx file code');
  assert.deepEqual(classifyNativeRegions(input, winOpts({ identify, mainExecutableOnly: true })).map((r) => r.klass),
    ['main-executable'], 'mainExecutableOnly keeps the executable only');
});

test('macOS/FreeBSD: the mapping\'s own vnode identity and file offset are used; identify() is not called', () => {
  const { identify, calls } = identities({});
  const regions = classifyNativeRegions([
    { start: 0x100000000n, end: 0x100400000n, protect: 'r-x', type: 'image', path: '/usr/local/bin/node', allocationBase: 0x100000000n,
      allocationEnd: 0x100400000n, fileOffset: 0, dev: 16777232n, ino: 1234567n },
    { start: 0x800a00000n, end: 0x800a10000n, protect: 'r-x', type: 'image', path: '/usr/lib/libc.so.7', allocationBase: 0x800a00000n,
      allocationEnd: 0x800a10000n, fileOffset: 0x1b000, dev: 90n, ino: 42n },
    { start: 0x800b00000n, end: 0x800b01000n, protect: 'r-x', type: 'image', path: null, allocationBase: 0x800b00000n,
      allocationEnd: 0x800b01000n, fileOffset: 0x2000, dev: 90n, ino: 43n }, // FreeBSD: vnode without a name (deleted)
  ], { platform: 'freebsd', mainExecutable: '/usr/local/bin/node', identify });
  assert.deepEqual(regions.map((r) => r.klass), ['main-executable', 'shared-library', 'deleted-file'], 'classes');
  assert.deepEqual(regions.map((r) => r.fileKey), ['16777232:1234567', '90:42', '90:43'], 'keys from the reported dev:ino');
  assert.deepEqual(regions.map((r) => r.fileOffset), [0, 0x1b000, 0x2000], 'file offsets as reported');
  assert.deepEqual(regions.map((r) => r.offsetKind), ['file', 'file', 'file'], 'POSIX offsets are file offsets');
  assert.equal(calls.length, 0, 'identify() must not run when the OS gave the identity');
});

test('POSIX paths compare case-sensitively', () => {
  const [r] = classifyNativeRegions([
    { start: 0x1000n, end: 0x2000n, protect: 'r-x', type: 'image', path: '/opt/App/Node', allocationBase: 0x1000n, allocationEnd: 0x2000n,
      fileOffset: 0, dev: 1n, ino: 2n },
  ], { platform: 'darwin', mainExecutable: '/opt/app/node' });
  assert.equal(r.klass, 'shared-library', 'a differently-cased path is another file on a case-sensitive system');
});

test('a malformed native region is a typed ScannerError, not a crash', () => {
  assert.throws(
    () => classifyNativeRegions([{ start: 0x2000n, end: 0x1000n, protect: 'r-x', type: 'private', path: null, allocationBase: 0n, allocationEnd: 0n, fileOffset: null }],
      winOpts()),
    (e) => e.code === 'ERR_SCANNER' && /executableRegions\(\)\[0\]/.test(e.message),
    'an inverted range must raise ERR_SCANNER naming the entry',
  );
});

test('discoverNativeRegions: unsupported, failing and working walks', () => {
  assert.throws(() => discoverNativeRegions({}, winOpts()), (e) => e.code === 'ERR_UNSUPPORTED_PLATFORM', 'no export: unsupported');
  assert.throws(() => discoverNativeRegions({ executableRegions: () => null }, { platform: 'linux', mainExecutable: null }),
    (e) => e.code === 'ERR_UNSUPPORTED_PLATFORM', 'null on Linux: unsupported');
  assert.throws(() => discoverNativeRegions({ executableRegions: () => null }, winOpts()),
    (e) => e.code === 'ERR_SCANNER', 'null on Windows: the walk failed');
  assert.throws(() => discoverNativeRegions({ executableRegions: () => { throw new Error('boom'); } }, winOpts()),
    (e) => e.code === 'ERR_SCANNER' && /boom/.test(e.message), 'a throwing walk is a ScannerError with the cause');
  const got = discoverNativeRegions({ executableRegions: () => [image(0x7ff600000000n, NODE_EXE)] }, winOpts({ identify: () => '3:4' }));
  assert.equal(got.length, 1, 'one region');
  assert.equal(got[0].fileKey, '3:4', 'classified');
});

test('the real addon on Linux has no native walk (maps is parsed in TS): unsupported', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
  const native = loadNative();
  assert.equal(native.executableRegions(), null, 'memory_linux.cc must return null (ENOSYS)');
  assert.throws(() => discoverNativeRegions(native, { mainExecutable: null }), (e) => e.code === 'ERR_UNSUPPORTED_PLATFORM',
    'discoverNativeRegions must report unsupported on Linux');
});

test('statIdentity is the dev:ino Node reports for the file, null for a missing file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-ident-'));
  try {
    const f = path.join(dir, 'mod.dll');
    fs.writeFileSync(f, 'x');
    const st = fs.statSync(f, { bigint: true });
    assert.equal(statIdentity(f), `${st.dev}:${st.ino}`, 'identity of an existing file');
    assert.equal(statIdentity(path.join(dir, 'missing.dll')), null, 'a missing file has no identity');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
