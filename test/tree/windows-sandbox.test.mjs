// child-sandbox-changed on Windows as pure logic (src/tree/windows-sandbox.ts): a child's sandbox facts
// against the baseline first seen of it. Only a weakening is reported; a strengthening, or a fact
// that turned unreadable, is not, and the baseline takes every strengthening. Plain Node: the facts
// are what native/tree/tree_win.cc reports (a Chromium renderer's: low integrity, AppContainer-less
// restricted token in a job, with its mitigation policies on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { compareWindowsSandbox } = require(path.join(root, 'dist', 'tree', 'windows-sandbox.js'));
const { windowsSandboxed } = require(path.join(root, 'dist', 'tree', 'windows.js'));

const renderer = Object.freeze({
  integrityRid: 0x1000,
  appContainer: false,
  restrictedToken: true,
  inJob: true,
  dynamicCodeProhibited: true,
  microsoftSignedOnly: true,
  noRemoteImages: true,
  strictHandleChecks: true,
  debugPort: false,
});

test('unchanged facts: nothing weakened, the baseline stays', () => {
  const r = compareWindowsSandbox(renderer, { ...renderer });
  assert.deepEqual(r.weakened, []);
  assert.deepEqual(r.baseline, renderer);
});

test('each weakening is named with its before and after', () => {
  const cases = [
    [{ integrityRid: 0x2000 }, 'integrityRid 0x1000 -> 0x2000'],
    [{ restrictedToken: false }, 'restrictedToken true -> false'],
    [{ inJob: false }, 'inJob true -> false'],
    [{ dynamicCodeProhibited: false }, 'dynamicCodeProhibited true -> false'],
    [{ microsoftSignedOnly: false }, 'microsoftSignedOnly true -> false'],
    [{ noRemoteImages: false }, 'noRemoteImages true -> false'],
    [{ strictHandleChecks: false }, 'strictHandleChecks true -> false'],
  ];
  for (const [change, said] of cases) {
    const r = compareWindowsSandbox(renderer, { ...renderer, ...change });
    assert.deepEqual(r.weakened, [said], `${JSON.stringify(change)} is a weakening`);
    assert.deepEqual(r.baseline, renderer, `the baseline keeps the stronger state while ${JSON.stringify(change)} lasts`);
  }
  const app = { ...renderer, appContainer: true };
  assert.deepEqual(compareWindowsSandbox(app, { ...app, appContainer: false }).weakened, ['appContainer true -> false']);
  const all = compareWindowsSandbox(app, { ...app, integrityRid: 0x3000, appContainer: false, inJob: false });
  assert.deepEqual(all.weakened, ['integrityRid 0x1000 -> 0x3000', 'appContainer true -> false', 'inJob true -> false'], 'several at once, integrity first');
});

test('a strengthening is not a finding and becomes the baseline; losing it later is', () => {
  const start = { ...renderer, integrityRid: 0x2000, restrictedToken: false, dynamicCodeProhibited: false };
  assert.equal(windowsSandboxed(start), false, 'the first sight is not sandboxed');
  const stronger = { ...start, integrityRid: 0x1000, dynamicCodeProhibited: true };
  const r = compareWindowsSandbox(start, stronger);
  assert.deepEqual(r.weakened, [], 'lowering integrity and turning a policy on is not a weakening');
  assert.equal(r.baseline.integrityRid, 0x1000, 'the lower integrity is the new baseline');
  assert.equal(r.baseline.dynamicCodeProhibited, true, 'the policy turned on is the new baseline');
  const back = compareWindowsSandbox(r.baseline, start);
  assert.deepEqual(back.weakened, ['integrityRid 0x1000 -> 0x2000', 'dynamicCodeProhibited true -> false'], 'back to the first sight after strengthening is a weakening');
});

test('an unreadable fact is no change; its first readable value becomes the baseline', () => {
  const unread = { ...renderer, integrityRid: null, inJob: null };
  assert.deepEqual(compareWindowsSandbox(renderer, unread), { weakened: [], baseline: renderer }, 'turned unreadable: not reported, baseline kept');
  const first = compareWindowsSandbox(unread, { ...renderer, integrityRid: 0x2000, inJob: false });
  assert.deepEqual(first.weakened, [], 'first readable values are not a change');
  assert.equal(first.baseline.integrityRid, 0x2000);
  assert.equal(first.baseline.inJob, false);
  assert.deepEqual(compareWindowsSandbox(first.baseline, { ...renderer, integrityRid: 0x3000 }).weakened, ['integrityRid 0x2000 -> 0x3000']);
});

test('the debug port is not a sandbox fact here (child-tracer-attached reports it)', () => {
  assert.deepEqual(compareWindowsSandbox(renderer, { ...renderer, debugPort: true }).weakened, []);
});
