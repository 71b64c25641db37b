// 30-second churn under a running KernelMonitor: allocations, worker threads, timers and a dlopen
// of a fresh copy of a native addon. Prints every non-empty observation set and a summary.
// argv: <distDir> <pg_testhooks.node> <seconds>
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const { Worker } = require('node:worker_threads');
const [distDir, hooksPath, secondsText] = process.argv.slice(2);
const { KernelMonitor } = require(path.join(distDir, 'kernel', 'monitor.js'));
const hooks = require(hooksPath);
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const seconds = Number(secondsText);
const mon = new KernelMonitor({ processState: hooks.processState });
let checks = 0;
let errors = 0;
const seen = [];

(async () => {
  await mon.baseline();
  mon.start(
    100,
    (obs) => {
      checks++;
      if (obs.length) {
        seen.push(...obs);
        print({ event: 'observations', observations: obs });
      }
    },
    (err) => {
      errors++;
      print({ event: 'error', error: String(err && err.stack) });
    },
  );

  // Memory churn: grow and drop large arrays and buffers (heap and mmap-backed allocations).
  let hold = [];
  const alloc = setInterval(() => {
    hold.push(Buffer.alloc(4 << 20, 1), new Array(200000).fill({ a: 1 }));
    if (hold.length > 20) hold = [];
  }, 20);
  // Timers: many short ones.
  const timers = setInterval(() => {
    for (let i = 0; i < 50; i++) setTimeout(() => {}, i);
  }, 10);
  // Threads: start and terminate workers continuously.
  let workers = 0;
  const spawnWorker = setInterval(() => {
    const w = new Worker('const a=[];for(let i=0;i<1e5;i++)a.push({i});setTimeout(()=>{}, 200)', { eval: true });
    workers++;
    setTimeout(() => w.terminate(), 300);
  }, 150);
  // dlopen: a fresh copy of a real .node file (a new file, so new executable mappings).
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-churn-'));
  const copy = path.join(tmp, 'churn_addon.node');
  setTimeout(() => {
    fs.copyFileSync(hooksPath, copy);
    const m = { exports: {} };
    process.dlopen(m, copy);
    print({ event: 'dlopen', path: copy, ok: typeof m.exports.processState === 'function' });
  }, (seconds * 1000) / 2);

  setTimeout(() => {
    clearInterval(alloc);
    clearInterval(timers);
    clearInterval(spawnWorker);
    mon.stop();
    const last = mon.lastSnapshot();
    print({
      event: 'done',
      checks,
      errors,
      workers,
      observations: seen.length,
      dlopenMapped: last.execMappings.some((m) => m.endsWith('/churn_addon.node')),
      baselineHasCopy: mon.baselineSnapshot().execMappings.some((m) => m.endsWith('/churn_addon.node')),
    });
    fs.rmSync(tmp, { recursive: true, force: true });
  }, seconds * 1000);
})();
