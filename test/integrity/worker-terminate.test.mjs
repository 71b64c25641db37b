// Issue 13.4: a Guard running in a worker_threads Worker (periodMs 50, checks in a loop) that is
// terminated 20-200 ms after start, 200 times: the process never aborts (the native threads are
// stopped and joined by an environment cleanup hook before Node finalizes their thread-safe
// functions) and no thread is leaked. (~1 s a round on a loaded 2-core VM: a Worker start and a baseline.)
// Fails on 455d61b within a few rounds with SIGABRT. Runs in a child process so that an abort is reported as a
// failure with its signal rather than killing the test runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const child = `
const { Worker } = require('node:worker_threads');
const fs = require('node:fs');
const threads = () => fs.readdirSync('/proc/self/task').length;
const body = \`
  const { Guard } = require(${JSON.stringify(path.join(root, 'dist/index.js'))});
  const { parentPort } = require('node:worker_threads');
  const g = new Guard({ periodMs: 50 });
  (async () => { await g.start(); parentPort.postMessage('started'); for (;;) await g.check(); })().catch(() => {});
\`;
let started = 0;
async function round(ms) {
  const w = new Worker(body, { eval: true });
  w.on('error', () => {});
  // From the Guard's start (its baseline done, checks looping), not from the Worker's creation.
  const up = await new Promise((r) => {
    const t = setTimeout(() => r(false), 10000);
    w.once('message', () => (clearTimeout(t), r(true)));
  });
  if (up) started++;
  await new Promise((r) => setTimeout(r, ms));
  await w.terminate();
}
(async () => {
  await round(100); // warm-up: lazily created threads (libuv pool, V8 platform) exist from here on
  await new Promise((r) => setTimeout(r, 200));
  const before = threads();
  for (let i = 0; i < 200; i++) await round(20 + Math.floor(Math.random() * 181));
  await new Promise((r) => setTimeout(r, 500));
  console.log(JSON.stringify({ started, before, after: threads(), names: fs.readdirSync('/proc/self/task').map((t) => fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim()) }));
})();
`;

test('a Guard in a Worker terminated mid-sweep 200 times: no abort, no leaked thread', { timeout: 960_000 }, () => {
  const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', timeout: 900_000 });
  assert.equal(r.signal, null, `the process was killed by ${r.signal} (stderr: ${r.stderr.slice(-600)})`);
  assert.equal(r.status, 0, `exit ${r.status}; stderr: ${r.stderr.slice(-600)}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
  assert.ok(out.started >= 190, `the Guard had started in the Worker before termination in ${out.started} of 200 rounds`);
  const leaked = out.names.filter((n) => n.startsWith('procguard'));
  assert.deepEqual(leaked, [], `procguard threads left after 200 terminated Workers: ${leaked.join(', ')}`);
  assert.ok(out.after <= out.before + 2, `threads before ${out.before}, after ${out.after} (${out.names.join(', ')})`);
});
