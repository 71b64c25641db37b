// Electron's claims about its processes (app.getAppMetrics, webContents) against the kernel's view,
// with in-memory fakes of the Electron objects and a procfs tree written to a temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { root, fakeProc } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { electronClaims } = require(path.join(root, 'dist', 'tree', 'electron.js'));
const { TreeMonitor } = require(path.join(root, 'dist', 'tree', 'monitor.js'));
const { electronProcessTree } = require(path.join(root, 'dist', 'electron', 'main.js'));

class FakeApp {
  constructor(metrics) {
    this.metrics = metrics;
  }
  getAppMetrics() {
    return this.metrics;
  }
}
class FakeContents {
  constructor(pid, title, url, sandbox) {
    Object.assign(this, { pid, title, url, sandbox, destroyed: false });
  }
  getOSProcessId() {
    if (this.destroyed) throw new Error('Object has been destroyed');
    return this.pid;
  }
  getTitle() {
    return this.title;
  }
  getURL() {
    return this.url;
  }
  isDestroyed() {
    return this.destroyed;
  }
  getLastWebPreferences() {
    return this.sandbox === undefined ? {} : { sandbox: this.sandbox };
  }
}

test('electronClaims: types from getAppMetrics, window title/URL and sandbox from webContents', () => {
  const app = new FakeApp([
    { pid: 100, type: 'Browser' },
    { pid: 200, type: 'Tab' },
    { pid: 300, type: 'GPU', sandboxed: false },
    { pid: 400, type: 'Utility', serviceName: 'network.mojom.NetworkService' },
    { pid: 0, type: 'Tab' },
  ]);
  const wcs = [new FakeContents(200, 'Settings', 'https://app.example/settings', true), new FakeContents(200, 'Other', 'https://x/', false)];
  const dead = new FakeContents(500, 'gone', 'x', true);
  dead.destroyed = true;
  const claims = electronClaims(app, () => [...wcs, dead])();
  assert.deepEqual(claims.get(100), { type: 'browser' });
  // The two webContents of pid 200 disagree (sandbox true / false): no sandbox claim for that renderer.
  assert.deepEqual(claims.get(200), { type: 'renderer', title: 'Settings', url: 'https://app.example/settings' }, 'the first webContents names a shared renderer');
  assert.deepEqual(claims.get(300), { type: 'gpu-process', sandboxed: false, sandboxBasis: 'app-metrics' });
  assert.equal(claims.get(400).type, 'utility');
  assert.ok(!claims.has(0) && !claims.has(500));
  assert.throws(() => electronClaims({}, () => []), TypeError);
  assert.throws(() => electronClaims(app, null), TypeError);
});

test('a renderer Electron calls sandboxed that the kernel shows unsandboxed is child-claim-mismatch, labelled by its window', { skip: process.platform !== 'linux' }, async () => {
  const p = fakeProc();
  try {
    // The captured --no-sandbox renderer's status for pid 200.
    fs.writeFileSync(path.join(p.dir, '200', 'status'), fs.readFileSync(path.join(root, 'test', 'fixtures', 'tree', 'status-renderer-nosandbox.txt'), 'latin1').replace(/\nPid:\t\d+/, '\nPid:\t200'));
    const app = new FakeApp([{ pid: 100, type: 'Browser' }, { pid: 200, type: 'Tab' }]);
    const wc = new FakeContents(200, 'Settings', 'https://app.example/settings', true);
    const m = new TreeMonitor({ rootPid: 100, procRoot: p.dir, settleMs: 0, claims: electronClaims(app, () => [wc]) });
    const u = await m.check();
    const mm = u.open.find((o) => o.kind === 'child-claim-mismatch');
    assert.ok(mm, JSON.stringify(u.open.map((o) => o.kind)));
    assert.equal(mm.subsystem, 'electron');
    assert.equal(mm.pid, 200);
    assert.equal(mm.processType, 'renderer');
    assert.match(mm.detail, /renderer pid 200 'Settings' \(https:\/\/app\.example\/settings\)/);
    assert.match(mm.detail, /Electron says sandboxed, the kernel shows not sandboxed \(seccomp, namespace\)/);
    const un = u.open.find((o) => o.kind === 'child-unsandboxed');
    assert.match(un.detail, /'Settings'/, 'the sandbox finding names the window too');
    const proc = m.processes().find((x) => x.pid === 200);
    assert.equal(proc.label, "'Settings' (https://app.example/settings)");
    assert.deepEqual(proc.claim, { type: 'renderer', title: 'Settings', url: 'https://app.example/settings', sandboxed: true, sandboxBasis: 'webPreferences.sandbox' });

    // Electron agrees with the kernel (not sandboxed): no mismatch. A type disagreement is one.
    wc.sandbox = false;
    app.metrics[1].type = 'GPU';
    const u2 = await m.check();
    const mm2 = u2.open.find((o) => o.kind === 'child-claim-mismatch');
    assert.match(mm2.detail, /Electron says gpu-process, its command line says renderer/);
    assert.doesNotMatch(mm2.detail, /Electron says sandboxed/);
    // A claims function that throws is a checker error, not a crash; the tree is still checked.
    const errors = [];
    const m2 = new TreeMonitor({ rootPid: 100, procRoot: p.dir, settleMs: 0, claims: () => { throw new Error('boom'); } });
    m2.start(() => {}, (e) => errors.push(e));
    const u3 = await m2.check();
    m2.stop();
    assert.ok(u3.open.some((o) => o.kind === 'child-unsandboxed'));
    assert.ok(errors.some((e) => /boom/.test(e.message)));
  } finally {
    fs.rmSync(p.dir, { recursive: true, force: true });
  }
});

test('electronProcessTree: outside Electron it needs the objects; with them it roots the tree at this process', () => {
  assert.throws(() => electronProcessTree(), (e) => e.code === 'ERR_NOT_ELECTRON_MAIN');
  const o = electronProcessTree({ app: new FakeApp([]), webContents: { getAllWebContents: () => [] }, pollMs: 300 });
  assert.equal(o.rootPid, process.pid);
  assert.equal(o.pollMs, 300);
  assert.equal(typeof o.claims, 'function');
  assert.deepEqual([...o.claims().entries()], []);
});
