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
