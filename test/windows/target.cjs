// A target process for the attacker tests (run by node.exe under Wine or on Windows).
//   node target.cjs [harden]
// Loads procguard, hardens itself when asked, then creates threads AFTER hardening (a worker
// thread and the libuv pool), so the token's default DACL is exercised too. Prints one JSON line
// { pid, codeAddress, report, threadsAfter } and stays alive until its stdin closes.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { Worker } = require('node:worker_threads');
const dist = path.join(__dirname, '..', '..', 'dist');
const { harden } = require(path.join(dist, 'index.js'));
const { loadNative } = require(path.join(dist, 'native.js'));

async function main() {
  const native = loadNative();
  const exe = process.execPath.toLowerCase();
  const code = native.executableRegions().find((r) => r.type === 'image' && (r.path || '').toLowerCase() === exe);
  if (!code) throw new Error(`node.exe's code region not found in the VirtualQuery walk (${process.execPath})`);
  const report = process.argv[2] === 'harden' ? harden() : null;
  // Threads born after harden(): a worker and the libuv pool (a few fs calls).
  const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
  await new Promise((resolve) => worker.once('online', resolve));
  await Promise.all([1, 2, 3, 4].map(() => fs.promises.readFile(__filename)));
  process.stdout.write(JSON.stringify({ pid: process.pid, codeAddress: code.start.toString(16), report }) + '\n');
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
main().catch((e) => {
  process.stderr.write(`target: ${e.stack}\n`);
  process.exit(1);
});
