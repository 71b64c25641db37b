// Pure parts of the process tree on real captured /proc text of a headless chromium tree
// (test/fixtures/tree, uid 65534, Linux 6.18): stat parser, cmdline classification, the sandbox
// policy on the captured status facts, descendant walk, and the child code plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { parseStat } = require(path.join(root, 'dist', 'procfs', 'stat.js'));
const { parseStatus } = require(path.join(root, 'dist', 'procfs', 'status.js'));
const { parseMaps } = require(path.join(root, 'dist', 'procfs', 'maps.js'));
const { classifyCmdline, flagValue } = require(path.join(root, 'dist', 'tree', 'cmdline.js'));
const { requirementFor, sandboxFailures, isSandboxed, STRICT } = require(path.join(root, 'dist', 'tree', 'policy.js'));
const { descendantsFromLinks } = require(path.join(root, 'dist', 'tree', 'descendants.js'));
const { sandboxFacts } = require(path.join(root, 'dist', 'tree', 'snapshot.js'));
const { planChildCode, codeObservations } = require(path.join(root, 'dist', 'tree', 'code.js'));
const { ProcfsParseError } = require(path.join(root, 'dist', 'errors.js'));

const fx = (name, enc = 'utf8') => fs.readFileSync(path.join(root, 'test', 'fixtures', 'tree', name), enc);
const NAMES = ['browser', 'crashpad', 'gpu', 'renderer', 'renderer-nosandbox', 'utility-network', 'utility-storage', 'zygote-init', 'zygote-unsandboxed', 'zygote'];

test('parseStat: every captured chromium stat line', () => {
  const want = {
    browser: [10496, 1, '31715'],
    renderer: [10678, 10586, '31950'],
    gpu: [10611, 10578, '31870'],
    zygote: [10586, 10581, '31860'],
    crashpad: [10574, 1, '31811'],
  };
  for (const [n, [pid, ppid, start]] of Object.entries(want)) {
    const s = parseStat(fx(`stat-${n}.txt`), n);
    assert.deepEqual([s.pid, s.ppid, s.startTicks], [pid, ppid, start], n);
    assert.equal(s.state, 'S');
  }
  assert.equal(parseStat(fx('stat-crashpad.txt')).comm, 'chrome_crashpad');
});

test('parseStat: a comm with spaces and parentheses ends at the last ")"', () => {
  const line = fx('stat-renderer.txt').replace('(chromium)', '(a) b (c) )')
  const s = parseStat(line);
  assert.equal(s.comm, 'a) b (c) ');
  assert.equal(s.ppid, 10586);
  assert.equal(s.startTicks, '31950');
});

test('parseStat: malformed text is a typed error naming the problem', () => {
  const good = fx('stat-renderer.txt');
  const cases = [
    ['', /expected "pid \(comm\)/],
    ['x (a) S 1 2', /bad pid/],
    [good.replace(' S ', ' 7 '), /bad state/],
    [good.replace(' 10586 ', ' -1 '), /bad ppid/],
    ['10678 (chromium) S 1 2 3', /too few fields/],
    [good.replace(' 31950 ', ' 3x1 '), /bad starttime/],
    [good + 'second line\n', /single line/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseStat(text), (e) => e instanceof ProcfsParseError && re.test(e.message), `case ${JSON.stringify(text.slice(0, 30))}`);
  }
  assert.throws(() => parseStat(42), TypeError);
});

test('classifyCmdline: every captured process, including setproctitle-joined command lines', () => {
  const kinds = Object.fromEntries(NAMES.map((n) => [n, classifyCmdline(fx(`cmdline-${n}.bin`, 'latin1'), n === 'browser')]));
  assert.equal(kinds.browser.type, 'browser');
  assert.equal(kinds.renderer.type, 'renderer');
  assert.equal(kinds.renderer.noSandboxFlag, false);
  assert.equal(kinds['renderer-nosandbox'].noSandboxFlag, true);
  assert.equal(kinds.gpu.type, 'gpu-process');
  assert.equal(kinds.zygote.type, 'zygote');
  assert.equal(kinds['zygote-init'].type, 'zygote');
  assert.equal(kinds.crashpad.type, 'crashpad-handler');
  assert.deepEqual([kinds['utility-network'].type, kinds['utility-network'].utilitySubType, kinds['utility-network'].serviceSandboxType], ['utility', 'network.mojom.NetworkService', 'none']);
  assert.deepEqual([kinds['utility-storage'].utilitySubType, kinds['utility-storage'].serviceSandboxType], ['storage.mojom.StorageService', 'utility']);
  // The renderer's cmdline is one space-joined string (setproctitle): still one flag per value.
  assert.ok(!fx('cmdline-renderer.bin', 'latin1').slice(0, -1).includes('\0'), 'fixture is a joined cmdline');
  assert.equal(classifyCmdline('/x/chromium\0--type=ppapi\0', false).type, 'other');
  assert.equal(classifyCmdline('/x/chromium\0--type=ppapi\0', false).rawType, 'ppapi');
  assert.equal(classifyCmdline('', false).type, 'other');
  assert.equal(flagValue('a --xtype=renderer', 'type'), null, 'a flag name is matched whole');
  assert.throws(() => classifyCmdline(null, false), TypeError);
});

const ROOT_NS = { user: 'user:[4026531837]', pid: 'pid:[4026531836]', net: 'net:[4026531833]' };
const CHILD_NS = { user: 'user:[4026532176]', pid: 'pid:[4026532251]', net: 'net:[4026532180]' };

test('sandbox policy on the captured facts: renderer passes, --no-sandbox renderer fails seccomp and namespace', () => {
  const renderer = sandboxFacts(parseStatus(fx('status-renderer.txt')), CHILD_NS, ROOT_NS);
  assert.deepEqual(sandboxFailures(renderer, STRICT), []);
  assert.equal(isSandboxed(renderer), true);
  const bad = sandboxFacts(parseStatus(fx('status-renderer-nosandbox.txt')), ROOT_NS, ROOT_NS);
  assert.deepEqual(sandboxFailures(bad, STRICT).map((f) => f.property), ['seccomp', 'namespace']);
  assert.equal(bad.noNewPrivs, true, 'NoNewPrivs stays on without the sandbox (measured)');
  // The setuid sandbox's layout: same user namespace, own PID and network namespaces.
  const setuid = { ...renderer, ownUserNs: false, ownPidNs: true, ownNetNs: true };
  assert.deepEqual(sandboxFailures(setuid, STRICT), []);
  assert.deepEqual(sandboxFailures({ ...setuid, ownNetNs: false }, STRICT).map((f) => f.property), ['namespace']);
  assert.deepEqual(sandboxFailures({ ...renderer, ownUserNs: null, ownNetNs: null }, STRICT).map((f) => f.detail), ['user namespace unreadable']);
  assert.deepEqual(sandboxFailures({ ...renderer, capEff: '0000000000200000' }, { noCapabilities: true }).map((f) => f.property), ['capabilities']);
  const zygote = sandboxFacts(parseStatus(fx('status-zygote.txt')), CHILD_NS, ROOT_NS);
  assert.equal(isSandboxed(zygote), false, 'the zygote has no seccomp (measured)');
});

test('requirementFor: defaults per type and overrides', () => {
  const k = (n, root = false) => classifyCmdline(fx(`cmdline-${n}.bin`, 'latin1'), root);
  assert.equal(requirementFor(k('renderer')), STRICT);
  assert.equal(requirementFor(k('utility-storage')), STRICT);
  assert.equal(requirementFor(k('utility-network')), null, 'sandbox type none');
  assert.equal(requirementFor(k('gpu')), null);
  assert.equal(requirementFor(k('zygote')), null);
  assert.equal(requirementFor(k('browser', true)), null);
  assert.deepEqual(requirementFor(k('gpu'), { 'gpu-process': { noNewPrivs: true } }), { noNewPrivs: true });
  assert.equal(requirementFor(k('renderer'), { renderer: null }), null);
  assert.deepEqual(requirementFor(k('utility-network'), { 'utility:none': { seccomp: true } }), { seccomp: true });
});

test('descendantsFromLinks: the captured tree (crashpad is re-parented to init, not a descendant)', () => {
  const links = NAMES.filter((n) => n !== 'renderer-nosandbox').map((n) => parseStat(fx(`stat-${n}.txt`)));
  const d = descendantsFromLinks(10496, links);
  assert.deepEqual(new Set(d), new Set([10578, 10581, 10613, 10611, 10586, 10619, 10678]));
  assert.ok(d.indexOf(10586) < d.indexOf(10678), 'parents before children');
  assert.ok(!d.includes(10574), 'crashpad handler (ppid 1) is not a descendant');
  assert.deepEqual(descendantsFromLinks(1, [{ pid: 2, ppid: 3 }, { pid: 3, ppid: 2 }]), [], 'a cycle in captured text terminates');
});

test('planChildCode: the captured renderer maps', () => {
  const maps = parseMaps(fx('maps-renderer.txt'));
  const plan = planChildCode(10678, maps, '/usr/lib/chromium/chromium');
  const main = plan.job.regions.filter((r) => r.path === '/usr/lib/chromium/chromium');
  assert.equal(main.length, 1);
  assert.equal(main[0].devMajor, 0xfe);
  assert.equal(main[0].devMinor, 0);
  assert.equal(main[0].ino, 1474692n);
  assert.equal(main[0].fileOffset, 0x2d93000);
  assert.ok(plan.bytes > 200 * 1024 * 1024, `bytes ${plan.bytes}`);
  assert.ok(plan.jitRegions >= 1, 'the V8 code range is classified JIT, never compared');
  for (const r of plan.job.regions) assert.ok(r.path.startsWith('/'), r.path);
});

test('codeObservations: a modified page names pid, type, file, page and byte offset', () => {
  const maps = parseMaps(fx('maps-renderer.txt'));
  const plan = planChildCode(10678, maps, '/usr/lib/chromium/chromium');
  const ri = plan.job.regions.findIndex((r) => r.path === '/usr/lib/chromium/chromium');
  const r = plan.job.regions[ri];
  const res = {
    pid: 10678, ok: true, pages: 0, filePages: 0, pagemapBytes: 0, readBytes: 8192,
    hits: [
      { region: ri, address: r.start + 4096n, fileOffset: r.fileOffset + 4096, state: 'modified', firstDiff: 0x123, diffBytes: 1, fileByte: 0x55, memByte: 0xaa },
      { region: ri, address: r.start + 8192n, fileOffset: r.fileOffset + 8192, state: 'equal' },
    ],
  };
  const obs = codeObservations(plan, res, '10678:31950', 'renderer');
  assert.equal(obs.length, 1, 'an equal page is not a finding');
  const o = obs[0];
  assert.equal(o.kind, 'code-modified');
  assert.equal(o.pid, 10678);
  assert.equal(o.processType, 'renderer');
  assert.equal(o.path, '/usr/lib/chromium/chromium');
  assert.equal(o.offset, r.fileOffset + 4096 + 0x123);
  assert.equal(o.page, Math.floor((r.fileOffset + 4096) / 4096));
  assert.equal(o.address, '0x' + (r.start + 4096n + 0x123n).toString(16));
  assert.deepEqual([o.before, o.after], [0x55, 0xaa]);
  assert.match(o.key, /^tree:code-modified:10678:31950:fe:00:1474692:/);
});

test('fuzz: parseStat and classifyCmdline on arbitrary and mutated real text only throw ProcfsParseError', async () => {
  const { default: fc } = await import('fast-check');
  const lines = NAMES.map((n) => fx(`stat-${n}.txt`));
  const only = (fn, what) => {
    try {
      return fn();
    } catch (e) {
      assert.ok(e instanceof ProcfsParseError, `${what}: threw ${e?.name}: ${e?.message}`);
      return null;
    }
  };
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: fc.constantFrom(...'0123456789 ()SRZa\n'), maxLength: 200 })), (s) => {
      const r = only(() => parseStat(s), JSON.stringify(s));
      if (r) {
        assert.ok(Number.isSafeInteger(r.pid) && r.pid > 0 && /^[0-9]+$/.test(r.startTicks) && Number.isSafeInteger(r.ppid));
      }
      const k = classifyCmdline(s, false); // never throws on a string
      assert.ok(['browser', 'renderer', 'gpu-process', 'utility', 'zygote', 'crashpad-handler', 'other'].includes(k.type));
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.constantFrom(...lines), fc.nat(), fc.string({ unit: 'binary', maxLength: 3 }), (line, at, ch) => {
      const i = at % (line.length + 1);
      const s = line.slice(0, i) + ch + line.slice(i + 1);
      const r = only(() => parseStat(s), JSON.stringify(s));
      if (r) assert.ok(Number.isSafeInteger(r.pid) && /^[0-9]+$/.test(r.startTicks));
    }),
    { numRuns: 3000 },
  );
});
