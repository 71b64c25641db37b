// harden() through the public facade, each case in a fresh child process (hardening is
// irreversible). Reports and the real process state read back through the addon are asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon, fixtures, jsonLines, root } from './helpers.mjs';
import { scaled } from '../time-scale.mjs';

const dist = path.join(root, 'dist');
const child = path.join(fixtures, 'harden-child.js');
const linux = process.platform === 'linux';
const skip = !linux ? 'these cases assert Linux steps' : !fs.existsSync(addon) ? `no native build at ${addon}` : false;
const UNSUPPORTED_ON_LINUX = ['deny-attach', 'trace-ctl', 'process-dacl', 'thread-dacl'];

function run(calls, env = {}) {
  const r = spawnSync(process.execPath, [child, dist, JSON.stringify(calls)], {
    // No session bus: these tests are about the steps; the portal warning a desktop bus adds has its own tests (portals.test.mjs).
    encoding: 'utf8', timeout: scaled(20000), env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:', ...env },
  });
  assert.equal(r.status, 0, `child failed (status ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}
const step = (report, id) => report.steps.find((s) => s.id === id);
const core00 = (st) => st.coreSoft === 0 && st.coreHard === 0;

function assertLinuxUnsupported(report) {
  for (const id of UNSUPPORTED_ON_LINUX) {
    assert.equal(step(report, id).status, 'unsupported', `${id} must be unsupported on Linux`);
    assert.ok(step(report, id).detail.length > 0, `${id} needs a detail`);
  }
}

test('default harden(): applies and verifies dumpable and core-limit; second call reports already', { skip }, () => {
  const out = run([null, {}]);
  assert.equal(out.before.dumpable, 1, 'child starts dumpable');
  const [first, second] = out.calls;
  const r = first.report;
  assert.equal(r.platform, 'linux');
  assert.equal(r.dryRun, false);
  assert.deepEqual(r.steps.map((s) => s.id), ['dumpable', 'core-limit', 'deny-attach', 'trace-ctl', 'process-dacl', 'thread-dacl'], 'step order');
  assert.deepEqual(step(r, 'dumpable'), { id: 'dumpable', status: 'applied', detail: 'PR_SET_DUMPABLE 0 (was 1); read back 0', verified: true });
  const core = step(r, 'core-limit');
  assert.equal(core.status, core00(out.before) ? 'already' : 'applied', `core-limit: ${JSON.stringify(core)}`);
  assert.equal(core.verified, true, 'core-limit read back');
  assert.match(core.detail, /read back 0\/0|already 0\/0/, 'core-limit detail');
  assertLinuxUnsupported(r);
  assert.equal(r.verified, true, 'report verified');
  assert.deepEqual(r.tracerBefore, { state: 'none', detail: 'TracerPid 0 on every thread (/proc/self/task/*/status)' });
  assert.deepEqual(r.warnings, []);
  assert.equal(first.state.dumpable, 0, 'PR_GET_DUMPABLE after harden');
  assert.equal(first.state.coreSoft, 0, 'RLIMIT_CORE soft after harden');
  assert.equal(first.state.coreHard, 0, 'RLIMIT_CORE hard after harden');

  const r2 = second.report;
  assert.deepEqual(step(r2, 'dumpable'), { id: 'dumpable', status: 'already', detail: 'PR_GET_DUMPABLE is already 0', verified: true });
  assert.deepEqual(step(r2, 'core-limit'), { id: 'core-limit', status: 'already', detail: 'RLIMIT_CORE is already 0/0', verified: true });
  assert.equal(r2.verified, true, 'second report verified');
  assert.deepEqual(second.state, first.state, 'second call changes nothing');
});

test('dry run reports what it would do and changes nothing', { skip }, () => {
  const out = run([{ dryRun: true }, null, { dryRun: true }]);
  const [dry, real, dryAfter] = out.calls;
  assert.equal(dry.report.dryRun, true);
  assert.deepEqual(step(dry.report, 'dumpable'), {
    id: 'dumpable', status: 'skipped', detail: 'dry run: would call prctl(PR_SET_DUMPABLE, 0) (PR_GET_DUMPABLE is now 1)',
  });
  if (!core00(out.before)) {
    const c = step(dry.report, 'core-limit');
    assert.equal(c.status, 'skipped', 'core-limit in dry run');
    assert.match(c.detail, /^dry run: would set RLIMIT_CORE to 0\/0 \(now \S+\/\S+\)$/);
  }
  assertLinuxUnsupported(dry.report);
  assert.equal(dry.report.verified, false, 'a dry run on a fresh process has nothing in force');
  assert.deepEqual(dry.state, out.before, 'dry run must not change PR_GET_DUMPABLE or RLIMIT_CORE');
  assert.equal(dry.state.dumpable, 1, 'still dumpable after dry run');

  assert.equal(real.state.dumpable, 0, 'the real call after the dry run applies');
  assert.equal(step(dryAfter.report, 'dumpable').status, 'already', 'dry run after harden reports already');
  assert.equal(step(dryAfter.report, 'core-limit').status, 'already', 'dry run after harden reports already');
  assert.equal(dryAfter.report.verified, true, 'dry run after harden: in force and verified');
});

test('skip: dumpable', { skip }, () => {
  const out = run([{ skip: ['dumpable'] }]);
  const { report, state } = out.calls[0];
  assert.deepEqual(step(report, 'dumpable'), { id: 'dumpable', status: 'skipped', detail: 'skipped: listed in options.skip' });
  assert.equal(step(report, 'core-limit').verified, true);
  assert.equal(state.dumpable, 1, 'skipped dumpable stays 1');
  assert.ok(core00(state), `core limit 0/0 (got ${state.coreSoft}/${state.coreHard})`);
  assert.equal(report.verified, true, 'the steps that ran are verified');
});

test('skip: core-limit', { skip }, () => {
  const out = run([{ skip: ['core-limit'] }]);
  const { report, state } = out.calls[0];
  assert.deepEqual(step(report, 'core-limit'), { id: 'core-limit', status: 'skipped', detail: 'skipped: listed in options.skip' });
  assert.equal(step(report, 'dumpable').status, 'applied');
  assert.equal(state.dumpable, 0);
  assert.equal(state.coreSoft, out.before.coreSoft, 'core soft limit unchanged');
  assert.equal(state.coreHard, out.before.coreHard, 'core hard limit unchanged');
});

test('skip: every step leaves the process unchanged and unverified; unsupported steps stay unsupported', { skip }, () => {
  const out = run([{ skip: ['dumpable', 'core-limit', 'deny-attach', 'trace-ctl', 'process-dacl', 'thread-dacl'] }]);
  const { report, state } = out.calls[0];
  assert.equal(step(report, 'dumpable').status, 'skipped');
  assert.equal(step(report, 'core-limit').status, 'skipped');
  assertLinuxUnsupported(report);
  assert.equal(report.verified, false, 'nothing in force: not verified');
  assert.deepEqual(state, out.before, 'nothing changed');
});

test("crashReporter 'keep-dumps' keeps the process dumpable but still zeroes the core limit", { skip }, () => {
  const out = run([{ crashReporter: 'keep-dumps' }]);
  const { report, state } = out.calls[0];
  assert.deepEqual(step(report, 'dumpable'), {
    id: 'dumpable', status: 'skipped',
    detail: "skipped: crashReporter 'keep-dumps' leaves the process readable by an out-of-process crash handler",
  });
  assert.equal(step(report, 'core-limit').verified, true);
  assertLinuxUnsupported(report);
  assert.ok(report.warnings.some((w) => w.startsWith("crashReporter 'keep-dumps'")), `warnings: ${report.warnings}`);
  assert.equal(state.dumpable, 1, 'keep-dumps: still dumpable');
  assert.ok(core00(state), 'keep-dumps: core limit 0/0');
});

test("crashReporter 'default' is the full hardening", { skip }, () => {
  const { report, state } = run([{ crashReporter: 'default' }]).calls[0];
  assert.equal(step(report, 'dumpable').status, 'applied');
  assert.equal(state.dumpable, 0);
  assert.deepEqual(report.warnings, []);
});

test('a custom dacl is validated and ignored with a warning off Windows', { skip }, () => {
  const { report, state } = run([{ dacl: [{ type: 'allow', sid: 'USER', access: ['terminate'] }] }]).calls[0];
  assert.ok(report.warnings.includes('options.dacl is ignored on linux (Windows only)'), `warnings: ${report.warnings}`);
  assert.equal(step(report, 'process-dacl').status, 'unsupported');
  assert.equal(state.dumpable, 0);
});

test('bad options throw TypeError/RangeError before anything changes', { skip }, () => {
  const cases = [
    [42, 'TypeError', 'harden: options must be an object'],
    [[], 'TypeError', 'harden: options must be an object'],
    [{ dryrun: true }, 'TypeError', 'harden: unknown option "dryrun" (expected dryRun, skip, crashReporter, dacl, portals)'],
    [{ dryRun: 'yes' }, 'TypeError', 'harden: options.dryRun must be a boolean'],
    [{ skip: 'dumpable' }, 'TypeError', 'harden: options.skip must be an array of step ids'],
    [{ skip: [1] }, 'TypeError', 'harden: options.skip must be an array of step ids'],
    [{ skip: ['ptrace'] }, 'RangeError', 'harden: unknown step id "ptrace" in options.skip (expected one of dumpable, core-limit, deny-attach, trace-ctl, process-dacl, thread-dacl)'],
    [{ crashReporter: true }, 'TypeError', "harden: options.crashReporter must be 'default' or 'keep-dumps'"],
    [{ crashReporter: 'minidump' }, 'RangeError', `harden: options.crashReporter must be 'default' or 'keep-dumps', got "minidump"`],
    [{ dacl: [] }, 'RangeError', 'harden: options.dacl must not be empty (an empty DACL denies everyone, even terminate)'],
  ];
  const out = run(cases.map((c) => c[0]));
  cases.forEach(([opts, name, message], i) => {
    const c = out.calls[i];
    assert.ok(c.error, `${JSON.stringify(opts)} must throw, got ${JSON.stringify(c.report)}`);
    assert.equal(c.error.name, name, `${JSON.stringify(opts)}: error class`);
    assert.equal(c.error.message, message, `${JSON.stringify(opts)}: message`);
    assert.deepEqual(c.state, out.before, `${JSON.stringify(opts)}: state must be unchanged`);
  });
});

test('an unsupported OS gets every step unsupported, never a throw', { skip }, () => {
  const out = run([null], { PG_FAKE_PLATFORM: 'aix' });
  const c = out.calls[0];
  assert.ok(c.report, `must not throw: ${JSON.stringify(c.error)}`);
  assert.equal(c.report.platform, 'aix');
  assert.deepEqual(c.report.steps.map((s) => s.status), Array(6).fill('unsupported'));
  assert.equal(c.report.verified, false);
  assert.equal(c.report.tracerBefore.state, 'unsupported');
  assert.deepEqual(c.report.warnings, ['harden: aix is not supported; nothing was changed']);
  assert.deepEqual(c.state, out.before, 'nothing changed');
});

for (const which of ['main thread', 'another thread']) test(`a tracer attached before harden() (${which}) is reported with a warning and verified is false`, { skip: skip || (!fs.existsSync('/usr/bin/python3') && 'no python3') }, async () => {
  const t = jsonLines(process.execPath, [child, dist, JSON.stringify([null]), 'wait']);
  let tracer;
  try {
    const ready = await t.next();
    assert.equal(ready.phase, 'ready', JSON.stringify(ready));
    // A tracer may seize one non-leader thread only: harden() reads every thread's TracerPid.
    const tid = which === 'main thread' ? ready.pid : fs.readdirSync(`/proc/${ready.pid}/task`).map(Number).find((x) => x !== ready.pid);
    tracer = jsonLines('/usr/bin/python3', [path.join(fixtures, 'tracer.py'), String(tid)]);
    const att = await tracer.next();
    assert.equal(att.attached, true, `tracer could not attach: ${JSON.stringify(att)}`);
    t.send('go');
    const out = await t.next();
    const r = out.calls[0].report;
    assert.ok(r, `harden threw: ${JSON.stringify(out.calls[0])}`);
    assert.deepEqual(r.tracerBefore, { state: 'attached', tracerPid: att.tracer, detail: `TracerPid ${att.tracer} on thread ${tid} (/proc/self/task/*/status)` });
    assert.equal(r.verified, false, 'not verified while a tracer is attached: it keeps its access');
    assert.ok(
      r.warnings.includes(`a tracer/debugger (pid ${att.tracer}) was attached before harden(); hardening does not detach it and it keeps full access to this process`),
      `warnings: ${JSON.stringify(r.warnings)}`,
    );
    assert.equal(step(r, 'dumpable').status, 'applied', 'the steps still run');
  } finally {
    await t.close();
    if (tracer) await tracer.close();
  }
});
