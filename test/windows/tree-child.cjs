// A child of the process-tree tests (run by node.exe): `node tree-child.cjs --type=<type> [spawn <type>]`.
// With `spawn <type>` it starts one grandchild of that type first. Prints one JSON line
// { pid, grandchild } and stays alive until its stdin closes (then ends its grandchild too).
'use strict';
const { spawn } = require('node:child_process');

let grandchild = null;
const i = process.argv.indexOf('spawn');
const done = (grandchildPid) => {
  process.stdout.write(JSON.stringify({ pid: process.pid, grandchild: grandchildPid }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => {
    if (grandchild) grandchild.stdin.end();
    process.exit(0);
  });
};
if (i > 0) {
  grandchild = spawn(process.execPath, [__filename, `--type=${process.argv[i + 1]}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  grandchild.stdout.once('data', (d) => done(JSON.parse(String(d).split('\n')[0]).pid));
} else {
  done(null);
}
