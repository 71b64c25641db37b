// Policy on real observations (launch audit + kernel monitor in a child) and the finding logger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { dist, children, hooksPath, hooksMissing, runJsonChild } from '../kernel/helpers.mjs';
import { defaultPolicy, classifyAll, overallSeverity, countBySubsystem, runAction, severityRank } from '../../dist/policy.js';
import { createFindingLogger } from '../../dist/logging.js';
import { launchVectors } from '../../dist/launch/audit.js';

const require = createRequire(import.meta.url);

async function realObservations(withLaunch) {
  // Start from a clean environment: this machine may set e.g. NODE_EXTRA_CA_CERTS.
  const env = { ...process.env };
  for (const v of launchVectors()) if (v.source === 'env') delete env[v.name];
  const { lines } = await runJsonChild([path.join(children, 'policy-child.cjs'), dist, hooksPath, ...(withLaunch ? ['--no-sandbox'] : [])], { env });
  return lines[0];
}

test('default ladder on real observations: one subsystem -> log, two -> degrade, three -> safe-mode', { skip: hooksMissing }, async () => {
  const launchOnly = (await realObservations(true)).launch;
  assert.deepEqual(launchOnly.map((o) => o.key), ['launch:argv:--no-sandbox'], 'precondition: one launch observation');
  const one = classifyAll(defaultPolicy(), launchOnly);
  assert.deepEqual(one.map((f) => f.severity), ['log'], 'one diverged subsystem is log');
  assert.equal(overallSeverity(one), 'log');

  const { kernel, launch } = await realObservations(true);
  assert.deepEqual(kernel.map((o) => o.key), ['kernel:no-new-privs-changed'], 'precondition: one kernel observation');
  const open = [...kernel, ...launch];
  assert.deepEqual(countBySubsystem(open), { code: 0, kernel: 1, launch: 1, electron: 0, tree: 0 });
  const two = classifyAll(defaultPolicy(), open);
  assert.deepEqual(two.map((f) => f.severity), ['degrade', 'degrade'], 'two diverged subsystems: degrade');
  assert.equal(overallSeverity(two), 'degrade');

  // A third subsystem (a code finding shaped as the code monitor emits it) -> safe-mode.
  const code = { key: 'code:code-modified:x', subsystem: 'code', kind: 'code-modified', detail: 'page changed' };
  const three = classifyAll(defaultPolicy(), [...open, code]);
  assert.deepEqual(new Set(three.map((f) => f.severity)), new Set(['safe-mode']), 'three diverged subsystems: safe-mode');

  // The kernel observation alone is log again.
  assert.equal(classifyAll(defaultPolicy(), kernel)[0].severity, 'log');
});

test('per-kind overrides and a replaced policy on real observations', { skip: hooksMissing }, async () => {
  const { kernel, launch } = await realObservations(true);
  const open = [...kernel, ...launch];
  const p = defaultPolicy({ overrides: { 'no-new-privs-changed': 'isolate', 'launch:sandbox-disabled': 'safe-mode' } });
  const f = classifyAll(p, open);
  assert.equal(f.find((x) => x.kind === 'no-new-privs-changed').severity, 'isolate', 'override by kind');
  assert.equal(f.find((x) => x.kind === 'sandbox-disabled').severity, 'safe-mode', 'override by subsystem:kind');
  assert.equal(overallSeverity(f), 'safe-mode');

  const onlyKernelIsolate = classifyAll(defaultPolicy({ overrides: { 'no-new-privs-changed': 'isolate' } }), open);
  assert.equal(onlyKernelIsolate.find((x) => x.subsystem === 'launch').severity, 'degrade', 'non-overridden kinds keep the ladder');
  assert.equal(overallSeverity(onlyKernelIsolate), 'degrade', 'degrade outranks isolate');

  const custom = { classify: (o) => (o.subsystem === 'kernel' ? 'restart' : 'log') };
  assert.deepEqual(classifyAll(custom, open).map((x) => x.severity), ['restart', 'log'], 'replaced policy decides');
  assert.throws(() => classifyAll({ classify: () => 'panic' }, open), RangeError, 'a replaced policy must answer a known severity');
  assert.throws(() => defaultPolicy({ overrides: { x: 'kill' } }), RangeError, 'bad override severity');
});

test('overallSeverity, severityRank and actions', async () => {
  assert.equal(overallSeverity([]), null);
  assert.deepEqual(['log', 'isolate', 'restart', 'degrade', 'safe-mode'].map(severityRank), [0, 1, 2, 3, 4]);
  const finding = { id: 'kernel:x:1', key: 'k', subsystem: 'kernel', kind: 'x', detail: '', severity: 'degrade', firstSeen: new Date().toISOString() };
  const got = [];
  assert.equal(await runAction({}, finding), false, 'default: no action');
  assert.equal(await runAction({ degrade: (f) => got.push(f.id) }, finding), true);
  assert.deepEqual(got, ['kernel:x:1'], 'degrade action ran with the finding');
  const errs = [];
  await runAction({ degrade: () => { throw new Error('boom'); } }, finding, (e) => errs.push(e.message));
  assert.deepEqual(errs, ['boom'], 'a throwing action is reported, not propagated');
});

test('finding logger: one structured line per finding, console-like and electron-log scope', { skip: hooksMissing }, async () => {
  const { kernel, launch } = await realObservations(true);
  const findings = classifyAll(defaultPolicy(), [...kernel, ...launch]).map((o, i) => ({ ...o, id: `${o.subsystem}:${o.kind}:${i}`, firstSeen: '2026-01-01T00:00:00.000Z' }));

  const calls = [];
  const consoleLike = { info: (...a) => calls.push(['info', ...a]), warn: (...a) => calls.push(['warn', ...a]), error: (...a) => calls.push(['error', ...a]) };
  const lg = createFindingLogger(consoleLike);
  for (const f of findings) lg.finding(f);
  assert.equal(calls.length, 2, 'one line per finding');
  for (const [level, line] of calls) {
    assert.equal(level, 'error', 'degrade logs at error level');
    assert.ok(line.startsWith('procguard {'), 'prefixed JSON without a scope');
    assert.ok(!line.includes('\n'), 'one line');
    const rec = JSON.parse(line.slice('procguard '.length));
    assert.equal(rec.event, 'finding');
    assert.ok(findings.some((f) => f.id === rec.id && f.kind === rec.kind), 'line carries the finding id and kind');
  }
  const nnp = JSON.parse(calls.find(([, l]) => l.includes('no-new-privs'))[1].slice(10));
  assert.deepEqual([nnp.before, nnp.after], [false, true], 'before/after in the line');

  const kvCalls = [];
  createFindingLogger({ log: (l) => kvCalls.push(l) }, { format: 'kv' }).finding(findings[0]);
  assert.match(kvCalls[0], /^procguard event=finding id=\S+ severity=degrade subsystem=\S+ kind=\S+/, 'key=value format via log()');

  const log = require('electron-log/node');
  log.transports.file.level = false;
  log.transports.console.level = false;
  const got = [];
  const transport = (m) => got.push(m);
  transport.level = 'debug';
  transport.transforms = [];
  log.transports.capture = transport;
  const elog = createFindingLogger(log);
  elog.finding({ ...findings[0], severity: 'log' });
  elog.checkerError('kernel', Object.assign(new Error('cannot read /proc/self/status'), { code: 'ERR_PROCFS_UNREADABLE' }));
  assert.equal(got.length, 2);
  assert.deepEqual(got.map((m) => [m.scope, m.level]), [['procguard', 'info'], ['procguard', 'error']], 'electron-log scope and levels');
  assert.equal(JSON.parse(got[0].data[0]).kind, findings[0].kind, 'no prefix under a scope: plain JSON');
  assert.equal(JSON.parse(got[1].data[0]).code, 'ERR_PROCFS_UNREADABLE');
  assert.throws(() => createFindingLogger({}), TypeError, 'an object without log methods is rejected');
});
