// The pure pieces of the Linux tree monitor's loops on real captured /proc text of a headless chromium
// tree (test/fixtures/tree, uid 65534, Linux 6.18): the poll's change test on the security lines and
// its "entered the sandbox" comparison, a thread's TracerPid, the code pass's executable lines of a
// maps text, and the observations of a tracked process (sandbox change, unsandboxed, tracer, claim).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const dist = (p) => require(path.join(root, 'dist', ...p.split('/')));
const { parseStat } = dist('procfs/stat.js');
const { parseStatus } = dist('procfs/status.js');
const { parseMaps } = dist('procfs/maps.js');
const { classifyCmdline } = dist('tree/cmdline.js');
const { sandboxFacts, processKey } = dist('tree/snapshot.js');
const { sandboxSignature, STRICT } = dist('tree/policy.js');
const { quickLines, strengthened, threadTracerPid } = dist('tree/poll.js');
const { execLines } = dist('tree/code-pass.js');
const { newTracked } = dist('tree/tracked.js');
const { childObservations, sandboxChanges, processLabel } = dist('tree/observe.js');

const fx = (name, enc = 'utf8') => fs.readFileSync(path.join(root, 'test', 'fixtures', 'tree', name), enc);
const ROOT_NS = { user: 'user:[4026531837]', pid: 'pid:[4026531836]', net: 'net:[4026531833]' };
const CHILD_NS = { user: 'user:[4026532176]', pid: 'pid:[4026532251]', net: 'net:[4026532180]' };
/** The subsystem of the tree's own findings about a child (its sandbox, its tracer, its limits). */
const TREE = 'tree';

const facts = (name, ns) => sandboxFacts(parseStatus(fx(`status-${name}.txt`)), ns, ROOT_NS);
const sandboxed = facts('renderer', CHILD_NS);
const noSandbox = facts('renderer-nosandbox', ROOT_NS);
// The zygote's first fork before it drops into seccomp: own namespaces, no filter yet.
const entering = facts('zygote-init', CHILD_NS);

/** A tracked renderer from the captured stat, status and cmdline, settled with `base` as its baseline. */
function trackedRenderer(base, now) {
  const stat = parseStat(fx('stat-renderer.txt'));
  const snap = {
    pid: stat.pid,
    ppid: stat.ppid,
    startTicks: stat.startTicks,
    key: processKey(stat.pid, stat.startTicks),
    kind: classifyCmdline(fx('cmdline-renderer.bin', 'latin1'), false),
    exe: '/usr/lib/chromium/chromium',
    comm: stat.comm,
    status: parseStatus(fx('status-renderer.txt')),
    ns: CHILD_NS,
  };
  const t = newTracked(snap, now, STRICT, null);
  t.baseFacts = base;
  t.baseSig = sandboxSignature(base);
  return t;
}

test('quickLines: the six security lines of a captured status, and only a change of them changes it', () => {
  const text = fx('status-renderer.txt');
  const q = quickLines(text);
  assert.equal(q, 'TracerPid:\t0;Seccomp:\t2;Seccomp_filters:\t1;NoNewPrivs:\t1;CapEff:\t0000000000000000;CapPrm:\t0000000000000000;', `quick lines: ${JSON.stringify(q)}`);
  const rss = text.replace(/\nVmRSS:\s+[0-9]+/, '\nVmRSS:\t999999');
  assert.notEqual(rss, text, 'the fixture has a VmRSS line to change');
  assert.equal(quickLines(rss), q, 'a memory counter is not a security line');
  assert.notEqual(quickLines(text.replace('\nTracerPid:\t0', '\nTracerPid:\t4242')), q, 'a tracer changes the quick lines');
  assert.notEqual(quickLines(fx('status-renderer-nosandbox.txt')), q, 'seccomp 0 differs from seccomp 2');
  // The last line without its newline still counts, a missing line is left out.
  assert.equal(quickLines('Name:\tx\nSeccomp:\t2'), 'Seccomp:\t2;');
  assert.equal(quickLines(''), '');
});

test('strengthened: entering the sandbox is not a change; leaving it or trading one failure for another is', () => {
  assert.equal(strengthened(entering, sandboxed), true, 'seccomp came on: the zygote fork entered the sandbox');
  assert.equal(strengthened(noSandbox, sandboxed), true, 'seccomp and namespaces came on');
  assert.equal(strengthened(noSandbox, entering), true, 'namespaces came on, seccomp still off: fewer failures, none new');
  assert.equal(strengthened(sandboxed, entering), false, 'seccomp went off');
  assert.equal(strengthened(entering, noSandbox), false, 'the namespaces went');
  assert.equal(strengthened(sandboxed, sandboxed), false, 'no change');
  assert.equal(strengthened(entering, { ...sandboxed, noNewPrivs: false }), false, 'seccomp came on but NoNewPrivs went off: not a strengthening');
});

test('threadTracerPid: the tracer of a thread from its status text', () => {
  const text = fx('status-renderer.txt');
  assert.equal(threadTracerPid(text), null, 'TracerPid 0: no tracer');
  assert.equal(threadTracerPid(text.replace('\nTracerPid:\t0', '\nTracerPid:\t31337')), 31337);
  assert.equal(threadTracerPid(text.slice(0, 20)), null, 'a cut text without the line: no tracer');
});

test('execLines: the executable mappings of the captured renderer maps, nothing else', () => {
  const text = fx('maps-renderer.txt');
  const exec = execLines(text);
  const all = parseMaps(text);
  const kept = parseMaps(exec);
  assert.ok(kept.length > 10, `executable mappings kept: ${kept.length}`);
  assert.equal(kept.length, all.filter((m) => m.perms[2] === 'x').length, 'every executable mapping is kept');
  assert.ok(kept.every((m) => m.perms[2] === 'x'), 'only executable mappings are kept');
  assert.ok(exec.endsWith('\n'), 'each kept line keeps its newline');
  const last = '7f0000000000-7f0000001000 r-xp 00000000 00:00 0';
  assert.equal(execLines(`7f0000001000-7f0000002000 rw-p 00000000 00:00 0\n${last}`), last, 'a last line without a newline is kept whole');
  assert.equal(execLines('7f0000000000-7f0000001000 rw-p 00000000 00:00 0\ngarbage\n\n'), '', 'no executable line');
});

test('sandboxChanges: the facts that differ, without the tracer', () => {
  assert.deepEqual(sandboxChanges(sandboxed, noSandbox), ['seccomp', 'seccompFilters', 'ownUserNs', 'ownPidNs', 'ownNetNs']);
  assert.deepEqual(sandboxChanges(sandboxed, entering), ['seccomp', 'seccompFilters']);
  assert.deepEqual(sandboxChanges(sandboxed, { ...sandboxed, tracerPid: 77 }), [], 'a tracer alone is not a sandbox change');
  assert.deepEqual(sandboxChanges(sandboxed, sandboxed), []);
});

test('childObservations: a settled renderer that lost its sandbox is unsandboxed and changed, subsystem of the tree', () => {
  const t = trackedRenderer(sandboxed, noSandbox);
  const obs = childObservations(t, undefined, () => null);
  const kinds = obs.map((o) => o.kind).sort();
  assert.deepEqual(kinds, ['child-sandbox-changed', 'child-unsandboxed'], `observations: ${JSON.stringify(obs)}`);
  for (const o of obs) {
    assert.equal(o.subsystem, TREE, `${o.kind}: subsystem ${o.subsystem}`);
    assert.equal(o.pid, 10678, `${o.kind}: pid`);
    assert.equal(o.processType, 'renderer', `${o.kind}: processType`);
    assert.ok(o.key.endsWith(`:${t.snap.key}`), `${o.kind}: keyed by pid + start time: ${o.key}`);
  }
  const changed = obs.find((o) => o.kind === 'child-sandbox-changed');
  assert.match(changed.detail, /seccomp 2 -> 0, seccompFilters 1 -> 0, ownUserNs true -> false, ownPidNs true -> false, ownNetNs true -> false$/, changed.detail);
  assert.deepEqual([changed.before, changed.after], [sandboxed, noSandbox], 'before and after are the captured facts');
  const unsandboxed = obs.find((o) => o.kind === 'child-unsandboxed');
  assert.deepEqual(unsandboxed.evidence.failed, ['seccomp', 'namespace']);
});

test('childObservations: a renderer that entered its sandbox after it settled has no finding once the baseline moved', () => {
  // The poll moves the baseline when strengthened() (a young process): then nothing is open.
  const t = trackedRenderer(sandboxed, sandboxed);
  assert.deepEqual(childObservations(t, undefined, () => null), [], 'sandboxed at its baseline: nothing open');
  // Before it settles, nothing is judged, whatever its facts.
  const young = trackedRenderer(sandboxed, noSandbox);
  young.baseSig = null;
  young.baseFacts = null;
  assert.deepEqual(childObservations(young, undefined, () => null), [], 'not settled: not judged');
});

test('childObservations: a tracer names its pid, comm and thread; a claim mismatch is electron; code findings pass through', () => {
  const t = trackedRenderer(sandboxed, { ...sandboxed, tracerPid: 4242 });
  const asked = [];
  const [tr] = childObservations(t, undefined, (pid) => (asked.push(pid), 'gdb'));
  assert.equal(tr.kind, 'child-tracer-attached');
  assert.equal(tr.subsystem, TREE);
  assert.equal(tr.detail, 'renderer pid 10678: traced by pid 4242 (gdb)');
  assert.deepEqual(asked, [4242], 'the tracer comm is asked for the tracer pid');
  const thread = trackedRenderer(sandboxed, sandboxed);
  thread.threadTracer = { tid: 10690, pid: 4243 };
  const [th] = childObservations(thread, undefined, () => null);
  assert.equal(th.detail, 'renderer pid 10678: traced by pid 4243 on thread 10690');
  assert.deepEqual(th.evidence, { tracerPid: 4243, tracerComm: null, tid: 10690 });

  const claim = { type: 'renderer', sandboxed: true, title: 'Vault', url: 'app://vault' };
  const lying = trackedRenderer(noSandbox, noSandbox);
  lying.required = null; // not required: only the claim disagrees
  const [mm] = childObservations(lying, claim, () => null);
  assert.equal(mm.kind, 'child-claim-mismatch');
  assert.equal(mm.subsystem, 'electron', 'what Electron says is an electron finding');
  assert.equal(mm.detail, "renderer pid 10678 'Vault' (app://vault): Electron says sandboxed, the kernel shows not sandboxed (seccomp, namespace)");
  assert.equal(processLabel(lying.snap, claim), "'Vault' (app://vault)");
  assert.equal(processLabel(lying.snap, undefined), 'renderer');

  const limited = trackedRenderer(sandboxed, sandboxed);
  limited.limited = 'its memory map is larger than 10 bytes (maxMapsBytes): its code is not checked';
  const code = { key: `tree:code-modified:${limited.snap.key}:fe:00:1:0`, subsystem: 'code', kind: 'code-modified', detail: 'd' };
  limited.code.set(code.key, code);
  const out = childObservations(limited, undefined, () => null);
  assert.deepEqual(out.map((o) => [o.kind, o.subsystem]), [['tree-limit-reached', TREE], ['code-modified', 'code']], 'the limit, then the code finding as the code pass made it');
});
