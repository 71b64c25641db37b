// The CLI on the Windows build: `scan --json` lists this node.exe's own regions (from the
// VirtualQuery walk, never /proc), hashed; `selftest` is Linux-only and says so with a typed error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { root, skipOffWindows } from './helpers.mjs';

const cli = path.join(root, 'dist', 'cli.js');
const run = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120000 });

test('procguard scan --json: node.exe and the addon, hashed, with totals', { skip: skipOffWindows }, () => {
  const r = run('scan', '--json');
  assert.equal(r.status, 0, `scan failed: ${r.stderr}`);
  const rep = JSON.parse(r.stdout);
  assert.ok(rep.pid > 0 && rep.pid !== process.pid, 'the report is the CLI process');
  const main = rep.regions.find((x) => x.class === 'main-executable');
  assert.ok(main && /node\.exe$/i.test(main.path), `node.exe is the main executable: ${rep.regions.map((x) => x.path).join(', ')}`);
  assert.ok(main.hashed && main.bytes > 1 << 20, `node.exe code is hashed: ${JSON.stringify(main)}`);
  assert.ok(rep.regions.some((x) => /procguard\.node$/i.test(x.path) && x.class === 'native-addon'), 'the addon is listed');
  assert.ok(!rep.regions.some((x) => x.path.startsWith('/')), 'no Unix path: the regions are not read from /proc');
  assert.equal(rep.totalBytes, rep.regions.reduce((n, x) => n + x.bytes, 0));
  assert.ok(rep.hashedBytes > 0 && rep.hashedBytes <= rep.totalBytes);
});

test('procguard selftest: unsupported on Windows with a typed error, not a crash', { skip: skipOffWindows }, () => {
  const r = run('selftest');
  assert.equal(r.status, 1, `selftest must fail cleanly: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /^procguard: ERR_UNSUPPORTED_PLATFORM: selftest \(needs \/proc\/self\/mem\) is not supported on win32/);
});
