import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { auditWebContentsConfig, createWindowAudit } from '../../dist/electron/window-audit.js';
import { auditWindows } from '../../dist/electron/main.js';
import { FakeDebugger } from './fakes.mjs';

const SAFE = { id: 1, type: 'window', url: 'app://main/index.html', preferences: { contextIsolation: true, sandbox: true }, hasWindowOpenHandler: true, navigationGuards: 1 };
const kinds = (obs) => obs.map((o) => o.kind).sort();

test('window audit: a locked-down window has no observations', () => {
  assert.deepEqual(auditWebContentsConfig(SAFE), [], 'no observation expected for a safe window');
  assert.deepEqual(auditWebContentsConfig({ ...SAFE, preferences: {} }), [], "Electron's defaults (isolation and sandbox on) are safe");
});

test('window audit: every weak setting is reported with a stable key', () => {
  const obs = auditWebContentsConfig({
    id: 7,
    type: 'window',
    preferences: {
      contextIsolation: false, sandbox: false, nodeIntegration: true, nodeIntegrationInSubFrames: true, nodeIntegrationInWorker: true,
      webSecurity: false, allowRunningInsecureContent: true, experimentalFeatures: true, webviewTag: true,
    },
    hasWindowOpenHandler: false,
    navigationGuards: 0,
  });
  assert.deepEqual(kinds(obs), [
    'context-isolation-disabled', 'experimental-features-enabled', 'insecure-content-allowed', 'no-navigation-guard', 'no-window-open-handler',
    'node-integration-enabled', 'node-integration-in-subframes', 'node-integration-in-worker', 'sandbox-disabled', 'web-security-disabled', 'webview-tag-enabled',
  ], 'each weakness should produce exactly one observation');
  for (const o of obs) {
    assert.equal(o.subsystem, 'electron', 'subsystem should be electron');
    assert.equal(o.key, `electron:wc7:${o.kind}`, 'key should be electron:wc<id>:<kind>');
    assert.equal(o.evidence.webContentsId, 7, 'evidence names the webContents');
  }
  assert.deepEqual(kinds(auditWebContentsConfig({ ...SAFE, preferences: { nodeIntegration: true } })), ['node-integration-enabled', 'sandbox-disabled'],
    'nodeIntegration without an explicit sandbox turns the default sandbox off');
  assert.deepEqual(kinds(auditWebContentsConfig({ ...SAFE, preferences: null })), ['preferences-unreadable'], 'unreadable preferences are reported, not passed');
});

class FakeContents extends EventEmitter {
  constructor(id, prefs) {
    super();
    this.id = id;
    this.prefs = prefs;
    this.destroyed = false;
    // Electron's WebContents.prototype._init sets the private handler slot to null (lib/browser/api/web-contents.ts).
    this._windowOpenHandler = null;
    this.debugger = new FakeDebugger();
  }
  getType() { return 'window'; }
  getURL() { return 'app://main/'; }
  getLastWebPreferences() { return this.prefs; }
  // Like Electron's lib/browser/api/web-contents.ts.
  setWindowOpenHandler(handler) { this._windowOpenHandler = handler; }
  isDestroyed() { return this.destroyed; }
}
const nextTurn = () => new Promise((r) => setImmediate(r));

test('window audit: wiring audits created webContents after the app attached its handlers', async () => {
  const app = new EventEmitter();
  const changes = [];
  const audit = auditWindows({ app, onChange: (o) => changes.push(o) });
  const careless = new FakeContents(1, { sandbox: false });
  app.emit('web-contents-created', {}, careless);
  const careful = new FakeContents(2, { sandbox: true, contextIsolation: true });
  app.emit('web-contents-created', {}, careful);
  // What an app does right after new BrowserWindow(): install its guards.
  careful.setWindowOpenHandler(() => ({ action: 'deny' }));
  careful.on('will-navigate', (e) => e.preventDefault());
  await nextTurn();
  assert.deepEqual(kinds(audit.observations()), ['no-navigation-guard', 'no-window-open-handler', 'sandbox-disabled'], 'only the careless window is reported');
  assert.ok(audit.observations().every((o) => o.key.startsWith('electron:wc1:')), 'observations belong to webContents 1');
  assert.ok(changes.length >= 1, 'onChange is called');

  careless.setWindowOpenHandler(() => ({ action: 'deny' }));
  careless.emit('did-finish-load');
  assert.deepEqual(kinds(audit.observations()), ['no-navigation-guard', 'sandbox-disabled'], 'a handler set later is seen on the next load');

  careless.destroyed = true;
  careless.emit('destroyed');
  assert.deepEqual(audit.observations(), [], 'a destroyed webContents closes its observations');
  assert.deepEqual(changes.at(-1), [], 'the last change reports nothing open');

  audit.dispose();
  assert.equal(app.listenerCount('web-contents-created'), 0, 'dispose removes the app listener');
  assert.equal(careful.listenerCount('did-finish-load'), 0, 'dispose removes webContents listeners');
});

test('window audit: existing webContents and missing getLastWebPreferences', async () => {
  const app = new EventEmitter();
  const old = new FakeContents(5, { contextIsolation: true });
  old.getLastWebPreferences = undefined;
  const audit = createWindowAudit(app, { existing: [old] });
  await nextTurn();
  assert.deepEqual(kinds(audit.observations()), ['no-navigation-guard', 'no-window-open-handler', 'preferences-unreadable'], 'unknown preferences are reported');
  audit.dispose();
});

test('window audit: enableBlinkFeatures is reported with the features (Electron security checklist 10)', () => {
  const obs = auditWebContentsConfig({ ...SAFE, preferences: { ...SAFE.preferences, enableBlinkFeatures: 'CSSPseudoHas, ExperimentalIsInputPending' } });
  assert.deepEqual(kinds(obs), ['blink-features-enabled'], 'one observation for enableBlinkFeatures');
  assert.deepEqual(obs[0].evidence.features, ['CSSPseudoHas', 'ExperimentalIsInputPending'], 'the features are listed');
  assert.match(obs[0].detail, /CSSPseudoHas/, 'the detail names them');
  assert.deepEqual(auditWebContentsConfig({ ...SAFE, preferences: { ...SAFE.preferences, enableBlinkFeatures: ' ' } }), [], 'an empty list enables nothing');
});

test('window audit: the sandbox finding follows Electron\'s decision (switches), not the request', () => {
  const sw = (enableSandbox, noSandbox) => ({ enableSandbox, noSandbox, source: 'app.commandLine' });
  const k = (prefs, switches) => kinds(auditWebContentsConfig({ ...SAFE, preferences: prefs, switches }));
  assert.deepEqual(k({ sandbox: false }, sw(true, false)), [], 'app.enableSandbox() overrules sandbox:false: no sandbox-disabled');
  assert.deepEqual(k({ nodeIntegration: true }, sw(true, false)), ['node-integration-enabled'], 'nodeIntegration under app.enableSandbox(): sandboxed');
  const off = auditWebContentsConfig({ ...SAFE, preferences: { sandbox: true }, switches: sw(false, true) });
  assert.deepEqual(kinds(off), ['sandbox-disabled'], 'a global --no-sandbox disables the sandbox a window asked for');
  assert.deepEqual([off[0].evidence.sandboxBasis, off[0].evidence.sandboxRequested], ['switch --no-sandbox', true], 'the evidence says what decided and what was requested');
  assert.deepEqual(k({ nodeIntegrationInWorker: true }, sw(false, false)), ['node-integration-in-worker', 'sandbox-disabled'], 'nodeIntegrationInWorker turns the default sandbox off too');
});

test('window audit: private APIs gone -> reported as unknown or unreadable, never a crash', async () => {
  const app = new EventEmitter();
  const noSlot = new FakeContents(11, { contextIsolation: true, sandbox: true });
  delete noSlot._windowOpenHandler; // a future Electron without the private slot
  noSlot.on('will-navigate', () => {});
  const noPrefs = new FakeContents(12, {});
  noPrefs.getLastWebPreferences = undefined;
  noPrefs.on('will-navigate', () => {});
  noPrefs.setWindowOpenHandler(() => ({ action: 'deny' }));
  const throwing = new FakeContents(13, {});
  throwing.getLastWebPreferences = () => { throw new Error('Object has been destroyed'); };
  throwing.on('will-navigate', () => {});
  throwing.setWindowOpenHandler(() => ({ action: 'deny' }));
  const audit = createWindowAudit(app, { existing: [noSlot, noPrefs, throwing] });
  await nextTurn();
  const byWc = (id) => audit.observations().filter((o) => o.evidence.webContentsId === id);
  assert.deepEqual(kinds(byWc(11)), ['window-open-handler-unknown'], 'without _windowOpenHandler the handler is unknown, not "missing"');
  assert.deepEqual(kinds(byWc(12)), ['preferences-unreadable'], 'without getLastWebPreferences the preferences are unreadable');
  assert.equal(byWc(12)[0].evidence.problem, 'private-api-missing', 'and it says the private API is gone');
  assert.match(byWc(12)[0].detail, /getLastWebPreferences\(\) is gone/, 'the detail names the private API');
  assert.equal(byWc(13)[0].evidence.problem, 'threw', 'a throwing getLastWebPreferences is reported as such');
  // A handler set through the watched setWindowOpenHandler is known even without the private slot.
  noSlot.setWindowOpenHandler(() => ({ action: 'deny' }));
  noSlot.emit('did-finish-load');
  assert.deepEqual(byWc(11), [], 'a handler seen through the wrapper is known');
  audit.dispose();
});

const within = async (ms, pred, what) => {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
};

test('window audit: webContents.debugger attached is a finding at once (wrapped attach) or within 1 s (poll); detach closes it', async () => {
  const app = new EventEmitter();
  const changes = [];
  const audit = auditWindows({ app, onChange: (o) => changes.push(o) });
  const wc = new FakeContents(21, { sandbox: true, contextIsolation: true });
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  wc.on('will-navigate', () => {});
  app.emit('web-contents-created', {}, wc);
  await nextTurn();
  assert.deepEqual(audit.observations(), [], 'a clean window has no observation');

  // What a token stealer injected into the main process does.
  wc.debugger.attach('1.3');
  const found = audit.observations().find((o) => o.kind === 'debugger-attached');
  assert.ok(found, 'the attach through webContents.debugger.attach() is reported synchronously');
  assert.equal(found.key, 'electron:wc21:debugger-attached', 'stable key');
  assert.match(found.evidence.caller, /window-audit\.test\.mjs/, 'the evidence names the code that attached');
  assert.ok(changes.at(-1).some((o) => o.kind === 'debugger-attached'), 'onChange carried the finding');
  assert.throws(() => wc.debugger.attach(), /already attached/, 'the wrapped attach keeps Electron\'s behaviour');

  wc.debugger.detach();
  assert.deepEqual(audit.observations(), [], 'the detach event closes the finding');

  // An attach that bypasses the wrapper: the poll finds it within 1 s.
  Object.getPrototypeOf(wc.debugger).attach.call(wc.debugger);
  const ms = await within(1000, () => audit.observations().some((o) => o.kind === 'debugger-attached'), 'an attach through the prototype');
  assert.ok(ms <= 1000, `found after ${ms} ms`);
  assert.equal(audit.observations()[0].evidence.caller, null, 'the caller is unknown for a bypassing attach');
  Object.getPrototypeOf(wc.debugger).detach.call(wc.debugger);
  assert.deepEqual(audit.observations(), [], 'detach closes it');
  audit.dispose();
  assert.equal(Object.prototype.hasOwnProperty.call(wc.debugger, 'attach'), false, 'dispose removes the wrapper');
  assert.equal(wc.debugger.listenerCount('detach'), 0, 'dispose removes the detach listener');
});

test('window audit: the app can allow a known debugger user; a debugger attached before the audit is found', async () => {
  const app = new EventEmitter();
  const seen = [];
  const audit = auditWindows({ app, debugger: { allow: (info) => { seen.push(info); return /networkCapture/.test(info.caller ?? ''); } } });
  const wc = new FakeContents(31, { sandbox: true });
  app.emit('web-contents-created', {}, wc);
  function networkCapture(c) { c.debugger.attach(); }
  networkCapture(wc);
  assert.equal(audit.observations().filter((o) => o.kind === 'debugger-attached').length, 0, 'the allowed caller gives no finding');
  assert.equal(seen.length, 1, 'the predicate is asked once per attach');
  assert.equal(seen[0].webContentsId, 31, 'with the webContents id');
  wc.debugger.detach();
  wc.debugger.attach(); // from elsewhere: not allowed
  assert.equal(audit.observations().filter((o) => o.kind === 'debugger-attached').length, 1, 'another caller is reported');
  audit.dispose();

  const pre = new FakeContents(32, {});
  pre.debugger.attach();
  const a2 = createWindowAudit(new EventEmitter(), { existing: [pre] });
  assert.ok(a2.observations().some((o) => o.kind === 'debugger-attached' && o.evidence.webContentsId === 32), 'a debugger attached before the audit started is reported');
  a2.dispose();
  const a3 = createWindowAudit(new EventEmitter(), { existing: [pre], debugger: false });
  assert.deepEqual(a3.observations().filter((o) => o.kind === 'debugger-attached'), [], 'debugger: false turns the watch off');
  a3.dispose();
  assert.throws(() => createWindowAudit(new EventEmitter(), { debugger: { pollMs: 5000 } }), RangeError, 'a poll slower than 1 s is refused');
  assert.throws(() => createWindowAudit(new EventEmitter(), { debugger: { allow: 'yes' } }), TypeError, 'allow must be a function');
});
