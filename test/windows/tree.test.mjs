// The process tree on Windows, in the addon (native/tree/tree_win.cc): descendants of this node.exe from a
// Toolhelp32 snapshot keyed by pid + creation time, with their command lines and sandbox facts, and
// the code of the main module and of every loaded DLL compared with its file on disk after
// relocation; a byte written into a child's code (node.exe's, or a relocated DLL's) by another
// process (the attacker) is found at its RVA in that module with both bytes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { attachDebugger, attacker, attackerExe, lineReader, root, skipOffWindows, wine, wineDeviation } from './helpers.mjs';

const skip = skipOffWindows;
const PAGE = 4096;
const lower = (p) => (p ?? '').toLowerCase();
/** JSON for assertion messages: bigints as hex. */
const show = (x) => JSON.stringify(x, (k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
let native = null;
const children = [];
/** renderer (with a utility grandchild) and gpu-process children of this process. */
let renderer = null;
let gpu = null;
let utilityPid = null;

/** Starts test/windows/tree-child.cjs with `args`; resolves with its first JSON line. */
async function startChild(...args) {
  const child = spawn(process.execPath, [path.join(root, 'test', 'windows', 'tree-child.cjs'), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const info = JSON.parse(await lineReader(child.stdout).next(60000, `tree-child ${args.join(' ')}`));
  return { child, ...info };
}

before(async () => {
  if (skip) return;
  const { loadNative } = await import('../../dist/native.js');
  native = loadNative();
  renderer = await startChild('--type=renderer', 'spawn', 'utility');
  utilityPid = renderer.grandchild;
  gpu = await startChild('--type=gpu-process');
});

after(() => {
  for (const c of children) c.stdin.end();
});

const base = (p) => lower(p).split('\\').pop();
/**
 * An int3 padding byte (never executed) of a module's code as loaded in this process, as an RVA: the
 * same file in every child (node.exe by default; a DLL by its file name). null when it has none.
 */
function paddingRva(file = base(process.execPath), fromPage = 64) {
  const exe = native.executableRegions().find((r) => r.type === 'image' && base(r.path) === file);
  if (!exe) return null;
  for (let a = exe.start + BigInt(fromPage * PAGE); a < exe.end; a += BigInt(PAGE)) {
    const i = native.readMemory(a, PAGE)?.indexOf(Buffer.alloc(16, 0xcc)) ?? -1;
    if (i >= 0) return Number(a - exe.allocationBase) + i + 8;
  }
  if (fromPage === 64 && file === base(process.execPath)) throw new Error('no int3 padding in node.exe code');
  return null;
}

/** A DLL of the child relocated away from its preferred base, with int3 padding in its code: { module, rva }. */
function relocatedDll(scan) {
  for (const m of scan.modules.slice(1)) {
    if (m.relocationDelta === 0n) continue;
    const rva = paddingRva(base(m.path), 0);
    if (rva !== null) return { module: m, rva };
  }
  throw new Error(`no relocated DLL with int3 padding among ${show(scan.modules.map((m) => [m.path, m.relocationDelta]))}`);
}

/**
 * The attacker writes 0xcd over the int3 at `rva` of `module` ({ path, base }) in the gpu child: one
 * scan finds exactly that byte in that module, and once 0xcc is written back a scan finds nothing.
 */
async function writtenByteFound(job, module, rva) {
  const addr = module.base + BigInt(rva);
  const page = rva - (rva % PAGE);
  assert.deepEqual(attacker('write', gpu.pid, addr.toString(16), 'cd'), { open: true, written: true }, `the attacker wrote into ${module.path}`);
  try {
    const [dirty] = await native.treeCodeScan([job]);
    assert.equal(dirty.ok, true, dirty.detail);
    assert.equal(dirty.hits.length, 1, `one page differs: ${show(dirty.hits)}`);
    const h = dirty.hits[0];
    assert.equal(h.state, 'modified');
    assert.equal(lower(dirty.modules[h.region]?.path), lower(module.path), 'the hit names the module');
    assert.equal(h.fileOffset, page, 'the RVA of the page');
    assert.equal(h.address, module.base + BigInt(page), 'the address of the page');
    assert.deepEqual({ firstDiff: h.firstDiff, diffBytes: h.diffBytes, fileByte: h.fileByte, memByte: h.memByte }, { firstDiff: rva % PAGE, diffBytes: 1, fileByte: 0xcc, memByte: 0xcd });
  } finally {
    assert.deepEqual(attacker('write', gpu.pid, addr.toString(16), 'cc'), { open: true, written: true }, 'restored');
  }
  const [again] = await native.treeCodeScan([job]);
  assert.deepEqual(again.hits, [], 'restored: equal to the file again');
}

test('treeProcesses: children and a grandchild, parents first, with creation time, command line and image', { skip }, () => {
  const list = native.treeProcesses(process.pid);
  const byPid = new Map(list.map((p) => [p.pid, p]));
  for (const [pid, type] of [
    [renderer.pid, 'renderer'],
    [gpu.pid, 'gpu-process'],
    [utilityPid, 'utility'],
  ]) {
    const p = byPid.get(pid);
    assert.ok(p, `pid ${pid} (${type}) is a descendant: ${JSON.stringify(list.map((x) => [x.pid, x.ppid]))}`);
    assert.equal(typeof p.startTime, 'bigint');
    assert.ok(p.startTime > 0n, 'a creation time');
    assert.match(p.commandLine ?? '', new RegExp(` --type=${type}(\\s|$)`), `the command line read from the child: ${p.commandLine} ${p.detail ?? ''}`);
    assert.equal(lower(p.exe), lower(process.execPath), 'the image path');
  }
  assert.equal(byPid.get(utilityPid).ppid, renderer.pid, 'the grandchild hangs under the renderer');
  assert.ok(list.findIndex((p) => p.pid === renderer.pid) < list.findIndex((p) => p.pid === utilityPid), 'parents first');
  assert.ok(!byPid.has(process.pid), 'the root itself is not listed');
});

test('treeProcesses: the sandbox facts a same-user process can read', { skip }, async (t) => {
  const p = native.treeProcesses(process.pid).find((x) => x.pid === gpu.pid);
  // An ordinary child: medium integrity, no AppContainer, no restricted token, no debugger.
  assert.equal(p.appContainer, false, show(p));
  assert.equal(p.restrictedToken, false, show(p));
  assert.equal(p.debugPort, false, show(p));
  assert.equal(typeof p.inJob, 'boolean', show(p));
  await t.test('integrity level medium (0x2000)', { skip: wineDeviation("Wine's tokens report high integrity (0x3000, measured with 8.0)") }, () => {
    assert.equal(p.integrityRid, 0x2000, show(p));
  });
  for (const k of ['dynamicCodeProhibited', 'microsoftSignedOnly', 'noRemoteImages', 'strictHandleChecks']) {
    assert.ok(p[k] === false || p[k] === null, `${k}: off in a child that did not ask for it: ${show(p)}`);
  }
  // A debugger on the child: its debug port is held while attached.
  const dbg = await attachDebugger(gpu.pid, 3000);
  assert.equal(dbg.first.attached, true, `the attacker attached: ${show(dbg.first)}`);
  const during = native.treeProcesses(process.pid).find((x) => x.pid === gpu.pid);
  await dbg.done;
  assert.equal(during.debugPort, true, `debugPort while a debugger is attached: ${show(during)}`);
});

test('treeCodeScan: a child main module equals its file; a byte written by another process is found at its RVA, then restored', { skip }, async () => {
  const proc = native.treeProcesses(process.pid).find((x) => x.pid === gpu.pid);
  const job = { pid: gpu.pid, startTime: proc.startTime };
  const [clean] = await native.treeCodeScan([job]);
  assert.equal(clean.ok, true, `scan failed: ${clean.detail}`);
  assert.equal(lower(clean.module), lower(process.execPath), 'the main module is node.exe');
  assert.ok(clean.pages * PAGE >= 16 << 20, `node.exe's executable sections were checked: ${clean.pages} pages`);
  if (wine) assert.equal(clean.filePages, 0, 'Wine copies image sections into private memory: every page is compared');
  else assert.ok(clean.filePages > 0 && clean.readBytes < clean.pages * PAGE, `pages still shared with the image are not read: ${show(clean)}`);
  assert.deepEqual(clean.hits, [], `the untouched child differs from its file: ${show(clean.hits.slice(0, 3))}`);

  await writtenByteFound(job, { path: process.execPath, base: clean.imageBase }, paddingRva());
});

test('treeCodeScan compares every DLL the child loaded with its file after relocation; a byte written into one is found in it, then restored', { skip }, async () => {
  const proc = native.treeProcesses(process.pid).find((x) => x.pid === gpu.pid);
  const job = { pid: gpu.pid, startTime: proc.startTime, moduleBudget: 2 ** 34 };
  const [clean] = await native.treeCodeScan([job]);
  assert.equal(clean.ok, true, clean.detail);
  assert.equal(lower(clean.modules[0].path), lower(process.execPath), 'the main module first');
  assert.ok(clean.loadedBases.length >= 10, `node.exe's DLLs are loaded: ${clean.loadedBases.length}`);
  assert.deepEqual(clean.modules.slice(1).map((m) => m.base), clean.loadedBases, 'within an unbounded budget every loaded DLL is compared, by base');
  assert.equal(clean.nextModuleCursor, 0n, 'all of them in this pass');
  for (const m of clean.modules) assert.equal(m.ok, true, `${m.path}: ${m.detail}`);
  for (const dll of ['kernel32.dll', 'ntdll.dll', 'ws2_32.dll']) assert.ok(clean.modules.some((m) => base(m.path) === dll), `${dll} compared: ${show(clean.modules.map((m) => m.path))}`);
  assert.deepEqual(clean.hits, [], `the untouched child's DLLs equal their files: ${show(clean.hits.slice(0, 3).map((h) => [clean.modules[h.region]?.path, h]))}`);

  const { module: dll, rva } = relocatedDll(clean);
  assert.notEqual(dll.relocationDelta, 0n, 'the DLL is loaded away from its preferred base: equal only after relocation');
  await writtenByteFound(job, dll, rva);
});

test('treeCodeScan keeps a pass within the DLL byte budget and rotates the DLLs across passes', { skip }, async () => {
  const proc = native.treeProcesses(process.pid).find((x) => x.pid === gpu.pid);
  const [all] = await native.treeCodeScan([{ pid: gpu.pid, startTime: proc.startTime, moduleBudget: 2 ** 34 }]);
  const seen = [];
  let cursor = 0n;
  for (let pass = 0; pass < all.loadedBases.length; pass++) {
    // A 1-byte budget: each pass compares the main module and exactly one DLL, the next from the cursor.
    const [r] = await native.treeCodeScan([{ pid: gpu.pid, startTime: proc.startTime, moduleCursor: cursor, moduleBudget: 1 }]);
    assert.equal(r.ok, true, r.detail);
    assert.equal(r.modules.length, 2, `the main module and one DLL: ${show(r.modules.map((m) => m.path))}`);
    seen.push(r.modules[1].base);
    cursor = r.nextModuleCursor;
  }
  assert.deepEqual(seen, all.loadedBases, 'one pass per DLL compares every DLL once, in base order');
  assert.equal(cursor, all.loadedBases[0], 'then the rotation wraps to the lowest DLL');
  // A budget one byte short of the first three DLLs' sections: the third is the one that spends it.
  const budget = all.modules.slice(1, 4).reduce((n, m) => n + m.pages * PAGE, 0) - 1;
  const [some] = await native.treeCodeScan([{ pid: gpu.pid, startTime: proc.startTime, moduleBudget: budget }]);
  assert.deepEqual(some.modules.slice(1).map((m) => m.base), all.loadedBases.slice(0, 3), `a ${budget}-byte budget stops after the DLL that spends it: ${show(some.modules.map((m) => [m.path, m.pages]))}`);
  assert.equal(some.nextModuleCursor, all.loadedBases[3], 'and says where the next pass goes on');
  assert.throws(() => native.treeCodeScan([{ pid: gpu.pid, startTime: proc.startTime, moduleBudget: 0 }]), RangeError);
  assert.throws(() => native.treeCodeScan([{ pid: gpu.pid, startTime: proc.startTime, moduleCursor: 1 }]), TypeError);
});

test('treeCodeScan applies the base relocations: a child whose file now says another base still equals it', { skip }, async () => {
  // The child runs the build linked at 0x150000000 (loaded there: Wine does not randomize bases).
  // Its file is then renamed away (allowed while it runs, as on Windows) and the build linked at
  // 0x160000000 put at its path: the scanner reads that file, and only with the relocations for
  // delta -0x10000000 applied do its movabs immediates equal the memory.
  const build = (base) => path.join(root, '.cache', 'windows', `reloc-target-${base}.exe`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-reloc-'));
  const exe = path.join(dir, 'reloc-target.exe');
  fs.copyFileSync(build('150000000'), exe);
  const child = spawn(exe, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const info = JSON.parse(await lineReader(child.stdout).next(60000, 'reloc-target'));
  const main = BigInt(info.main);
  const le = (v) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return b;
  };
  const p = native.treeProcesses(process.pid).find((x) => x.pid === info.pid);
  const job = { pid: info.pid, startTime: p.startTime };
  const [asLoaded] = await native.treeCodeScan([job]);
  assert.equal(asLoaded.ok, true, asLoaded.detail);
  assert.deepEqual(asLoaded.hits, [], `equal to its own file: ${show(asLoaded.hits)}`);
  const delta = asLoaded.imageBase - 0x150000000n;
  // The other build's code holds main's address for its own base: the files differ in .text.
  assert.ok(fs.readFileSync(build('150000000')).includes(le(main - delta)), "main's absolute address is in the 0x150000000 build");
  assert.ok(fs.readFileSync(build('160000000')).includes(le(main - delta + 0x10000000n)), 'and the 0x160000000 build holds it for its base');
  fs.renameSync(exe, path.join(dir, 'reloc-target-running.exe'));
  fs.copyFileSync(build('160000000'), exe);
  const [r] = await native.treeCodeScan([job]);
  assert.equal(r.ok, true, r.detail);
  assert.equal(lower(r.module), lower(exe), 'the scanner read the file at the image path');
  assert.equal(r.relocationDelta, asLoaded.imageBase - 0x160000000n, 'relocated from the file base to the load address');
  assert.notEqual(r.relocationDelta, 0n);
  assert.deepEqual(r.hits, [], `equal after relocation: ${show(r.hits)}`);
  child.stdin.end();
});

test('treeCodeScan refuses a pid whose creation time differs (a reused pid), and an exited process', { skip }, async () => {
  const proc = native.treeProcesses(process.pid).find((x) => x.pid === gpu.pid);
  const [wrong] = await native.treeCodeScan([{ pid: gpu.pid, startTime: proc.startTime + 1n }]);
  assert.equal(wrong.ok, false);
  assert.match(wrong.detail, /another process \(creation time differs\)/);
  const gone = await startChild('--type=renderer');
  const goneTime = native.treeProcesses(process.pid).find((x) => x.pid === gone.pid).startTime;
  gone.child.stdin.end();
  await new Promise((resolve) => gone.child.once('exit', resolve));
  const [r] = await native.treeCodeScan([{ pid: gone.pid, startTime: goneTime }]);
  assert.equal(r.ok, false, 'an exited process is not scanned');
  assert.ok(!native.treeProcesses(process.pid).some((x) => x.pid === gone.pid), 'nor listed');
});

test('treeCodeScan / treeProcesses reject bad arguments with typed errors', { skip }, () => {
  assert.throws(() => native.treeCodeScan('x'), TypeError);
  assert.throws(() => native.treeCodeScan([{ pid: 4, startTime: 1 }]), TypeError, 'startTime must be a bigint');
  assert.throws(() => native.treeCodeScan([{ pid: -4, startTime: 1n }]), RangeError);
  assert.throws(() => native.treeProcesses(0), RangeError);
  assert.throws(() => native.treeProcesses('1'), TypeError);
});

test('Guard processTree on Windows: children by type, child-unsandboxed per policy, a written byte code-modified then code-restored, a debugger child-tracer-attached', { skip, timeout: 300000 }, async () => {
  const { Guard } = await import('../../dist/index.js');
  const guard = new Guard({ code: false, launch: false, kernel: false, processTree: { codeMs: 60000, discoveryMs: 60000, settleMs: 0 } });
  const events = [];
  guard.on('finding', (f) => events.push(f));
  try {
    const first = await guard.start();
    assert.deepEqual(first.checkerErrors, [], 'no checker error');
    const byPid = new Map((first.processes ?? []).map((p) => [p.pid, p]));
    assert.equal(first.processes?.[0]?.pid, process.pid, 'the root (this process) first');
    assert.equal(byPid.get(renderer.pid)?.type, 'renderer', show(first.processes));
    assert.equal(byPid.get(gpu.pid)?.type, 'gpu-process');
    assert.equal(byPid.get(utilityPid)?.type, 'utility');
    const g = byPid.get(gpu.pid);
    assert.equal(typeof g.windows?.restrictedToken, 'boolean', `Windows facts in the entry: ${show(g)}`);
    assert.ok(g.coverage && g.coverage.bytes >= 16 << 20, `the child's code was compared: ${JSON.stringify(g.coverage)}`);
    assert.equal(first.findings.filter((f) => f.kind === 'code-modified').length, 0, 'nothing modified at start');
    // The default policy requires renderers and sandboxed utilities to be sandboxed: these node.exe
    // children have an ordinary token; the gpu-process is not required.
    const unsandboxed = first.findings.filter((f) => f.kind === 'child-unsandboxed').map((f) => f.pid);
    assert.deepEqual(unsandboxed.sort(), [renderer.pid, utilityPid].sort(), `child-unsandboxed: ${JSON.stringify(first.findings.map((f) => [f.kind, f.pid, f.detail]))}`);
    assert.match(first.findings.find((f) => f.pid === renderer.pid && f.kind === 'child-unsandboxed').detail, /^renderer pid \d+ is not sandboxed: restricted token false, AppContainer false, integrity 0x[0-9a-f]+ \(need /);
    assert.equal(byPid.get(renderer.pid).sandboxRequired, true);
    assert.equal(byPid.get(gpu.pid).sandboxRequired, false);

    const rva = paddingRva();
    const [scan] = await native.treeCodeScan([{ pid: gpu.pid, startTime: native.treeProcesses(process.pid).find((x) => x.pid === gpu.pid).startTime }]);
    const addr = scan.imageBase + BigInt(rva);
    assert.deepEqual(attacker('write', gpu.pid, addr.toString(16), 'cd'), { open: true, written: true });
    let restored = false;
    try {
      const s = await guard.check();
      const f = s.findings.find((x) => x.kind === 'code-modified' && x.pid === gpu.pid);
      assert.ok(f, `code-modified for the gpu child: ${JSON.stringify(s.findings.map((x) => [x.kind, x.pid, x.detail]))}`);
      assert.equal(f.processType, 'gpu-process');
      assert.equal(f.offset, rva, 'the RVA of the byte');
      assert.deepEqual([f.before, f.after], [0xcc, 0xcd], 'file byte, memory byte');
      assert.equal(lower(f.path), lower(process.execPath));
      assert.match(f.detail, new RegExp(`^gpu-process pid ${gpu.pid}: .* \\(RVA 0x${(rva - (rva % PAGE)).toString(16)}\\) differs from the file: 1 byte\\(s\\), first at RVA 0x${rva.toString(16)} \\(file 0xcc, memory 0xcd\\)$`), f.detail);
      assert.equal(s.processes.find((p) => p.pid === gpu.pid).findings, 1, 'the entry counts its finding');
      assert.deepEqual(attacker('write', gpu.pid, addr.toString(16), 'cc'), { open: true, written: true });
      restored = true;
      const s2 = await guard.check();
      assert.ok(!s2.findings.some((x) => x.kind === 'code-modified' && x.pid === gpu.pid), 'closed once restored');
      assert.ok(events.some((e) => e.kind === 'code-restored' && e.pid === gpu.pid), `a code-restored event: ${JSON.stringify(events.map((e) => e.kind))}`);
    } finally {
      if (!restored) attacker('write', gpu.pid, addr.toString(16), 'cc');
    }
    // A byte in a DLL of the child: code-modified naming the DLL and its RVA, then code-restored.
    const [withDlls] = await native.treeCodeScan([{ pid: gpu.pid, startTime: native.treeProcesses(process.pid).find((x) => x.pid === gpu.pid).startTime, moduleBudget: 2 ** 34 }]);
    const { module: dll, rva: dllRva } = relocatedDll(withDlls);
    const dllAddr = dll.base + BigInt(dllRva);
    assert.deepEqual(attacker('write', gpu.pid, dllAddr.toString(16), 'cd'), { open: true, written: true });
    let dllRestored = false;
    try {
      const s = await guard.check();
      const f = s.findings.find((x) => x.kind === 'code-modified' && x.pid === gpu.pid);
      assert.ok(f, `code-modified in ${dll.path}: ${JSON.stringify(s.findings.map((x) => [x.kind, x.pid, x.detail]))}`);
      assert.equal(lower(f.path), lower(dll.path), 'the finding names the DLL');
      assert.equal(f.offset, dllRva, 'the RVA of the byte in the DLL');
      assert.deepEqual([f.before, f.after], [0xcc, 0xcd]);
      assert.ok(f.detail.includes(`${dll.path} page `), f.detail);
      assert.deepEqual(attacker('write', gpu.pid, dllAddr.toString(16), 'cc'), { open: true, written: true });
      dllRestored = true;
      const s2 = await guard.check();
      assert.ok(!s2.findings.some((x) => x.kind === 'code-modified' && x.pid === gpu.pid), 'closed once restored');
      assert.ok(events.some((e) => e.kind === 'code-restored' && e.pid === gpu.pid && lower(e.path) === lower(dll.path)), `a code-restored event for the DLL: ${JSON.stringify(events.map((e) => [e.kind, e.path]))}`);
    } finally {
      if (!dllRestored) attacker('write', gpu.pid, dllAddr.toString(16), 'cc');
    }
    // A debugger on a child is child-tracer-attached while it holds the debug port.
    const dbg = await attachDebugger(renderer.pid, 3000);
    assert.equal(dbg.first.attached, true, show(dbg.first));
    const s3 = await guard.check();
    await dbg.done;
    const tr = s3.findings.find((x) => x.kind === 'child-tracer-attached' && x.pid === renderer.pid);
    assert.ok(tr, `child-tracer-attached for the renderer: ${JSON.stringify(s3.findings.map((x) => [x.kind, x.pid]))}`);
    assert.equal(tr.processType, 'renderer');
  } finally {
    guard.stop();
  }
  // The policy decides what is required: with renderers and utilities exempt, nothing is reported.
  const relaxed = new Guard({ code: false, launch: false, kernel: false, processTree: { codeMs: 0, settleMs: 0, sandboxPolicy: { renderer: null, utility: null } } });
  try {
    const s = await relaxed.start();
    assert.deepEqual(s.findings.filter((f) => f.kind === 'child-unsandboxed').map((f) => f.pid), [], 'no requirement, no finding');
  } finally {
    relaxed.stop();
  }
});

test('a child started sandboxed (restricted token, low integrity, in a job) is reported with those facts and as sandboxed', { skip, timeout: 120000 }, async (t) => {
  // The attacker's launcher makes the token as Chromium's broker does (CreateRestrictedToken with
  // restricting SIDs, then integrity low), starts node.exe with CreateProcessAsUserW suspended,
  // puts it in a new job, and only then lets it run.
  const launcher = spawn(attackerExe, ['launch', 'restricted,low,job', process.execPath, path.join(root, 'test', 'windows', 'tree-child.cjs'), '--type=renderer'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => launcher.once('exit', resolve));
  try {
    const lines = lineReader(launcher.stdout);
    const steps = JSON.parse(await lines.next(60000, 'attacker launch'));
    const child = JSON.parse(await lines.next(60000, 'the sandboxed tree-child'));
    assert.deepEqual([steps.restricted, steps.low, steps.created, steps.job], [{ ok: true }, { ok: true }, { ok: true }, { ok: true }], `each step of the launch: ${show(steps)}`);
    assert.equal(child.pid, steps.pid, 'the child that answered is the one launched');
    const p = native.treeProcesses(process.pid).find((x) => x.pid === child.pid);
    assert.ok(p, 'the sandboxed grandchild is a descendant (under the launcher)');
    assert.equal(p.ppid, launcher.pid, 'its parent is the launcher');
    assert.equal(p.inJob, true, `IsProcessInJob: the child is in the launcher's job: ${show(p)}`);
    const { windowsSandboxed } = await import('../../dist/tree/windows.js');
    const { Guard } = await import('../../dist/index.js');
    const guard = new Guard({ code: false, launch: false, kernel: false, processTree: { codeMs: 0, discoveryMs: 60000, settleMs: 0 } });
    let status;
    try {
      status = await guard.start();
    } finally {
      guard.stop();
    }
    const entry = status.processes.find((e) => e.pid === child.pid);
    assert.equal(entry?.type, 'renderer', `the Status entry of the sandboxed renderer: ${show(entry)}`);
    assert.equal(entry.windows.inJob, true, 'the entry shows the job');
    await t.test('the restricted token reaches the child', {
      skip: wineDeviation(
        `IsTokenRestricted is false even for the token CreateRestrictedToken returned with 4 restricting SIDs (read back: ${steps.isRestricted}; TokenRestrictedSids: ${steps.restrictedSids < 0 ? `error ${-steps.restrictedSids}` : steps.restrictedSids}), and the child reports restrictedToken ${p.restrictedToken} (measured with ${wine})`,
      ),
    }, () => {
      assert.equal(p.restrictedToken, true, show(p));
    });
    await t.test('the low integrity reaches the child', { skip: wineDeviation(`SetTokenInformation(TokenIntegrityLevel, low) succeeds, yet the token reads back 0x${(steps.integrity ?? 0).toString(16)} and the child 0x${p.integrityRid?.toString(16)} (measured with ${wine})`) }, () => {
      assert.equal(p.integrityRid, 0x1000, show(p));
    });
    await t.test('sandboxed by the Windows policy: no child-unsandboxed for it', { skip: wineDeviation(`of the three, only the job reaches the child (above), and a job alone is not a sandbox (measured with ${wine})`) }, () => {
      assert.equal(windowsSandboxed(p), true, show(p));
      assert.equal(entry.sandboxed, true, show(entry));
      assert.ok(!status.findings.some((f) => f.kind === 'child-unsandboxed' && f.pid === child.pid), show(status.findings));
    });
  } finally {
    launcher.stdin.end();
    const kill = setTimeout(() => launcher.kill(), 5000);
    await exited;
    clearTimeout(kill);
  }
});
