// status.sentinel: which tamper sentinel a Guard runs, and why none when none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Guard } from '../../dist/index.js';
import { sentinelInfo } from '../../dist/guard.js';

test('Linux: a started Guard runs the verified pagemap sentinel; sentinelMs 0 says none and why', { skip: process.platform !== 'linux' && 'Linux only' }, async () => {
  const g = new Guard({ kernel: false, launch: false });
  try {
    const s = await g.start();
    assert.deepEqual(s.sentinel, { kind: 'pagemap', verified: true }, JSON.stringify(s.sentinel));
  } finally {
    g.stop();
  }
  const off = new Guard({ kernel: false, launch: false, sentinelMs: 0 });
  try {
    assert.deepEqual((await off.start()).sentinel, { kind: 'none', verified: false, reason: 'turned off (sentinelMs: 0)' });
  } finally {
    off.stop();
  }
});

test('sentinelInfo: per platform and prepare() outcome', () => {
  const ok = { sentinel: true, detail: 'open' };
  assert.deepEqual(sentinelInfo('linux', ok, 150), { kind: 'pagemap', verified: true });
  const win = sentinelInfo('win32', ok, 150);
  assert.equal(win.kind, 'working-set');
  assert.equal(win.verified, false, 'never run on Windows by the tests: not verified');
  assert.deepEqual(sentinelInfo('win32', { sentinel: false, detail: 'wine 8.0: ...' }, 150), { kind: 'none', verified: false, reason: 'wine 8.0: ...' });
  assert.deepEqual(sentinelInfo('darwin', { sentinel: false, detail: 'no tamper sentinel on darwin' }, 150), { kind: 'none', verified: false, reason: 'no tamper sentinel on darwin' });
  assert.equal(sentinelInfo('linux', ok, 0).kind, 'none');
});
