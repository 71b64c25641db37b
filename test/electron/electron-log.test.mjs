import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { logToElectronLog, formatFinding } from '../../dist/electron/electron-log.js';
import { makeSnapshots } from './snapshots.mjs';

const snaps = await makeSnapshots();

test('electron-log: findings and state changes are logged under the procguard scope', () => {
  const lines = [];
  const scopes = [];
  const log = {
    error: () => assert.fail('the root logger must not be used when scope() exists'),
    warn: () => assert.fail('root warn used'),
    info: () => assert.fail('root info used'),
    scope(name) {
      scopes.push(name);
      return { error: (m) => lines.push(['error', m]), warn: (m) => lines.push(['warn', m]), info: (m) => lines.push(['info', m]) };
    },
  };
  const guard = new EventEmitter();
  const stop = logToElectronLog(guard, log);
  assert.deepEqual(scopes, ['procguard'], 'scope procguard is used');
  const code = snaps.findings.findings[0];
  guard.emit('finding', code);
  guard.emit('finding', snaps.compromised.findings[1]);
  guard.emit('finding', { ...code, kind: 'code-restored', transient: true });
  guard.emit('status', snaps.ok);
  guard.emit('status', snaps.ok);
  guard.emit('status', snaps.compromised);
  assert.deepEqual(lines.map((l) => l[0]), ['warn', 'error', 'info', 'info', 'error'], 'levels follow severity; repeated states are not logged twice');
  assert.equal(lines[0][1], '[log] code/code-modified at /usr/lib/x86_64-linux-gnu/libz.so.1.3 offset 0x2a40 0x7f3a12402000: page content changed since baseline (code:code-modified:1)');
  assert.match(lines[4][1], /state ok -> compromised \(2 open findings\)/, 'state change line');
  stop();
  guard.emit('finding', code);
  assert.equal(lines.length, 5, 'nothing logged after stop');
  assert.equal(guard.listenerCount('finding') + guard.listenerCount('status'), 0, 'listeners removed');
  assert.throws(() => logToElectronLog(guard, {}), TypeError, 'a logger without methods is a TypeError');
  assert.equal(formatFinding(snaps.compromised.findings[1]), '[safe-mode] kernel/tracer-attached: TracerPid changed from 0 to 31337 (kernel:tracer-attached:2)');
});

test('electron-log: works with the real electron-log package scope API (node build)', () => {
  const require = createRequire(import.meta.url);
  const log = require('electron-log/node');
  const seen = [];
  log.transports.console.level = false;
  log.transports.file.level = false;
  // A custom transport (electron-log v5: a function with a level) captures what would be written.
  const capture = (message) => { seen.push(message); };
  capture.level = 'silly';
  log.transports.capture = capture;
  const guard = new EventEmitter();
  const stop = logToElectronLog(guard, log);
  guard.emit('finding', snaps.findings.findings[0]);
  stop();
  assert.equal(seen.length, 1, 'one message went through electron-log');
  assert.equal(seen[0].scope, 'procguard', 'the message carries the procguard scope');
  assert.equal(seen[0].level, 'warn', 'a log-severity finding is a warning');
});
