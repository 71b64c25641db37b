// Electron's sandbox decision for a renderer (src/electron/sandbox-decision.ts) and its use in the
// process-tree claims: Linux has no ProcessMetric.sandboxed, so the claim must follow Electron's
// own rules (--no-sandbox, --enable-sandbox / app.enableSandbox(), webPreferences.sandbox, the
// nodeIntegration default), and the tree monitor must never report a mismatch those rules explain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { decideRendererSandbox, readSandboxSwitches } from '../../dist/electron/sandbox-decision.js';
import { electronClaims } from '../../dist/tree/electron.js';
import { TreeMonitor } from '../../dist/tree/monitor.js';
import { FakeApp } from './fakes.mjs';
import { fakeProc } from '../tree/helpers.mjs';

const NONE = { enableSandbox: false, noSandbox: false, source: 'app.commandLine' };
const ENABLE = { enableSandbox: true, noSandbox: false, source: 'app.commandLine' };
const NOSB = { enableSandbox: false, noSandbox: true, source: 'app.commandLine' };

test('sandbox decision: Electron\'s rules, in order', () => {
  const cases = [
    // [prefs, switches, sandboxed, basis, requested]
    [{}, NONE, true, 'default', undefined],
    [{ nodeIntegration: true }, NONE, false, 'default with nodeIntegration', undefined],
    [{ nodeIntegrationInWorker: true }, NONE, false, 'default with nodeIntegration', undefined],
    [{ nodeIntegration: true, sandbox: true }, NONE, true, 'webPreferences.sandbox', true],
    [{ sandbox: false }, NONE, false, 'webPreferences.sandbox', false],
    // app.enableSandbox() / --enable-sandbox: every renderer sandboxed, whatever it asked for.
    [{ sandbox: false }, ENABLE, true, 'switch --enable-sandbox', false],
    [{ nodeIntegration: true }, ENABLE, true, 'switch --enable-sandbox', undefined],
    // --no-sandbox: nothing is sandboxed.
    [{ sandbox: true }, NOSB, false, 'switch --no-sandbox', true],
    [{}, NOSB, false, 'switch --no-sandbox', undefined],
    [{ sandbox: true }, { enableSandbox: true, noSandbox: true, source: 'app.commandLine' }, false, 'switch --no-sandbox', true],
    [null, NONE, true, 'default', undefined],
    [{ sandbox: 'yes' }, NONE, true, 'default', undefined],
  ];
  for (const [prefs, sw, sandboxed, basis, requested] of cases) {
    const d = decideRendererSandbox(prefs, sw);
    const what = `${JSON.stringify(prefs)} with ${JSON.stringify(sw)}`;
    assert.equal(d.sandboxed, sandboxed, `${what}: sandboxed`);
    assert.equal(d.basis, basis, `${what}: basis`);
    assert.equal(d.requested, requested, `${what}: requested`);
    assert.equal(d.uncertain, false, `${what}: certain when the switches come from app.commandLine`);
  }
  // From argv only, app.enableSandbox() is invisible: an unsandboxed outcome is uncertain.
  const argvOnly = { enableSandbox: false, noSandbox: false, source: 'process.argv' };
  assert.equal(decideRendererSandbox({ sandbox: false }, argvOnly).uncertain, true, 'sandbox:false read from argv is uncertain');
  assert.equal(decideRendererSandbox({}, argvOnly).uncertain, false, 'a sandboxed outcome cannot be undone by enableSandbox');
});

test('sandbox decision: switches from app.commandLine (which app.enableSandbox() edits), argv, env, or declared', () => {
  const app = new FakeApp({ argv: ['/opt/app/app', '--no-sandbox'] });
  assert.deepEqual(readSandboxSwitches(app), NOSB, '--no-sandbox on the command line');
  app.enableSandbox();
  assert.deepEqual(readSandboxSwitches(app), ENABLE, 'app.enableSandbox() removes --no-sandbox and adds --enable-sandbox, seen through app.commandLine');
  assert.deepEqual(readSandboxSwitches(new FakeApp({ env: { ELECTRON_DISABLE_SANDBOX: '1' } })), NOSB, 'ELECTRON_DISABLE_SANDBOX is a --no-sandbox');
  assert.deepEqual(readSandboxSwitches(undefined, undefined, ['node', 'main.js', '--enable-sandbox'], {}), { enableSandbox: true, noSandbox: false, source: 'process.argv' }, 'argv fallback');
  assert.deepEqual(readSandboxSwitches(undefined, undefined, ['node', 'main.js', '--', '--no-sandbox'], {}), { enableSandbox: false, noSandbox: false, source: 'process.argv' }, 'arguments after -- are not switches');
  assert.deepEqual(readSandboxSwitches({}, undefined, ['x'], { ELECTRON_DISABLE_SANDBOX: '' }), { enableSandbox: false, noSandbox: true, source: 'process.argv' }, 'env fallback');
  const broken = { commandLine: { hasSwitch() { throw new Error('gone'); } } };
  assert.equal(readSandboxSwitches(broken, undefined, ['x', '--no-sandbox'], {}).source, 'process.argv', 'a throwing commandLine falls back to argv');
  assert.deepEqual(readSandboxSwitches(app, { enableSandbox: false }), { enableSandbox: false, noSandbox: false, source: 'declared' }, 'a declaration wins');
  assert.throws(() => readSandboxSwitches(app, { noSandbox: 'yes' }), { name: 'TypeError', message: 'sandboxSwitches.noSandbox must be a boolean' });
  assert.throws(() => readSandboxSwitches(app, null), TypeError, 'a null declaration is a TypeError');
});

class Contents {
  constructor(pid, prefs, title = 'Window') {
    Object.assign(this, { pid, prefs, title });
  }
  getOSProcessId() { return this.pid; }
  getTitle() { return this.title; }
  getURL() { return 'app://main/index.html'; }
  isDestroyed() { return false; }
  getLastWebPreferences() { return this.prefs; }
}

test('sandbox claims: Linux claims follow the decision and label a webPreferences value that did not decide as requested', () => {
  const metrics = [{ pid: 100, type: 'Browser' }, { pid: 200, type: 'Tab', sandboxed: false }, { pid: 300, type: 'Tab', sandboxed: true }];
  const app = new FakeApp({ metrics });
  app.enableSandbox();
  const wcs = [new Contents(200, { nodeIntegration: true }), new Contents(300, { sandbox: false })];
  const claims = electronClaims(app, () => wcs)();
  assert.deepEqual(claims.get(200), { type: 'renderer', title: 'Window', url: 'app://main/index.html', sandboxed: true, sandboxBasis: 'switch --enable-sandbox' },
    'under app.enableSandbox() a nodeIntegration window is sandboxed');
  assert.deepEqual(claims.get(300), { type: 'renderer', title: 'Window', url: 'app://main/index.html', sandboxed: true, sandboxBasis: 'switch --enable-sandbox', sandboxRequested: false },
    'a sandbox:false request overruled by app.enableSandbox() is labelled requested, not claimed');
  // macOS/Windows: ProcessMetric.sandboxed is Electron's own answer and wins.
  const mac = new FakeApp({ metrics, platform: 'darwin' });
  const macClaims = electronClaims(mac, () => wcs)();
  assert.deepEqual([macClaims.get(200).sandboxed, macClaims.get(200).sandboxBasis], [false, 'app-metrics'], 'darwin: the metric decides');
  // No app.commandLine: a sandbox:false request could be overruled unseen, so nothing is claimed.
  const bare = { getAppMetrics: () => [{ pid: 200, type: 'Tab' }] };
  const bareClaims = electronClaims(bare, () => [new Contents(200, { sandbox: false })])();
  assert.equal(bareClaims.get(200).sandboxed, undefined, 'without app.commandLine an unsandboxed decision is not claimed');
  // Two windows in one renderer with different decisions: no sandbox claim for it.
  const shared = electronClaims(new FakeApp({ metrics: [{ pid: 400, type: 'Tab' }] }), () => [new Contents(400, {}), new Contents(400, { sandbox: false })])();
  assert.equal(shared.get(400).sandboxed, undefined, 'conflicting decisions for one renderer claim nothing');
  // The private getLastWebPreferences gone: no sandbox claim, no crash.
  const noPrivate = new Contents(500, {});
  noPrivate.getLastWebPreferences = undefined;
  const np = electronClaims(new FakeApp({ metrics: [{ pid: 500, type: 'Tab' }] }), () => [noPrivate])();
  assert.deepEqual(np.get(500), { type: 'renderer', title: 'Window', url: 'app://main/index.html' }, 'without getLastWebPreferences the window is named but no sandbox is claimed');
  assert.throws(() => electronClaims(app, () => [], { sandboxSwitches: { enableSandbox: 1 } }), TypeError, 'a bad declaration is a TypeError at once');
});

test('sandbox claims against the kernel: no mismatch that Electron\'s rules explain', { skip: process.platform !== 'linux' }, async () => {
  const p = fakeProc();
  try {
    // 200: a sandboxed renderer (captured from Chromium); 300: a --no-sandbox renderer.
    p.put(100, 1, 10, 'browser', [200, 300]);
    p.put(300, 100, 30, 'renderer-nosandbox');
    // Namespace links as captured from Chromium (test/fixtures/tree/ns-links.txt): the browser and
    // the --no-sandbox renderer share the root's namespaces, the sandboxed renderer has its own.
    const ns = { 100: [4026531837, 4026531836, 4026531833], 200: [4026532176, 4026532179, 4026532180], 300: [4026531837, 4026531836, 4026531833] };
    for (const [pid, [user, pidNs, net]] of Object.entries(ns)) {
      fs.mkdirSync(path.join(p.dir, pid, 'ns'), { recursive: true });
      fs.symlinkSync(`user:[${user}]`, path.join(p.dir, pid, 'ns', 'user'));
      fs.symlinkSync(`pid:[${pidNs}]`, path.join(p.dir, pid, 'ns', 'pid'));
      fs.symlinkSync(`net:[${net}]`, path.join(p.dir, pid, 'ns', 'net'));
    }
    const metrics = [{ pid: 100, type: 'Browser' }, { pid: 200, type: 'Tab' }, { pid: 300, type: 'Tab' }];
    const run = async (app, wcs) => {
      const m = new TreeMonitor({ rootPid: 100, procRoot: p.dir, settleMs: 0, claims: electronClaims(app, () => wcs) });
      return (await m.check()).open;
    };
    const mismatches = (open) => open.filter((o) => o.kind === 'child-claim-mismatch').map((o) => o.pid);

    // app.enableSandbox(): the nodeIntegration window (pid 200) is sandboxed in the kernel. Before
    // the fix its claim came from webPreferences (unsandboxed): a false mismatch.
    const enabled = new FakeApp({ metrics });
    enabled.enableSandbox();
    const open1 = await run(enabled, [new Contents(200, { nodeIntegration: true }), new Contents(300, { sandbox: false })]);
    assert.deepEqual(mismatches(open1), [300], 'only pid 300 (kernel: unsandboxed, Electron decided sandboxed) is a mismatch');

    // --no-sandbox: every renderer unsandboxed by decision; pid 300 is unsandboxed: no mismatch, only child-unsandboxed.
    const off = new FakeApp({ metrics, argv: ['/opt/app/app', '--no-sandbox'] });
    const open2 = await run(off, [new Contents(300, { sandbox: true })]);
    assert.deepEqual(mismatches(open2), [], 'a global --no-sandbox explains an unsandboxed renderer that asked for sandbox: true');
    assert.ok(open2.some((o) => o.kind === 'child-unsandboxed' && o.pid === 300), 'the unsandboxed renderer is still child-unsandboxed');

    // No switches: the webPreferences decide; a sandbox:true window in an unsandboxed process is a real mismatch.
    const plain = new FakeApp({ metrics });
    const open3 = await run(plain, [new Contents(200, {}), new Contents(300, { sandbox: true })]);
    assert.deepEqual(mismatches(open3), [300], 'sandbox:true decided, the kernel says unsandboxed: reported');
    const open4 = await run(plain, [new Contents(300, { nodeIntegration: true })]);
    assert.deepEqual(mismatches(open4), [], 'nodeIntegration without sandbox: unsandboxed by Electron\'s default, as the kernel shows');
  } finally {
    fs.rmSync(p.dir, { recursive: true, force: true });
  }
});
