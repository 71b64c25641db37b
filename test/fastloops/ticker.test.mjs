// The fast loops share one native ticker thread (native/ticker.cc): a running Guard has exactly one
// procguard-watch thread serving the kernel watch tick and the tamper sentinel (no thread of its
// own for the sentinel), both heartbeats advance, and stop() joins it (no procguard thread left).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Guard } from '../../dist/index.js';
import { setTimeout as sleep } from 'node:timers/promises';

const linux = process.platform === 'linux' ? false : 'Linux only (/proc/self/task, the watch loop)';
const clean = { env: {}, argv: [], execArgv: [], inspectorUrl: null };

function threads(prefix) {
  const out = [];
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      const comm = fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
      if (comm.startsWith(prefix)) out.push(comm);
    } catch {
      // the thread exited while being listed
    }
  }
  return out.sort();
}

test('one ticker thread runs the watch loop and the sentinel; both heartbeats advance; stop() joins it', { skip: linux, timeout: 60000 }, async () => {
  const g = new Guard({ launch: clean, kernelTickMs: 50, sentinelMs: 50 });
  try {
    await g.start();
    const s0 = (await g.check()).loops; // start() resolves before the sentinel starts: a fresh status

    assert.equal(s0.kernel.state, 'running', JSON.stringify(s0.kernel));
    assert.equal(s0.sentinel.state, 'running', JSON.stringify(s0.sentinel));
    assert.deepEqual(threads('procguard-watch'), ['procguard-watch'], 'exactly one ticker thread');
    assert.deepEqual(threads('procguard-sent'), [], 'the sentinel has no thread of its own');
    await sleep(1000);
    await g.check(); // a fresh status with the loops' heartbeats
    const s1 = g.status().loops;
    assert.ok(Date.parse(s1.kernel.lastTickAt) > Date.parse(s0.kernel.lastTickAt ?? 0), `the watch tick advances: ${s0.kernel.lastTickAt} -> ${s1.kernel.lastTickAt}`);
    assert.ok(s1.sentinel.lastReportAt && Date.parse(s1.sentinel.lastReportAt) > Date.now() - 5000, `the sentinel ticks: ${JSON.stringify(s1.sentinel)}`);
    assert.ok(!g.status().findings.some((f) => f.kind === 'checker-stalled'), 'no stall');
  } finally {
    g.stop();
  }
  assert.deepEqual(threads('procguard-watch'), [], 'stop() joined the ticker thread');
});
