// A child node process runs the KernelMonitor and changes its own isolation state through real
// syscalls (prctl, seccomp, setrlimit, cgroup.procs): each change gives its observation with
// before/after, persisting ones stay open, and restored ones close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dist, children, hooksPath, hooksMissing, runJsonChild, byKey } from './helpers.mjs';

const notRoot = process.getuid() !== 0 ? 'needs root (CAP_SETPCAP for PR_CAPBSET_DROP, cgroup moves)' : false;

/** A cgroup directory we can create and move a process into, or null. */
function makeTestCgroup() {
  for (const base of ['/sys/fs/cgroup/pids', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    const dir = path.join(base, `procguard-test-${process.pid}`);
    try {
      fs.mkdirSync(dir);
      if (fs.existsSync(path.join(dir, 'cgroup.procs'))) return dir;
      fs.rmdirSync(dir);
    } catch {
      /* not writable here: try the next hierarchy */
    }
  }
  return null;
}

test('seccomp, NoNewPrivs, bounding-cap drop, dumpable, core limit and cgroup each give their observation', { skip: hooksMissing || notRoot }, async () => {
  const cg = makeTestCgroup();
  let lines;
  try {
    ({ lines } = await runJsonChild([path.join(children, 'prctl-child.cjs'), dist, hooksPath, ...(cg ? [path.join(cg, 'cgroup.procs')] : [])]));
  } finally {
    if (cg) fs.rmdirSync(cg); // the child has exited, so the cgroup is empty
  }
  const step = (name) => {
    const l = lines.find((x) => x.step === name);
    assert.ok(l, `child printed no line for step ${name}: ${JSON.stringify(lines)}`);
    return l.observations;
  };
  const base = lines[0].baseline;
  assert.deepEqual(step('baseline'), [], 'a check right after the baseline reports nothing');
  assert.equal(base.dumpable, 1, 'baseline dumpable read through processState');
  assert.equal(base.noNewPrivs, false, 'precondition: the test runs without NoNewPrivs');

  const nnp = step('no-new-privs');
  assert.deepEqual(nnp.map((o) => o.key), ['kernel:no-new-privs-changed'], 'only the NoNewPrivs change is reported');
  assert.deepEqual([nnp[0].before, nnp[0].after, nnp[0].subsystem], [false, true, 'kernel']);

  const sc = byKey(step('seccomp'), 'kernel:seccomp-changed');
  assert.ok(sc, 'seccomp filter install reported');
  assert.deepEqual(sc.before, base.seccomp, 'before is the baseline seccomp state');
  assert.equal(sc.after.mode, 2, 'after: filter mode');
  assert.equal(sc.after.filters, base.seccomp.filters + 1, 'after: one more filter');
  assert.ok(byKey(step('seccomp'), 'kernel:no-new-privs-changed'), 'NoNewPrivs finding persists (still open)');

  const cap = byKey(step('drop-cap'), 'kernel:capabilities-changed:bnd');
  assert.ok(cap, 'bounding-set drop reported');
  assert.deepEqual(cap.evidence.removed, ['CAP_NET_RAW'], 'names the dropped capability');
  assert.deepEqual(cap.evidence.added, []);
  assert.equal(cap.before, base.capabilities.bnd, 'before is the baseline mask');
  assert.equal(BigInt('0x' + cap.before) & ~BigInt('0x' + cap.after), 1n << 13n, 'after lacks exactly bit 13');
  assert.equal(byKey(step('drop-cap'), 'kernel:capabilities-changed:eff'), undefined, 'effective set unchanged');

  const dump = byKey(step('dumpable-0'), 'kernel:dumpable-changed');
  assert.deepEqual([dump?.before, dump?.after], [1, 0], 'dumpable 1 -> 0');
  const core = byKey(step('core-limit'), 'kernel:core-limit-changed');
  assert.deepEqual(core?.before, base.coreLimit, 'core limit before = baseline');
  assert.deepEqual(core?.after, { soft: '4096', hard: base.coreLimit.hard }, 'core limit after');

  const afterDumpRestore = step('dumpable-restore');
  assert.equal(byKey(afterDumpRestore, 'kernel:dumpable-changed'), undefined, 'dumpable back to baseline: closed');
  assert.ok(byKey(afterDumpRestore, 'kernel:core-limit-changed'), 'core limit still open');
  const afterCoreRestore = step('core-limit-restore');
  assert.equal(byKey(afterCoreRestore, 'kernel:core-limit-changed'), undefined, 'core limit back to baseline: closed');
  assert.deepEqual(
    afterCoreRestore.map((o) => o.key).sort(),
    ['kernel:capabilities-changed:bnd', 'kernel:no-new-privs-changed', 'kernel:seccomp-changed'],
    'irreversible changes stay open, nothing else',
  );

  if (cg) {
    const moved = byKey(step('cgroup'), 'kernel:cgroup-changed');
    assert.ok(moved, 'moving to another cgroup is reported');
    const name = path.basename(cg);
    assert.ok(Object.values(moved.after).some((p) => p.endsWith(`/${name}`)), `after names the new cgroup ${name}`);
    assert.ok(moved.evidence.hierarchies.length === 1, 'exactly one hierarchy changed');
  }
});
