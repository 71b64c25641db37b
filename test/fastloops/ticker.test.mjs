// The fast loops share one native ticker thread (native/watch/ticker.cc): a running Guard has exactly one
// procguard-watch thread serving the kernel watch tick and the tamper sentinel (no thread of its
// own for the sentinel), both heartbeats advance, and stop() joins it (no procguard thread left).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Guard } from '../../dist/index.js';
import { lineProc, reapChildren } from '../kernel/helpers.mjs';
import { setTimeout as sleep } from 'node:timers/promises';

const linux = process.platform === 'linux' ? false : 'Linux only (/proc/self/task, the watch loop)';
const clean = { env: {}, argv: [], execArgv: [], inspectorUrl: null };

function threadIds(prefix) {
  const out = [];
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      const comm = fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
      if (comm.startsWith(prefix)) out.push({ tid: Number(t), comm });
    } catch {
      // the thread exited while being listed
    }
  }
  return out;
}
const threads = (prefix) => threadIds(prefix).map((t) => t.comm).sort();

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

// freeze.py must not outlive a failing test (it would hold the thread stopped and the file open).
test.afterEach(reapChildren);

let scope = 0;
try {
  scope = Number(fs.readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8'));
} catch {
  // no Yama: classic same-uid rules
}
const canFreeze =
  linux ||
  (!fs.existsSync('/usr/bin/python3') ? 'needs /usr/bin/python3' : scope >= 2 || (scope === 1 && process.getuid() !== 0) ? `Yama ptrace_scope=${scope} forbids attaching to the parent` : false);
const freezePy = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children', 'freeze.py');

test('a frozen ticker thread is checker-stalled for the watch loop, the sentinel and the tree loop; thawed, all close', { skip: canFreeze, timeout: 60000 }, async () => {
  // Heartbeat every 500 ms (periodMs / 2); stall limits min(stallCapMs, 20 ticks + 5 s) = 1.5 s.
  const g = new Guard({ launch: clean, kernelTickMs: 50, sentinelMs: 50, periodMs: 1000, stallCapMs: 1500, processTree: { codeMs: 0 } });
  let p = null;
  try {
    await g.start();
    await g.check();
    const [ticker] = threadIds('procguard-watch');
    assert.ok(ticker, 'the ticker thread exists');
    p = lineProc('/usr/bin/python3', [freezePy, String(ticker.tid)], {}, (l) => l);
    await p.waitFor((l) => l === 'frozen' || l.startsWith('error'), 'freeze');
    assert.ok(p.lines.includes('frozen'), `the ticker thread was stopped: ${p.lines.join(' | ')}`);
    const stalled = (s) => new Set(s.findings.filter((f) => f.kind === 'checker-stalled').map((f) => f.key));
    const t0 = Date.now();
    let keys = new Set();
    while (Date.now() - t0 < 15000) {
      keys = stalled(g.status());
      if (keys.has('guard:checker-stalled:sentinel') && keys.has('guard:checker-stalled:watch') && keys.has('guard:checker-stalled:tree')) break;
      await sleep(200);
    }
    assert.ok(keys.has('guard:checker-stalled:sentinel'), `the sentinel's stall is reported: ${[...keys].join(', ')}`);
    assert.ok(keys.has('guard:checker-stalled:watch'), `the watch loop's stall is reported: ${[...keys].join(', ')}`);
    assert.ok(keys.has('guard:checker-stalled:tree'), `the tree loop's stall is reported: ${[...keys].join(', ')}`);
    assert.equal(g.status().state, 'stalled');
    p.send('thaw');
    await p.waitFor((l) => l === 'thawed' || l.startsWith('error'), 'thaw');
    const t1 = Date.now();
    while (Date.now() - t1 < 15000 && stalled(g.status()).size > 0) await sleep(200);
    assert.deepEqual([...stalled(g.status())], [], 'both stalls close once the ticker runs again');
  } finally {
    if (p) {
      p.send('thaw');
      p.child.stdin.end();
    }
    g.stop();
  }
});
