// A Guard in a process whose wall clock jumps (LD_PRELOAD pg_clockshift.so, see
// test/native/clockshift.c). argv: <dist dir>. Prints {event:'ready'}, every finding and every closed
// finding, and every 500 ms {event:'clock', skewMs}: Date.now() minus the monotonic clock's idea of
// now, so the parent sees the step happen. stdin: 'tid' (the procguard-watch ticker's tid), 'exit'.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { Guard } = require(path.join(process.argv[2], 'index.js'));
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const clean = { env: {}, argv: [], execArgv: [], inspectorUrl: null };
// Heartbeat every 1 s (periodMs / 2); the watch loop's and sentinel's limits are 9 s, the sweep's
// follows its pace (cap 60 s): a +120 s step passes every one of them on a wall clock.
const guard = new Guard({ launch: clean, periodMs: 2000, keepAlive: true });
let open = new Set();
guard.on('finding', (f) => print({ event: 'finding', kind: f.kind, key: f.key, detail: f.detail }));
guard.on('status', (s) => {
  const now = new Set(s.findings.map((f) => f.key));
  for (const k of open) if (!now.has(k)) print({ event: 'closed', key: k });
  open = now;
});
const skew = () => Date.now() - (performance.timeOrigin + performance.now());
const base = skew();
setInterval(() => print({ event: 'clock', skewMs: Math.round(skew() - base), state: guard.status().state }), 500);
readline.createInterface({ input: process.stdin }).on('line', (cmd) => {
  if (cmd === 'tid') {
    for (const t of fs.readdirSync('/proc/self/task')) {
      try {
        if (fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'procguard-watch') print({ event: 'tid', tid: Number(t) });
      } catch {
        /* exited */
      }
    }
  }
  if (cmd === 'exit') {
    guard.stop();
    process.exit(0);
  }
});
guard.start().then(() => print({ event: 'ready', pid: process.pid }));
