// electron-log integration: the Guard's `logger` option with the real electron-log package logs
// each real finding as one structured line under the 'procguard' scope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Guard } from '../../dist/index.js';
import { loadTestLib, flip } from '../integrity/helpers.mjs';

const require = createRequire(import.meta.url);

test('electron-log: a real code finding is logged once, structured, under the procguard scope', async () => {
  const log = require('electron-log/node');
  log.transports.file.level = false;
  log.transports.console.level = false;
  const seen = [];
  // A custom transport (electron-log calls every function in log.transports) captures the lines.
  const capture = (message) => seen.push(message);
  capture.level = 'silly';
  log.transports.capture = capture;
  const lib = loadTestLib();
  const g = new Guard({ logger: log, kernel: false, launch: false, sentinelMs: 0 });
  try {
    await g.start();
    const restore = flip(lib.blob + 64n, 0x20);
    try {
      await g.check();
    } finally {
      restore();
    }
    await g.check();
  } finally {
    g.stop();
  }
  const mine = seen.filter((m) => m.scope === 'procguard');
  assert.ok(mine.length >= 2, `a finding and its close should be logged under scope procguard, got ${JSON.stringify(seen.map((m) => [m.scope, m.level]))}`);
  const lines = mine.map((m) => JSON.parse(m.data.join(' ')));
  const found = lines.find((l) => l.event === 'finding' && l.kind === 'code-modified' && l.path === lib.path);
  assert.ok(found, `the code-modified finding is logged as JSON: ${JSON.stringify(lines)}`);
  assert.equal(typeof found.offset, 'number');
  assert.ok(lines.some((l) => l.event === 'finding' && l.kind === 'code-restored'), 'the restore is logged');
  assert.equal(lines.filter((l) => l.event === 'finding' && l.kind === 'code-modified').length, 1, 'logged once, not on every check');
});
