// The Guard: policy applied to real findings from several subsystems, the heartbeat, and stop().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Guard, defaultPolicy } from '../../dist/index.js';
import { loadTestLib, flip, waitFor, root, hooksMissing } from '../integrity/helpers.mjs';
import { scaled } from '../time-scale.mjs';

test('default policy on real findings: code alone is log; code + launch is degrade for both', { skip: hooksMissing }, async () => {
  const lib = loadTestLib();
  const clean = { env: {}, argv: [], execArgv: [], inspectorUrl: null };
  const g1 = new Guard({ kernel: false, sentinelMs: 0, launch: clean });
  const g2 = new Guard({ kernel: false, sentinelMs: 0, launch: { ...clean, env: { NODE_OPTIONS: '--require /tmp/x.js' } } });
  try {
    await g1.start();
    await g2.start();
    const restore = flip(lib.blob + 300n);
    let s1, s2;
    try {
      s1 = await g1.check();
      s2 = await g2.check();
    } finally {
      restore();
    }
    const code1 = s1.findings.find((f) => f.kind === 'code-modified' && f.path === lib.path);
    assert.equal(code1?.severity, 'log', `one subsystem diverged -> log: ${JSON.stringify(s1.findings.map((f) => [f.kind, f.severity]))}`);
    assert.equal(s1.state, 'findings');
    const code2 = s2.findings.find((f) => f.kind === 'code-modified' && f.path === lib.path);
    const launch2 = s2.findings.find((f) => f.subsystem === 'launch');
    assert.ok(launch2, 'NODE_OPTIONS gives a launch finding');
    assert.equal(code2?.severity, 'degrade', 'two subsystems diverged -> degrade');
    assert.equal(launch2.severity, 'degrade');
    assert.equal(s2.severity, 'degrade');
    assert.equal(s2.state, 'compromised', 'degrade and above is compromised');
  } finally {
    g1.stop();
    g2.stop();
  }
});

test('an override and an action: code-modified -> safe-mode runs the app\'s action once', { skip: hooksMissing }, async () => {
  const lib = loadTestLib();
  const acted = [];
  const g = new Guard({
    kernel: false,
    launch: false,
    sentinelMs: 0,
    policy: defaultPolicy({ overrides: { 'code-modified': 'safe-mode' } }),
    actions: { 'safe-mode': (f) => acted.push(f.kind) },
  });
  try {
    await g.start();
    const restore = flip(lib.blob + 400n);
    try {
      await g.check();
      await g.check();
    } finally {
      restore();
    }
    assert.deepEqual(acted, ['code-modified'], 'the action ran once for the new finding');
    assert.equal(g.status().severity, 'safe-mode');
  } finally {
    g.stop();
  }
});

test('heartbeat: a checker that stops completing passes becomes a checker-stalled finding, and recovers', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-hb-'));
  const maps = path.join(dir, 'maps');
  fs.writeFileSync(maps, fs.readFileSync('/proc/self/maps'));
  const g = new Guard({ kernel: false, launch: false, sentinelMs: 0, periodMs: 50, stallAfterMs: 300, cpuBudget: 1, mapsPath: maps });
  try {
    await g.start();
    assert.equal(g.status().state, 'ok');
    const stalledFinding = waitFor(g, 'finding', (f) => f.kind === 'checker-stalled', scaled(5000), 'a checker-stalled finding');
    fs.rmSync(maps);
    const f = await stalledFinding;
    assert.equal(g.status().state, 'stalled');
    assert.ok(g.status().checkerErrors.some((e) => e.code === 'ERR_PROCFS_UNREADABLE'), 'the cause is in checkerErrors');
    assert.match(f.detail, /no sweep progress for/);
    fs.writeFileSync(maps, fs.readFileSync('/proc/self/maps'));
    await waitFor(g, 'status', (s) => s.state !== 'stalled', scaled(5000), 'recovery after the source is back');
    assert.equal(g.status().findings.some((x) => x.kind === 'checker-stalled'), false, 'the stall closes');
  } finally {
    g.stop();
  }
});

test('stop() leaves nothing running: a process that started and stopped a Guard exits by itself', () => {
  const script = `
    const { Guard } = require(${JSON.stringify(path.join(root, 'dist/index.js'))});
    const g = new Guard({ periodMs: 100, sentinelMs: 20, keepAlive: true });
    g.start().then(async () => { await g.check(); g.stop(); console.log('stopped'); });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: scaled(20000) });
  assert.equal(r.error, undefined, `the child did not exit by itself: ${r.error}`);
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  assert.match(r.stdout, /stopped/);
});

test('status is versioned, sequenced and JSON-serialisable', async () => {
  const g = new Guard({ kernel: false, launch: false, sentinelMs: 0 });
  try {
    const a = await g.start();
    const b = await g.check();
    assert.equal(a.version, 1);
    assert.ok(b.sequence > a.sequence, 'sequence increases');
    assert.deepEqual(JSON.parse(JSON.stringify(b)), b, 'round-trips through JSON');
    assert.ok(b.coverage.hashedBytes > 1 << 20, 'covers real code');
    assert.equal(typeof b.lastCheck.durationMs, 'number');
  } finally {
    g.stop();
  }
});
