// Status building (src/guard/status.ts) on plain data: plain() keeps what JSON keeps, and a built
// Status survives a JSON round trip unchanged (it crosses IPC and goes into logs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plain, buildStatus, loopsStatus, overallState } from '../../dist/guard/status.js';

test('plain() has JSON semantics without the string', () => {
  const when = new Date('2026-01-01T00:00:00.000Z');
  const v = { a: 1, u: undefined, f: () => 1, s: Symbol('x'), d: when, n: NaN, i: Infinity, arr: [1, undefined, () => 1, { b: undefined, c: 'x' }], nested: { deep: [null, true] } };
  const out = plain(v);
  assert.deepStrictEqual(out, JSON.parse(JSON.stringify(v)), 'same result as a JSON round trip');
  assert.notEqual(out.nested, v.nested, 'a copy, not the same object');
  assert.throws(() => plain({ big: 1n }), TypeError, 'a bigint cannot cross IPC: TypeError as in JSON');
});

const loopsIn = (over = {}) => ({
  periodMs: 1000,
  code: { progress: { passActive: true, pagesDone: 5, pagesTotal: 10, lastProgressAt: Date.parse('2026-01-01T00:00:01.000Z'), lastProgressAgeMs: 3 }, stallLimitMs: 7000, sentinel: { state: 'running', lastTickAt: Date.parse('2026-01-01T00:00:02.000Z'), lastTickAgeMs: 1 }, files: null },
  sentinelOffByOption: false,
  sentinelRunSeenAt: 0,
  kernelOn: true,
  watchLoop: { state: 'running', tickMs: 200, lastTickAt: Date.parse('2026-01-01T00:00:03.000Z'), lastTickAgeMs: 4 },
  lastKernelAt: null,
  lastLaunchAt: Date.parse('2026-01-01T00:00:04.000Z'),
  ...over,
});

test('loopsStatus: what runs, cadences as ISO times, and why a loop is off', () => {
  const l = loopsStatus(loopsIn());
  assert.deepStrictEqual(l.sweep, { state: 'running', periodMs: 1000, passActive: true, pagesDone: 5, pagesTotal: 10, lastProgressAt: '2026-01-01T00:00:01.000Z', stallLimitMs: 7000 });
  assert.deepStrictEqual(l.sentinel, { state: 'running', lastReportAt: '2026-01-01T00:00:02.000Z', lastRunSeenAt: null });
  assert.deepStrictEqual(l.kernel, { state: 'running', tickMs: 200, lastTickAt: '2026-01-01T00:00:03.000Z', lastCheckAt: null });
  assert.deepStrictEqual(l.launch, { lastCheckAt: '2026-01-01T00:00:04.000Z' });
  assert.equal(l.files.unwatched[0].reason, 'off by option (watchFiles: false)', 'code on, no file watch');
  const off = loopsStatus(loopsIn({ code: { off: 'off by option (code: false)' }, kernelOn: false }));
  assert.equal(off.sweep.state, 'off');
  assert.deepStrictEqual(off.sentinel, { state: 'off', reason: 'off by option (code: false)', lastReportAt: null, lastRunSeenAt: null });
  assert.equal(off.kernel.reason, 'off by option (kernel: false)');
  assert.equal(off.kernel.tickMs, null, 'no tick when the kernel monitor is off');
  assert.equal(off.files.unwatched[0].reason, 'code checks off');
  const s0 = loopsStatus(loopsIn({ sentinelOffByOption: true, code: { ...loopsIn().code, sentinel: { state: 'off', reason: 'not started' } } }));
  assert.equal(s0.sentinel.reason, 'off by option (sentinelMs: 0)', 'sentinelMs: 0 names the option');
});

test('overallState: starting, stalled, compromised from restart up, findings, ok', () => {
  const pass = { at: 1, mono: 1, durationMs: 1 };
  assert.equal(overallState(null, true, []), 'starting');
  assert.equal(overallState(pass, true, []), 'stalled');
  assert.equal(overallState(pass, false, [{ severity: 'restart' }]), 'compromised');
  assert.equal(overallState(pass, false, [{ severity: 'degrade' }, { severity: 'log' }]), 'compromised');
  assert.equal(overallState(pass, false, [{ severity: 'isolate' }]), 'findings');
  assert.equal(overallState(pass, false, []), 'ok');
});

test('buildStatus: a plain object equal to its JSON round trip, open-ended parts copied', () => {
  const finding = { key: 'k', subsystem: 'code', kind: 'code-modified', detail: 'd', evidence: { fileKey: 'f', nothing: undefined }, id: 'code:code-modified:1', severity: 'restart', firstSeen: '2026-01-01T00:00:00.000Z' };
  const s = buildStatus({
    sequence: 3,
    findings: [finding],
    hardening: null,
    lastPass: { at: Date.parse('2026-01-01T00:00:05.000Z'), mono: 100, durationMs: 12.3456 },
    stalled: false,
    coverage: { regions: 1, bytes: 4096, hashedBytes: 4096, residentBytes: 4096 },
    hashMode: 'blake3',
    checkerErrors: [{ subsystem: 'tree', code: 'ERR_CHECKER', message: 'm', at: '2026-01-01T00:00:00.000Z' }],
    loops: loopsStatus(loopsIn()),
    sentinel: { kind: 'pagemap', verified: true },
    processes: [{ pid: 2, ppid: 1, type: 'renderer', label: 'r', exe: null, startTicks: '9', utilitySubType: undefined }],
    now: 150,
  });
  assert.deepStrictEqual(s, JSON.parse(JSON.stringify(s)), 'nothing JSON would drop or change');
  assert.equal(s.state, 'compromised');
  assert.equal(s.severity, 'restart');
  assert.equal(s.heartbeatAgeMs, 50);
  assert.deepStrictEqual(s.lastCheck, { at: '2026-01-01T00:00:05.000Z', durationMs: 12.35 });
  assert.equal('nothing' in s.findings[0].evidence, false, 'undefined evidence fields are dropped');
  assert.notEqual(s.findings[0], finding, 'findings are copies: the ledger keeps its own');
  assert.equal('manifest' in s, false, 'no manifest field when the option is off');
  assert.equal(s.processes.length, 1);
});
