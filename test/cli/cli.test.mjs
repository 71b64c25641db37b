// The CLI, as a user runs it: scan (table and --json), selftest, and bad arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { root } from '../integrity/helpers.mjs';

const cli = path.join(root, 'dist/cli.js');
const run = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60000 });

test('scan --json prints one object with totals and every executable region', () => {
  const r = run('scan', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ['totalBytes', 'hashedBytes', 'hashMs', 'regions']) assert.ok(k in j, `missing ${k}`);
  assert.ok(j.regions.length > 3, 'several regions');
  for (const reg of j.regions) for (const k of ['path', 'start', 'end', 'bytes', 'residentBytes', 'hashMs']) assert.ok(k in reg, `region missing ${k}`);
  const node = j.regions.filter((x) => x.class === 'main-executable').sort((a, b) => b.bytes - a.bytes)[0];
  assert.ok(node && node.hashed && node.bytes > 1 << 20, `the node binary's code is hashed: ${JSON.stringify(node)}`);
  assert.equal(j.totalBytes, j.regions.reduce((n, x) => n + x.bytes, 0), 'totals add up');
  assert.ok(j.hashedBytes > 0 && j.hashedBytes <= j.totalBytes);
});

test('scan prints a readable table with totals', () => {
  const r = run('scan', '--mode', 'fast');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^class\s+start\s+perms\s+MiB\s+resident\s+hash ms\s+path/m);
  assert.match(r.stdout, /hashed [\d.]+ MiB \(fast\)/);
});

test('selftest flips a never-run code page of its own, reports it at the byte and restores it', () => {
  const r = run('selftest', '--json');
  assert.equal(r.status, 0, `selftest failed: ${r.stdout} ${r.stderr}`);
  const j = JSON.parse(r.stdout);
  assert.equal(j.ok, true);
  assert.equal(j.finding.kind, 'code-modified');
  assert.equal(j.finding.address, j.flipped.address, 'located at the flipped byte');
  assert.match(j.finding.path, /procguard\.node$/);
  assert.equal(j.restored.kind, 'code-restored');
});

test('watch hardens itself and prints live status until its duration ends', () => {
  const r = run('watch', '--period-ms', '200', '--duration-s', '1');
  assert.equal(r.status, 0, r.stderr);
  // `already` is right too when the parent set these (a core limit of 0 inherited from the shell or CI).
  assert.match(r.stdout, /hardened: dumpable=(applied|already) core-limit=(applied|already)/);
  assert.match(r.stdout, /#\d+ \S+ state=(ok|findings) severity=\S+ covered=[\d.]+MiB/, 'a live status line');
});

test('bad arguments exit 2 with the reason and the usage', () => {
  for (const args of [['nope'], ['scan', '--mode', 'md5'], ['watch', '--period-ms', '-1'], ['scan', '--bogus']]) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')} should exit 2`);
    assert.match(r.stderr, /^procguard: .+\nusage: procguard/, `${args.join(' ')}: ${r.stderr}`);
  }
});
