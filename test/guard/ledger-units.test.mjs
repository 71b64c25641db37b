// FindingsLedger (src/guard/ledger.ts): reconciling observations with the policy, on plain data
// (no timers, no native, no Guard).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FindingsLedger, toFinding, toCheckerError, MAX_CHECKER_ERRORS } from '../../dist/guard/ledger.js';
import { defaultPolicy, ScannerError } from '../../dist/index.js';

const at = new Date('2026-01-02T03:04:05.000Z');
const clock = () => at;
const obs = (key, subsystem = 'kernel', kind = 'tracer-attached', extra = {}) => ({ key, subsystem, kind, detail: `${kind} ${key}`, ...extra });
const fixed = (severity) => ({ classify: () => severity });

test('a new key becomes a finding with an id, the severity and firstSeen', () => {
  const l = new FindingsLedger(fixed('isolate'), clock);
  const r = l.reconcile([obs('k1')], []);
  assert.deepEqual(r.closed, [], 'nothing was open before');
  assert.equal(r.fresh.length, 1, 'one new finding');
  assert.deepEqual(r.fresh[0], { ...obs('k1'), id: 'kernel:tracer-attached:1', severity: 'isolate', firstSeen: at.toISOString() });
  assert.deepEqual(l.findings(), r.fresh, 'the finding is open');
});

test('a known key keeps its id and firstSeen, takes the new detail and severity, and is not fresh again', () => {
  let sev = 'log';
  const l = new FindingsLedger({ classify: () => sev }, clock);
  const first = l.reconcile([obs('k1')], []).fresh[0];
  sev = 'restart';
  const r = l.reconcile([{ ...obs('k1'), detail: 'changed' }], []);
  assert.deepEqual(r.fresh, [], 'an open key is not a new finding');
  const [f] = l.findings();
  assert.equal(f.id, first.id, 'id kept');
  assert.equal(f.firstSeen, first.firstSeen, 'firstSeen kept');
  assert.equal(f.detail, 'changed', 'detail updated');
  assert.equal(f.severity, 'restart', 'severity re-classified');
});

test('a vanished key closes; a key that comes back is a new finding with a new id', () => {
  const l = new FindingsLedger(fixed('log'), clock);
  l.reconcile([obs('a'), obs('b')], []);
  const r = l.reconcile([obs('b')], []);
  assert.deepEqual(r.closed.map((f) => f.key), ['a'], 'a closed');
  assert.deepEqual(l.findings().map((f) => f.key), ['b'], 'b still open');
  const back = l.reconcile([obs('a'), obs('b')], []);
  assert.equal(back.fresh.length, 1, 'a is new again');
  assert.equal(back.fresh[0].id, 'kernel:tracer-attached:3', 'ids are never reused');
});

test('events are transient findings and never stay open', () => {
  const l = new FindingsLedger(fixed('log'), clock);
  const r = l.reconcile([], [obs('e1', 'code', 'code-restored')]);
  assert.equal(r.fresh.length, 1, 'the event is a finding');
  assert.equal(r.fresh[0].transient, true, 'marked transient');
  assert.equal(r.fresh[0].id, 'code:code-restored:1');
  assert.deepEqual(l.findings(), [], 'an event does not stay open');
});

test('events count in the policy context: the default policy escalates on divergent subsystems', () => {
  const l = new FindingsLedger(defaultPolicy(), clock);
  const r = l.reconcile([obs('k', 'kernel', 'some-kind'), obs('l', 'launch', 'other-kind')], [obs('e', 'code', 'mapping-added')]);
  for (const f of r.fresh) assert.equal(f.severity, 'safe-mode', `${f.key}: three subsystems diverge -> safe-mode, got ${f.severity}`);
});

test('a throwing policy changes nothing and throws to the caller', () => {
  let fail = false;
  const l = new FindingsLedger({ classify: () => { if (fail) throw new Error('policy broke'); return 'log'; } }, clock);
  l.reconcile([obs('a')], []);
  fail = true;
  assert.throws(() => l.reconcile([obs('b')], []), /policy broke/, 'the error reaches the caller');
  assert.deepEqual(l.findings().map((f) => f.key), ['a'], 'the open set is unchanged: a not closed, b not added');
});

test('a policy answering an unknown severity is an error, not a finding', () => {
  const l = new FindingsLedger(fixed('panic'), clock);
  assert.throws(() => l.reconcile([obs('a')], []), 'unknown severity rejected');
  assert.deepEqual(l.findings(), []);
});

test('page findings are bounded before they become findings', () => {
  const l = new FindingsLedger(fixed('log'), clock);
  const pages = [];
  for (let p = 0; p < 100; p++) pages.push(obs(`code:page:f@${p}`, 'code', 'code-modified', { path: '/lib/f.so', page: p, evidence: { fileKey: 'f' } }));
  const r = l.reconcile(pages, []);
  assert.ok(r.fresh.length < 20, `100 pages of one file fold to a few findings, got ${r.fresh.length}`);
  assert.ok(r.fresh.some((f) => f.evidence?.aggregated), 'a summary finding carries the rest');
});

test('checker errors: stable code for a ProcguardError, the last MAX_CHECKER_ERRORS kept', () => {
  const l = new FindingsLedger(fixed('log'), clock);
  const e = l.checkerError('code', new ScannerError('sweep failed'));
  assert.deepEqual(e, { subsystem: 'code', code: new ScannerError('x').code, message: 'sweep failed', at: at.toISOString() });
  assert.equal(toCheckerError('tree', 'plain string', at).code, 'ERR_CHECKER', 'anything else is ERR_CHECKER');
  assert.equal(toCheckerError('tree', 'plain string', at).message, 'plain string');
  for (let i = 0; i < MAX_CHECKER_ERRORS + 5; i++) l.checkerError('kernel', new Error(`e${i}`));
  const kept = l.checkerErrors();
  assert.equal(kept.length, MAX_CHECKER_ERRORS, 'bounded');
  assert.equal(kept.at(-1).message, `e${MAX_CHECKER_ERRORS + 4}`, 'the newest is kept');
  kept.pop();
  assert.equal(l.checkerErrors().length, MAX_CHECKER_ERRORS, 'the list handed out is a copy');
});

test('toFinding: id from subsystem, kind and number; transient only when asked', () => {
  const f = toFinding(obs('x', 'launch', 'preload-library'), 'degrade', 7, at, false);
  assert.equal(f.id, 'launch:preload-library:7');
  assert.equal('transient' in f, false, 'no transient field on an open finding');
  assert.equal(toFinding(obs('x'), 'log', 1, at, true).transient, true);
});
