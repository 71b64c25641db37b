// Runs a KernelMonitor on a 100 ms timer and prints a JSON line whenever the set of open
// observation keys changes ({event:'tick'}); stdin commands: 'check' (prints {event:'check'}),
// 'exit'. argv: <distDir>
'use strict';
const path = require('node:path');
const readline = require('node:readline');
const { KernelMonitor } = require(path.join(process.argv[2], 'kernel', 'monitor.js'));

const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const mon = new KernelMonitor();
let lastKeys = '';
(async () => {
  await mon.baseline();
  mon.start(
    100,
    (observations) => {
      const keys = observations.map((o) => o.key).sort().join(',');
      if (keys !== lastKeys) print({ event: 'tick', observations });
      lastKeys = keys;
    },
    (err) => print({ event: 'error', error: String(err && err.stack) }),
  );
  print({ event: 'ready', pid: process.pid, uid: process.getuid() });
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', async (cmd) => {
    if (cmd === 'check') print({ event: 'check', observations: await mon.check() });
    if (cmd === 'exit') {
      mon.stop();
      rl.close();
    }
  });
})();
