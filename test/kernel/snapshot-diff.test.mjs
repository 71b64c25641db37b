// Snapshot from procfs-shaped directories built out of captured real files, the diff between
// them, the non-Linux path, and KernelMonitor misuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { root } from './helpers.mjs';
import { takeSnapshot, takeLightSnapshot, LOOP_COVERED } from '../../dist/kernel/snapshot.js';
import { diffSnapshots } from '../../dist/kernel/diff.js';
import { KernelMonitor } from '../../dist/kernel/monitor.js';
import { GuardStateError, ProcfsUnreadableError, ProcfsParseError } from '../../dist/errors.js';

const fx = (n) => fs.readFileSync(path.join(root, 'test', 'fixtures', 'procfs', n), 'utf8');

function procRoot(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-procroot-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}
const noNative = { processState: () => null };

test('snapshot from captured files: only the security-relevant fields, exec FILE mappings only', async () => {
  const dir = procRoot({
    'self/status': fx('status-root-cat.txt'),
    'self/maps': fx('maps-python-special.txt'),
    'self/limits': fx('limits-self.txt'),
    'self/cgroup': fx('cgroup-self.txt'),
    'sys/kernel/yama/ptrace_scope': '1\n',
    'sys/user/max_user_namespaces': '4096\n',
  });
  const s = await takeSnapshot({ procRoot: dir, ...noNative });
  assert.deepEqual(s.tracer, { attached: false, pid: null, comm: null, tid: null });
  assert.deepEqual(s.seccomp, { mode: 0, filters: 0 });
  assert.equal(s.noNewPrivs, false);
  assert.deepEqual(s.capabilities, { eff: '000001fffeffffff', prm: '000001fffeffffff', bnd: '000001fffeffffff', amb: '0000000000000000' });
  assert.equal(s.dumpable, 'unsupported', 'dumpable comes from native only');
  assert.deepEqual(s.coreLimit, { soft: '0', hard: 'unlimited' }, 'core limit from /proc/self/limits');
  assert.equal(s.cgroup.unified, '/');
  assert.ok(s.cgroup.memory.startsWith('/process_api/'));
  assert.equal(s.ptraceScope, 1);
  assert.deepEqual(s.userns, { unprivilegedClone: 'unsupported', maxUserNamespaces: 4096 });
  assert.ok(s.execMappings.some((m) => m.endsWith('/lib with spaces.so')), 'file with spaces');
  assert.ok(s.execMappings.some((m) => m.endsWith('/memfd:jit code (deleted)')), 'memfd keeps its deleted mark');
  assert.ok(!s.execMappings.some((m) => m.includes('[vdso]') || m.endsWith('shared.dat')), 'no pseudo or non-exec mappings');
  assert.deepEqual(s.execMappings, [...s.execMappings].sort(), 'sorted');
  assert.ok(s.execMappings.every((m) => /^[0-9a-f]+:[0-9a-f]+:\d+:/.test(m)), 'dev:inode:path');
  assert.deepEqual(Object.keys(s).sort(), ['capabilities', 'cgroup', 'coreLimit', 'dumpable', 'execMappings', 'noNewPrivs', 'pid', 'platform', 'ptraceScope', 'seccomp', 'takenAt', 'tracer', 'userns']);
  fs.rmSync(dir, { recursive: true });
});

test('light snapshot: re-reads maps and the sysctls, keeps the loop-covered fields from the previous one', async () => {
  const a = procRoot({
    'self/status': fx('status-root-cat.txt'),
    'self/maps': fx('maps-cat.txt'),
    'self/limits': fx('limits-self.txt'),
    'self/cgroup': fx('cgroup-self.txt'),
    'sys/kernel/yama/ptrace_scope': '1\n',
  });
  const full = await takeSnapshot({ procRoot: a, ...noNative });
  // What the loop vouches for is taken from `prev` as is, even where the files now say otherwise.
  const prev = { ...full, tracer: { attached: true, pid: 4242, comm: 'gdb', tid: 7 }, noNewPrivs: true };
  const b = procRoot({ 'self/status': 'garbage\n', 'self/maps': fx('maps-python-special.txt'), 'sys/kernel/yama/ptrace_scope': '2\n' });
  const light = await takeLightSnapshot(prev, { procRoot: b, ...noNative });
  for (const k of LOOP_COVERED) assert.deepEqual(light[k], prev[k], `${k} comes from the previous snapshot`);
  assert.equal(light.ptraceScope, 2, 'Yama re-read');
  assert.ok(light.execMappings.some((m) => m.endsWith('/lib with spaces.so')), 'exec mappings re-read from the new maps');
  assert.notDeepEqual(light.execMappings, full.execMappings, 'a different maps text gives its own mappings');
  // The same maps text again (parsed once, remembered): equal content, and a copy the caller may change.
  const again = await takeLightSnapshot(prev, { procRoot: b, ...noNative });
  assert.deepEqual(again.execMappings, light.execMappings);
  again.execMappings.push('changed by the caller');
  assert.deepEqual((await takeLightSnapshot(prev, { procRoot: b, ...noNative })).execMappings, light.execMappings, 'the remembered list is not shared');
  const c = procRoot({ 'self/maps': '00400000-zz r-xp 00000000 08:01 12 /bin/x\n' });
  await assert.rejects(takeLightSnapshot(prev, { procRoot: c, ...noNative }), ProcfsParseError, 'malformed maps is still a typed error');
  const d = procRoot({});
  await assert.rejects(takeLightSnapshot(prev, { procRoot: d, ...noNative }), ProcfsUnreadableError, 'missing maps is still a typed error');
  for (const dir of [a, b, c, d]) fs.rmSync(dir, { recursive: true });
});

test('diff of two captured states gives each kind with before/after, and exec mappings only when asked', async () => {
  const a = procRoot({ 'self/status': fx('status-root-cat.txt'), 'self/maps': fx('maps-cat.txt'), 'self/limits': fx('limits-self.txt'), 'self/cgroup': fx('cgroup-self.txt') });
  const traced = fx('status-seccomp-nnp.txt').replace(/^TracerPid:\t0$/m, 'TracerPid:\t4242');
  const b = procRoot({
    'self/status': traced,
    'self/maps': fx('maps-node.txt'),
    'self/limits': fx('limits-self.txt').replace('Max core file size        0 ', 'Max core file size        1024 '),
    'self/cgroup': fx('cgroup-v2-handcrafted.txt'),
    '4242/comm': 'gdb\n',
  });
  let dumpable = 1;
  const ps = () => ({ dumpable, coreSoft: 0, coreHard: -1 });
  const base = await takeSnapshot({ procRoot: a, processState: ps });
  dumpable = 0;
  const now = await takeSnapshot({ procRoot: b, processState: ps });
  const obs = diffSnapshots(base, now);
  const keys = obs.map((o) => o.key).sort();
  assert.deepEqual(keys, [
    'kernel:capabilities-changed:bnd',
    'kernel:cgroup-changed',
    'kernel:core-limit-changed',
    'kernel:dumpable-changed',
    'kernel:no-new-privs-changed',
    'kernel:seccomp-changed',
    'kernel:tracer-attached',
  ]);
  const get = (k) => obs.find((o) => o.key === k);
  assert.deepEqual(get('kernel:tracer-attached').evidence, { tracerPid: 4242, tracerComm: 'gdb', tid: process.pid });
  assert.match(get('kernel:tracer-attached').detail, /pid 4242 \(gdb\)/);
  assert.deepEqual(get('kernel:seccomp-changed').after, { mode: 2, filters: 2 });
  assert.deepEqual(get('kernel:capabilities-changed:bnd').evidence.removed, ['CAP_NET_RAW', 'CAP_SYS_ADMIN']);
  assert.deepEqual([get('kernel:dumpable-changed').before, get('kernel:dumpable-changed').after], [1, 0]);
  assert.deepEqual(get('kernel:core-limit-changed').after, { soft: '1024', hard: 'unlimited' });
  assert.ok(get('kernel:cgroup-changed').evidence.hierarchies.includes('memory'), 'vanished v1 hierarchy listed');
  assert.ok(obs.every((o) => o.subsystem === 'kernel' && 'before' in o && 'after' in o), 'all kernel, all with before/after');

  const withExec = diffSnapshots(base, now, { reportExecMappings: true });
  const ex = withExec.find((o) => o.kind === 'exec-mapping-changed');
  assert.ok(ex && ex.evidence.addedCount > 0 && ex.evidence.removedCount > 0, 'exec mapping change summarised when asked');
  assert.ok(ex.evidence.added.length <= 10, 'summary is bounded');
  assert.deepEqual(diffSnapshots(base, base), [], 'identical snapshots: nothing');
  fs.rmSync(a, { recursive: true });
  fs.rmSync(b, { recursive: true });
});

test('checker failures are typed errors, never observations', async () => {
  const missing = procRoot({ 'self/maps': fx('maps-cat.txt'), 'self/limits': fx('limits-self.txt') });
  await assert.rejects(takeSnapshot({ procRoot: missing, ...noNative }), ProcfsUnreadableError, 'missing status');
  const bad = procRoot({ 'self/status': 'garbage\n', 'self/maps': fx('maps-cat.txt'), 'self/limits': fx('limits-self.txt') });
  await assert.rejects(takeSnapshot({ procRoot: bad, ...noNative }), ProcfsParseError, 'malformed status');
  const noCgroup = procRoot({ 'self/status': fx('status-root-cat.txt'), 'self/maps': fx('maps-cat.txt'), 'self/limits': fx('limits-self.txt') });
  assert.equal((await takeSnapshot({ procRoot: noCgroup, ...noNative })).cgroup, 'unsupported', 'no cgroup file: unsupported');
  const mon = new KernelMonitor({ procRoot: bad, ...noNative });
  await assert.rejects(mon.baseline(), ProcfsParseError);
  await assert.rejects(mon.check(), ProcfsParseError, 'check without a baseline tries to take one, and fails the same way');
  assert.equal(mon.baselineSnapshot(), null, 'a failed check leaves no baseline: the next one retries');
  for (const d of [missing, bad, noCgroup]) fs.rmSync(d, { recursive: true });
});

test('non-Linux: tracer from queryTracer, core limit from processState, the rest unsupported', async () => {
  let state = 'none';
  const src = { platform: 'darwin', queryTracer: () => ({ state, detail: '' }), processState: () => ({ dumpable: -1, coreSoft: 0, coreHard: -1 }) };
  const base = await takeSnapshot(src);
  assert.deepEqual(base.tracer, { attached: false, pid: null, comm: null, tid: null });
  assert.deepEqual(base.coreLimit, { soft: '0', hard: 'unlimited' });
  for (const f of ['seccomp', 'noNewPrivs', 'capabilities', 'dumpable', 'cgroup', 'execMappings', 'ptraceScope']) assert.equal(base[f], 'unsupported', f);
  state = 'attached';
  const now = await takeSnapshot(src);
  const obs = diffSnapshots(base, now);
  assert.deepEqual(obs.map((o) => o.key), ['kernel:tracer-attached'], 'P_TRACED / debugger present becomes tracer-attached');
  assert.match(obs[0].detail, /a debugger/);
  const win = await takeSnapshot({ platform: 'win32', queryTracer: () => null, processState: () => null });
  assert.equal(win.tracer, 'unsupported');
  assert.equal(win.coreLimit, 'unsupported');
});

test('KernelMonitor on this process: start/stop leaves no handle, misuse is rejected', async () => {
  const mon = new KernelMonitor(noNative);
  assert.throws(() => mon.start(1, () => {}), RangeError);
  assert.throws(() => new KernelMonitor(null), TypeError);
  const seen = [];
  mon.start(20, (o) => seen.push(o));
  assert.throws(() => mon.start(20, () => {}), GuardStateError, 'double start');
  await new Promise((r) => setTimeout(r, 300));
  mon.stop();
  mon.stop();
  assert.ok(seen.length > 0, 'the timer ran checks (baseline taken on first tick)');
  assert.ok(seen.every((o) => o.length === 0), `no observation on an idle test process: ${JSON.stringify(seen.flat())}`);
  assert.ok(mon.baselineSnapshot() && mon.lastSnapshot(), 'snapshots kept for the Status');
});
