// A target process for the attacker tests (run by node.exe under Wine or on Windows).
//   node target.cjs [harden]
// Loads procguard, hardens itself when asked, then creates threads AFTER hardening (a worker
// thread and the libuv pool), so the token's default DACL is exercised too. Prints one JSON line
// { pid, codeAddress, report } and stays alive until its stdin closes. Each line on stdin is a
// command answered with one JSON line: `tracer` (the addon's debugger query) or `kernel` (a pass of
// the Guard's kernel monitor: the open kernel findings).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { Worker } = require('node:worker_threads');
const dist = path.join(__dirname, '..', '..', 'dist');
const { harden, Guard } = require(path.join(dist, 'index.js'));
const { loadNative } = require(path.join(dist, 'native.js'));

async function main() {
  const native = loadNative();
  const exe = process.execPath.toLowerCase();
  const code = native.executableRegions().find((r) => r.type === 'image' && (r.path || '').toLowerCase() === exe);
  if (!code) throw new Error(`node.exe's code region not found in the VirtualQuery walk (${process.execPath})`);
  // The Guard first (its kernel baseline: no debugger), as an app would; code off to stay light.
  const guard = new Guard({ code: false, launch: false });
  await guard.start();
  const report = process.argv[2] === 'harden' ? harden() : null;
  // Threads born after harden(): a worker and the libuv pool (a few fs calls).
  const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
  await new Promise((resolve) => worker.once('online', resolve));
  await Promise.all([1, 2, 3, 4].map(() => fs.promises.readFile(__filename)));
  process.stdout.write(JSON.stringify({ pid: process.pid, codeAddress: code.start.toString(16), report }) + '\n');
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', async (d) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const cmd = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      let answer;
      if (cmd === 'tracer') answer = { tracer: native.queryTracer() };
      else if (cmd === 'kernel') answer = { findings: (await guard.check()).findings.filter((f) => f.subsystem === 'kernel').map((f) => ({ kind: f.kind, detail: f.detail })) };
      else answer = { error: `unknown command ${cmd}` };
      process.stdout.write(JSON.stringify(answer) + '\n');
    }
  });
  process.stdin.on('end', () => {
    guard.stop();
    process.exit(0);
  });
}
main().catch((e) => {
  process.stderr.write(`target: ${e.stack}\n`);
  process.exit(1);
});
