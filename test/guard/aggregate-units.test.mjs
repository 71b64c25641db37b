// aggregatePages (the bound on page findings) and the debugger watch's option checks, in isolation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregatePages } from '../../dist/integrity/aggregate.js';
import { Guard } from '../../dist/index.js';

const page = (file, p, extra = {}) => ({ key: `code:page:${file}@${p}`, subsystem: 'code', kind: 'code-modified', detail: 'x', path: `/lib/${file}.so`, page: p, offset: p * 4096, evidence: { fileKey: file }, ...extra });

test('few pages pass through unchanged (same array)', () => {
  const obs = [page('a', 1), page('a', 2), { key: 'kernel:x', subsystem: 'kernel', kind: 'tracer-attached', detail: 'y' }];
  assert.equal(aggregatePages(obs), obs, 'nothing to fold: the input comes back');
});

test('per file: the lowest pages stay, the rest fold into one summary after them', () => {
  const obs = [];
  for (let p = 19; p >= 0; p--) obs.push(page('a', p));
  obs.push({ key: 'launch:env:X', subsystem: 'launch', kind: 'preload-library', detail: 'z' });
  const out = aggregatePages(obs, { perFile: 3 });
  const pages = out.filter((o) => !o.evidence?.aggregated && o.kind === 'code-modified').map((o) => o.page);
  assert.deepEqual(pages.sort((a, b) => a - b), [0, 1, 2], 'pages 0-2 kept');
  const s = out.find((o) => o.evidence?.aggregated);
  assert.deepEqual([s.evidence.pages, s.evidence.totalPages, s.evidence.nextPages, s.evidence.lastPage], [17, 20, [3, 4, 5], 19]);
  assert.equal(s.key, 'code:pages:code-modified:self:a', 'a stable key per (process, file, kind)');
  assert.ok(out.some((o) => o.key === 'launch:env:X'), 'other observations untouched');
  assert.equal(out.length, 5);
});

test('the total budget: past it a file is its summary only; processes are kept apart', () => {
  const obs = [];
  for (const f of ['a', 'b', 'c']) for (let p = 0; p < 5; p++) obs.push(page(f, p));
  for (let p = 0; p < 5; p++) obs.push(page('a', p, { pid: 42, processType: 'renderer', key: `tree:code-modified:42:a:${p}` }));
  const out = aggregatePages(obs, { perFile: 4, total: 6 });
  const single = out.filter((o) => !o.evidence?.aggregated);
  assert.equal(single.length, 6, 'six pages in all stay individual');
  const sums = out.filter((o) => o.evidence?.aggregated);
  assert.equal(sums.length, 4, 'one summary per (process, file)');
  const renderer = sums.find((o) => o.pid === 42);
  assert.match(renderer.detail, /^renderer pid 42: 5 more page\(s\) of \/lib\/a\.so modified \(5 in all; the first 0/, renderer.detail);
  assert.equal(renderer.evidence.totalPages, 5);
});

test('event summaries get distinct keys (one-shot events)', () => {
  const ev = (p, t) => ({ ...page('a', p), kind: 'code-restored', key: `code:restored:a@${p}:${t}` });
  const one = aggregatePages(Array.from({ length: 10 }, (_, p) => ev(p, 1)), { perFile: 2, events: true });
  const two = aggregatePages(Array.from({ length: 10 }, (_, p) => ev(p, 2)), { perFile: 2, events: true });
  const k1 = one.find((o) => o.evidence?.aggregated).key;
  const k2 = two.find((o) => o.evidence?.aggregated).key;
  assert.notEqual(k1, k2, 'two restore bursts are two events');
});

test('debugger watch options: typed errors for bad values', () => {
  assert.throws(() => new Guard({ debuggers: { tickMs: 5 } }), RangeError);
  assert.throws(() => new Guard({ debuggers: { socketsMs: -1 } }), RangeError);
  assert.throws(() => new Guard({ debuggers: { allow: [{ kind: 'inspector' }] } }), TypeError, 'an allowance needs a reason');
  assert.throws(() => new Guard({ debuggers: { allow: [{ kind: 'gdb', reason: 'x' }] } }), TypeError);
  new Guard({ debuggers: { allow: [{ kind: 'inspector', reason: 'Sentry ANR detection' }] } }).stop();
});
