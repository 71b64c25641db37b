// Run by region-identity.test.mjs with a COPY of node as its executable. argv: <distDir>
// Starts a CodeMonitor (mainExecutableOnly) and takes the main executable's identity, says
// "ready", waits until the parent has deleted or replaced the executable file, then reports what
// the maps, the classifier and the monitor see. One JSON line per message.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const dist = process.argv[2];
const { CodeMonitor, classifyRegions } = require(path.join(dist, 'internals.js'));
const { readMapsSync } = require(path.join(dist, 'procfs', 'maps.js'));
let mainExecutableKey = () => undefined;
try {
  ({ mainExecutableKey } = require(path.join(dist, 'integrity', 'main-exe.js')));
} catch { /* a build without it: the classifier falls back to the path */ }

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const mon = new CodeMonitor({ mainExecutableOnly: true });
const key = mainExecutableKey();
const exePath = fs.realpathSync('/proc/self/exe');
const ino = String(fs.statSync('/proc/self/exe').ino);
out({ ready: true, execPath: process.execPath, key: key ?? null });

process.stdin.once('data', async () => {
  try {
    const maps = readMapsSync('self');
    const exeMaps = maps.filter((e) => e.inode === ino).map((e) => ({ path: e.path, pathText: e.pathText, deleted: e.deleted, exec: e.exec }));
    const regions = classifyRegions(maps, { mainExecutable: exePath, mainExecutableKey: key, mainExecutableOnly: true })
      .map((r) => ({ klass: r.klass, path: r.path, deleted: r.deleted }));
    const base = await mon.baseline();
    out({ exeMaps, regions, coverage: base.coverage, link: fs.readlinkSync('/proc/self/exe') });
  } catch (e) {
    out({ error: String(e && e.stack || e) });
  } finally {
    mon.close();
  }
});
