// A Guard watching for debuggers switched on after start. argv: <dist dir> <Guard options JSON>.
// Prints {event:'ready'} once started and every finding as {event:'finding'}. stdin commands:
// 'open' (inspector.open() on an ephemeral loopback port, as app code could), 'url' (prints the
// inspector URL), 'spawn-inspect' (a child Node process with its inspector listening, in the tree),
// 'chromium <path> <profile dir>' (a headless Chromium with --remote-debugging-port=0, in the tree), 'exit'.
'use strict';
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const { Guard } = require(path.join(process.argv[2], 'index.js'));
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const guard = new Guard({ ...JSON.parse(process.argv[3]), code: false });
guard.on('finding', (f) => print({ event: 'finding', kind: f.kind, key: f.key, evidence: f.evidence ?? null, pid: f.pid ?? null }));
let grandchild = null;
// The grandchild leaves when its parent is gone (even a SIGKILLed one that ran no exit handler).
const ORPHAN_EXITS = 'const p = process.ppid; setInterval(() => { try { process.kill(p, 0); } catch { process.exit(0); } }, 300);';
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (cmd) => {
  const inspector = require('node:inspector');
  if (cmd === 'open') inspector.open(0, '127.0.0.1');
  if (cmd === 'url') print({ event: 'url', url: inspector.url() ?? null });
  if (cmd === 'spawn-inspect') {
    grandchild = spawn(process.execPath, ['--inspect=127.0.0.1:0', '-e', ORPHAN_EXITS], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    grandchild.stderr.on('data', (d) => {
      err += d;
      const m = /ws:\/\/127\.0\.0\.1:(\d+)\//.exec(err);
      if (m && !grandchild.announced) grandchild.announced = print({ event: 'spawned', pid: grandchild.pid, port: Number(m[1]) }) ?? true;
    });
  }
  if (cmd.startsWith('chromium ')) {
    const [, exe, profile] = cmd.split(' ');
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'];
    // Its own process group: the test kills the whole browser (zygotes, renderers) by it, whatever happens here.
    grandchild = spawn(exe, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let err = '';
    grandchild.stderr.on('data', (d) => {
      err += d;
      const m = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(err);
      if (m && !grandchild.announced) grandchild.announced = print({ event: 'spawned', pid: grandchild.pid, port: Number(m[1]) }) ?? true;
    });
  }
  if (cmd === 'exit') {
    killGrandchild();
    guard.stop();
    if (inspector.url()) inspector.close();
    rl.close();
  }
});
function killGrandchild() {
  if (!grandchild) return;
  try {
    process.kill(-grandchild.pid, 'SIGKILL'); // a detached one: its group
  } catch {
    grandchild.kill('SIGKILL');
  }
}
process.on('exit', killGrandchild);
guard.start().then(() => print({ event: 'ready', pid: process.pid }));
