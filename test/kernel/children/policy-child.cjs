// Produces real observations from two subsystems in one process: the launch audit (run with
// '--no-sandbox' in argv) and the kernel monitor after prctl(PR_SET_NO_NEW_PRIVS).
// argv: <distDir> <pg_testhooks.node> [--no-sandbox]
'use strict';
const path = require('node:path');
const [distDir, hooksPath] = process.argv.slice(2);
const { KernelMonitor } = require(path.join(distDir, 'kernel', 'monitor.js'));
const { auditLaunch } = require(path.join(distDir, 'launch', 'audit.js'));
const hooks = require(hooksPath);
(async () => {
  const mon = new KernelMonitor({ processState: hooks.processState });
  await mon.baseline();
  hooks.setNoNewPrivs();
  const kernel = await mon.check();
  process.stdout.write(JSON.stringify({ kernel, launch: auditLaunch() }) + '\n');
})();
