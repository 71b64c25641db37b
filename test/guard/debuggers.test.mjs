// Debuggers switched on after start, against a real Guard in a child process at default settings:
// a real SIGUSR1 (Node opens its inspector), inspector.open() by app code, an allowed inspector, and
// a Node process in the watched tree serving the DevTools protocol. The bound here is generous
// (load); the 1 s target is a bench row (bench/debuggers.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { lineProc, reapChildren } from '../kernel/helpers.mjs';
import { qemuNoTree } from '../qemu.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '..', '..', 'dist');
const BOUND_MS = 10000;
// --inspect-port=0: SIGUSR1 and inspector.open() take a free port, so runs in parallel (and anything
// else on 9229) never collide; the finding must name whichever port it was.
const guardChild = (options = {}) => lineProc(process.execPath, ['--inspect-port=0', path.join(here, 'children', 'debugger-child.cjs'), dist, JSON.stringify(options)], {}, JSON.parse, 30000);
// A failing test must not leave its Guard running (its grandchild dies with it: the child kills it on exit,
// and SIGKILL of the child closes the grandchild's stderr pipe).
test.afterEach(reapChildren);

const inspectorFinding = (l) => l.event === 'finding' && l.kind === 'inspector-active';

test('kill -USR1 on a running default Guard: an inspector-active finding naming the port', async () => {
  const g = guardChild();
  const ready = await g.waitFor((l) => l.event === 'ready', 'the Guard started');
  assert.equal(g.lines.filter(inspectorFinding).length, 0, 'no inspector finding before the signal');
  const sent = performance.now();
  process.kill(ready.pid, 'SIGUSR1');
  const f = await g.waitFor(inspectorFinding, 'an inspector-active finding after SIGUSR1', 0, BOUND_MS);
  g.send('url');
  const { url } = await g.waitFor((l) => l.event === 'url', 'the inspector URL');
  assert.ok(url, 'SIGUSR1 really opened the inspector');
  const port = Number(/:(\d+)\//.exec(url)[1]);
  assert.equal(f.evidence.port, port, `the finding names the inspector's port (${port})`);
  assert.match(f.key, new RegExp(`:${port}$`), 'the key carries the port');
  console.log(`SIGUSR1 -> inspector-active in ${(f.at - sent).toFixed(0)} ms`);
  g.send('exit');
});

test('inspector.open() by app code: an inspector-active finding', async () => {
  const g = guardChild();
  await g.waitFor((l) => l.event === 'ready', 'the Guard started');
  g.send('open');
  const f = await g.waitFor(inspectorFinding, 'an inspector-active finding after inspector.open()', 0, BOUND_MS);
  assert.ok(f.evidence.port > 0, 'the finding names a port');
  g.send('exit');
});

test('an allowed inspector (debuggers.allow) gives no finding', async () => {
  const g = guardChild({ debuggers: { allow: [{ kind: 'inspector', reason: 'crash reporter ANR detection' }] } });
  await g.waitFor((l) => l.event === 'ready', 'the Guard started');
  g.send('open');
  g.send('url');
  const { url } = await g.waitFor((l) => l.event === 'url', 'the inspector URL');
  assert.ok(url, 'the inspector is really open');
  // Several inspector ticks (500 ms) and socket scans (1 s) pass.
  await new Promise((r) => setTimeout(r, 3000));
  assert.deepEqual(g.lines.filter((l) => l.event === 'finding' && /inspector|debugging/.test(l.kind)), [], 'no debugger finding for the allowed inspector');
  g.send('exit');
});

test('a process of the watched tree serving the DevTools protocol: a remote-debugging finding', { skip: process.platform !== 'linux' ? 'Linux only' : qemuNoTree }, async () => {
  const g = guardChild({ processTree: true });
  await g.waitFor((l) => l.event === 'ready', 'the Guard started');
  g.send('spawn-inspect');
  const sp = await g.waitFor((l) => l.event === 'spawned', 'the grandchild listens');
  const f = await g.waitFor((l) => l.event === 'finding' && l.kind === 'remote-debugging', 'a remote-debugging finding', 0, BOUND_MS + 10000);
  assert.equal(f.evidence.port, sp.port, 'the finding names the listening port');
  assert.equal(f.pid, sp.pid, 'the finding names the process');
  assert.match(f.evidence.browser, /node/i, 'the DevTools endpoint says what it is');
  g.send('exit');
});

const browser = createRequire(import.meta.url)('../../scripts/find-browser.js').findBrowser();
test('Chromium started with --remote-debugging-port in the watched tree: a remote-debugging finding', { skip: process.platform !== 'linux' ? 'Linux only' : qemuNoTree || (!browser && 'no Chromium found (npm test installs or names one)') }, async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-devtools-'));
  let group = null;
  try {
    const g = guardChild({ processTree: true });
    await g.waitFor((l) => l.event === 'ready', 'the Guard started');
    g.send(`chromium ${browser.executablePath} ${profile}`);
    const sp = await g.waitFor((l) => l.event === 'spawned', 'Chromium serves DevTools', 0, 30000);
    group = sp.pid;
    const f = await g.waitFor((l) => l.event === 'finding' && l.kind === 'remote-debugging', 'a remote-debugging finding for Chromium', 0, BOUND_MS + 10000);
    assert.equal(f.evidence.port, sp.port, 'the finding names the DevTools port');
    assert.equal(f.pid, sp.pid, 'the browser process is the listener');
    assert.match(f.evidence.browser, /Chrom/i, `the endpoint says it is Chromium: ${f.evidence.browser}`);
    g.send('exit');
  } finally {
    // The browser is in its own process group (see the child): kill all of it even if the Guard child died first.
    if (group) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await reapChildren();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});
