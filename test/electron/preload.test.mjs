// The preload as Electron loads it in a sandboxed renderer: the emitted file is run in a fresh
// VM context whose `require` knows only 'electron' (what a sandboxed preload gets). Its IPC is
// looped back into the real bridge (dist/electron/bridge.js) through the unit-test fakes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { CHANNELS, API_KEY } from '../../dist/electron/channels.js';
import { PRELOAD_CHANNELS } from '../../dist/electron/preload.js';
import { createStatusBridge } from '../../dist/electron/bridge.js';
import { FakeIpcMain, FakeWebContents, FakeFrame, FakeSource, eventFrom } from './fakes.mjs';
import { makeSnapshots } from './snapshots.mjs';
import { createRendererView } from '../../dist/electron/renderer-view.js';

/** What renderers get of a status (the bridge sends the renderer view). */
const view = (s) => createRendererView()(s);

const preloadPath = fileURLToPath(new URL('../../dist/electron/preload.js', import.meta.url));
const source = fs.readFileSync(preloadPath, 'utf8');
const snaps = await makeSnapshots();

test('preload: the emitted file requires nothing but electron', () => {
  const requires = [...source.matchAll(/\brequire\s*\(\s*(['"`])([^'"`]*)\1\s*\)/g)].map((m) => m[2]);
  assert.deepEqual([...new Set(requires)], ['electron'], `preload.js must only require('electron'), found ${JSON.stringify(requires)}`);
  assert.doesNotMatch(source, /\brequire\s*\(\s*[^'"`\s]/, 'preload.js must not call require with a computed id');
  assert.doesNotMatch(source, /^\s*import\s|\bimport\s*\(/m, 'preload.js must not contain import statements');
});

test('preload: its inlined channel names equal the main side constants', () => {
  assert.deepEqual({ ...PRELOAD_CHANNELS }, { ...CHANNELS, apiKey: API_KEY }, 'preload and channels.ts disagree');
});

/** Runs preload.js like Electron's sandboxed renderer does and returns what it exposed. */
function runPreload({ ipcRenderer, contextBridge, type = 'renderer' }) {
  const exposed = {};
  const bridge = contextBridge ?? { exposeInMainWorld(key, api) { exposed[key] = api; } };
  const errors = [];
  const sandboxRequire = (id) => {
    if (id === 'electron') return { contextBridge: bridge, ipcRenderer };
    throw new Error(`module not found: ${id} (sandboxed preloads can only require electron)`);
  };
  const module = { exports: {} };
  const context = vm.createContext({ console: { error: (...a) => errors.push(a.join(' ')) }, process: { type } });
  const fn = vm.runInContext(`(function (exports, require, module) {${source}\n})`, context, { filename: preloadPath });
  fn(module.exports, sandboxRequire, module);
  return { exposed, errors };
}

/** An ipcRenderer whose messages reach `ipcMain` as if sent by `frame` of `wc`. */
function loopback(ipcMain, wc, frame) {
  const listeners = new Map();
  frame.send = (channel, ...args) => {
    for (const fn of listeners.get(channel) ?? []) fn({ senderId: 0, ports: [] }, ...args);
  };
  return {
    sent: [],
    invoke(channel, ...args) {
      return Promise.resolve().then(() => ipcMain.invoke(channel, eventFrom(wc, frame), ...args));
    },
    send(channel, ...args) {
      this.sent.push(channel);
      const event = eventFrom(wc, frame);
      event.reply = (ch, ...a) => frame.send(ch, ...a); // IpcMainEvent.reply reaches the sending frame
      ipcMain.send(channel, event, ...args);
    },
    on(channel, fn) {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel).add(fn);
    },
    removeListener(channel, fn) {
      listeners.get(channel)?.delete(fn);
    },
    listenerCount(channel) {
      return listeners.get(channel)?.size ?? 0;
    },
  };
}

test('preload: window.procguard reads status through the bridge, frozen, with no IPC leak', async () => {
  const ipcMain = new FakeIpcMain();
  const src = new FakeSource(snaps.ok);
  const bridge = createStatusBridge(src, ipcMain, { allowedOrigins: ['app://main'] });
  const wc = new FakeWebContents();
  const frame = new FakeFrame({ origin: 'app://main' });
  const ipcRenderer = loopback(ipcMain, wc, frame);
  const { exposed, errors } = runPreload({ ipcRenderer });
  assert.deepEqual(errors, [], 'the preload should not log errors');
  const api = exposed.procguard;
  assert.ok(api, 'window.procguard should be exposed');
  assert.deepEqual(Object.keys(api).sort(), ['getStatus', 'onStatus'], 'the API has exactly getStatus and onStatus');
  assert.ok(Object.isFrozen(api), 'the API object is frozen');

  const status = await api.getStatus();
  assert.deepEqual(JSON.parse(JSON.stringify(status)), view(snaps.ok), 'getStatus resolves to the guard status');
  assert.ok(Object.isFrozen(status) && Object.isFrozen(status.hardening.steps[0]), 'the status is deep-frozen');

  const calls = [];
  const off = api.onStatus((...args) => calls.push(args));
  const off2 = api.onStatus(() => {});
  assert.deepEqual(ipcRenderer.sent, [CHANNELS.subscribe], 'two callbacks subscribe once');
  assert.equal(calls.length, 1, 'the current snapshot arrives on subscribe');
  src.publish(snaps.findings);
  assert.equal(calls.length, 2, 'a new snapshot reaches the callback');
  assert.equal(calls[1].length, 1, 'the callback receives only the status, never the IPC event');
  assert.deepEqual(JSON.parse(JSON.stringify(calls[1][0])), view(snaps.findings), 'the callback receives the new snapshot');
  off();
  off();
  assert.deepEqual(ipcRenderer.sent, [CHANNELS.subscribe], 'unsubscribe waits for the last callback');
  off2();
  assert.deepEqual(ipcRenderer.sent, [CHANNELS.subscribe, CHANNELS.unsubscribe], 'the last unsubscribe tells the main process');
  assert.equal(ipcRenderer.listenerCount(CHANNELS.push), 0, 'the push listener is removed');
  assert.equal(bridge.stats().subscribers, 0, 'the bridge has no subscriber left');
  assert.throws(() => api.onStatus('nope'), { name: 'TypeError', message: 'procguard.onStatus: callback must be a function' });
  bridge.dispose();
});

test('preload: a refused request rejects getStatus', async () => {
  const ipcMain = new FakeIpcMain();
  const bridge = createStatusBridge(new FakeSource(snaps.ok), ipcMain, { allowedOrigins: ['app://main'] });
  const ipcRenderer = loopback(ipcMain, new FakeWebContents(), new FakeFrame({ origin: 'https://evil.example' }));
  const { exposed } = runPreload({ ipcRenderer });
  await assert.rejects(exposed.procguard.getStatus(), /refused by the main process/, 'a bad origin should get a rejection');
  bridge.dispose();
});

test('preload: a refused subscription reaches onError, and a later onStatus asks again', () => {
  const ipcMain = new FakeIpcMain();
  let allow = false;
  const bridge = createStatusBridge(new FakeSource(snaps.ok), ipcMain, { allowedOrigins: ['app://main'], filter: () => allow });
  const ipcRenderer = loopback(ipcMain, new FakeWebContents(), new FakeFrame({ origin: 'app://main' }));
  const { exposed } = runPreload({ ipcRenderer });
  const got = [];
  const errors = [];
  exposed.procguard.onStatus((s) => got.push(s), (e) => errors.push(e));
  assert.equal(got.length, 0, 'a refused frame gets no status');
  assert.equal(errors.length, 1, 'the refusal reaches onError once');
  assert.match(errors[0].message, /refused by the main process/, 'the error says it was refused');
  assert.equal(ipcRenderer.listenerCount(CHANNELS.push), 0, 'the push listener is removed after a refusal');
  allow = true;
  exposed.procguard.onStatus((s) => got.push(s));
  assert.deepEqual(ipcRenderer.sent, [CHANNELS.subscribe, CHANNELS.subscribe], 'the next onStatus subscribes again');
  assert.equal(got.length, 2, 'both callbacks get the snapshot once the bridge accepts');
  assert.equal(bridge.stats().subscribers, 1, 'the bridge holds one subscription');
  assert.throws(() => exposed.procguard.onStatus(() => {}, 'x'), { name: 'TypeError' }, 'onError must be a function');
  bridge.dispose();
});

test('preload: outside a renderer it exposes nothing; without contextIsolation it logs and does not throw', () => {
  const none = runPreload({ ipcRenderer: {}, type: 'browser' });
  assert.deepEqual(none.exposed, {}, 'nothing exposed when process.type is not renderer');
  const failing = runPreload({
    ipcRenderer: {},
    contextBridge: { exposeInMainWorld() { throw new Error('contextBridge API can only be used when contextIsolation is enabled'); } },
  });
  assert.equal(failing.errors.length, 1, 'one error should be logged');
  assert.match(failing.errors[0], /contextIsolation must be enabled/, 'the log line should name the cause');
});
