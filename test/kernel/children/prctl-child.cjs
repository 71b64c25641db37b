// Runs a KernelMonitor in this process, changes the process's isolation state step by step through
// real syscalls (pg_testhooks), and prints one JSON line per step with the open observations.
// argv: <distDir> <pg_testhooks.node> [cgroupProcsFile]
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const [distDir, hooksPath, cgroupProcs] = process.argv.slice(2);
const { KernelMonitor } = require(path.join(distDir, 'kernel', 'monitor.js'));
const hooks = require(hooksPath);

const print = (step, observations, extra = {}) => process.stdout.write(JSON.stringify({ step, observations, ...extra }) + '\n');

(async () => {
  const mon = new KernelMonitor({ processState: hooks.processState });
  const base = await mon.baseline();
  print('baseline', await mon.check(), { baseline: base });
  const steps = [
    ['no-new-privs', () => hooks.setNoNewPrivs()],
    ['seccomp', () => hooks.installSeccompAllowAll()],
    ['drop-cap', () => hooks.dropBoundingCap(13)], // CAP_NET_RAW
    ['dumpable-0', () => hooks.setDumpable(0)],
    ['core-limit', () => hooks.setCoreLimit(4096, -1)],
    ['dumpable-restore', () => hooks.setDumpable(1)],
    ['core-limit-restore', () => hooks.setCoreLimit(0, -1)],
  ];
  if (cgroupProcs) steps.push(['cgroup', () => fs.writeFileSync(cgroupProcs, String(process.pid))]);
  for (const [step, fn] of steps) {
    fn();
    print(step, await mon.check());
  }
})().catch((err) => {
  process.stdout.write(JSON.stringify({ step: 'error', error: String(err && err.stack) }) + '\n');
  process.exit(1);
});
