// A default-settings Guard in a process that maps `MiB` of code (a file mapped r-xp, resident).
// Prints {event:'pre'} before starting; starts the Guard on the stdin line 'start'; prints every
// finding as {event:'finding'}; 'exit' stops. argv: <root of a world-readable copy> <MiB>
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const readline = require('node:readline');
const root = process.argv[2];
const mib = Number(process.argv[3] || 0);
const { Guard } = require(path.join(root, 'dist', 'index.js'));
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');
if (mib > 0) {
  const hooks = require(path.join(root, 'pg_testhooks.node'));
  const file = `/dev/shm/pg-fastloops-${process.pid}.bin`;
  const fd = fs.openSync(file, 'w', 0o600);
  const chunk = Buffer.alloc(8 << 20);
  for (let i = 0; i < mib / 8; i++) {
    for (let k = 0; k < chunk.length; k += 4096) chunk.writeUInt32LE((i * 7919 + k) >>> 0, k);
    fs.writeSync(fd, chunk);
  }
  fs.closeSync(fd);
  hooks.mapFileExec(file, mib << 20, true);
  process.on('exit', () => fs.rmSync(file, { force: true }));
}
let guard = null;
print({ event: 'pre', pid: process.pid, uid: process.getuid() });
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (cmd) => {
  if (cmd === 'start' && !guard) {
    guard = new Guard();
    guard.on('finding', (f) => print({ event: 'finding', kind: f.kind, key: f.key, evidence: f.evidence ?? null, detail: f.detail }));
    const s = await guard.start();
    print({ event: 'ready', bytes: s.coverage.bytes, findings: s.findings.map((f) => f.kind) });
  }
  if (cmd === 'status') print({ event: 'status', status: guard.status() });
  if (cmd === 'exit') {
    guard?.stop();
    rl.close();
  }
});
