import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStatusBridge } from '../../dist/electron/bridge.js';
import { CHANNELS } from '../../dist/electron/channels.js';
import { exposeStatus } from '../../dist/electron/main.js';
import { FakeIpcMain, FakeWebContents, FakeFrame, FakeSource, eventFrom } from './fakes.mjs';
import { makeSnapshots } from './snapshots.mjs';
import { createRendererView } from '../../dist/electron/renderer-view.js';

/** What renderers get of a status (the bridge sends the renderer view). */
const view = (s) => createRendererView()(s);

const snaps = await makeSnapshots();
const APP = 'app://main';

function setup(opts = {}) {
  const ipc = new FakeIpcMain();
  const source = new FakeSource(snaps.ok);
  let clock = 1_000_000;
  const bridge = createStatusBridge(source, ipc, { allowedOrigins: [APP], now: () => clock, ...opts });
  const wc = new FakeWebContents();
  const frame = new FakeFrame({ origin: APP });
  return { ipc, source, bridge, wc, frame, tick: (ms) => { clock += ms; } };
}

test('bridge unit: an allowed main frame gets the serialised status', () => {
  const { ipc, bridge, wc, frame } = setup();
  const reply = ipc.invoke(CHANNELS.get, eventFrom(wc, frame));
  assert.equal(typeof reply, 'string', 'reply should be the JSON string of the snapshot');
  assert.deepEqual(JSON.parse(reply), view(snaps.ok), 'reply should decode to the source status');
  assert.equal(bridge.stats().served, 1, 'served counter should count the reply');
  bridge.dispose();
});

test('bridge unit: senders from other origins are refused and counted', () => {
  const { ipc, bridge, wc } = setup();
  for (const origin of ['https://evil.example', 'null', 'file://', 'app://main.evil', 'APP://other']) {
    const reply = ipc.invoke(CHANNELS.get, eventFrom(wc, new FakeFrame({ origin })));
    assert.deepEqual(JSON.parse(reply), { procguardError: 'refused' }, `origin ${origin} should be refused`);
  }
  // A frame without an origin (an Electron without WebFrameMain.origin) is refused whatever its URL.
  const noOrigin = new FakeFrame({ origin: undefined, url: 'data:text/html,hi' });
  assert.match(ipc.invoke(CHANNELS.get, eventFrom(wc, noOrigin)), /refused/, 'a data: URL frame should be refused');
  assert.equal(bridge.stats().rejected.origin, 6, 'every bad origin should be counted under rejected.origin');
  assert.equal(bridge.stats().served, 0, 'nothing should have been served');
  bridge.dispose();
});

test('bridge unit: subframes are refused unless allowSubframes', () => {
  const { ipc, bridge, wc, frame } = setup();
  const sub = new FakeFrame({ origin: APP, parent: frame, frameId: 2 });
  assert.match(ipc.invoke(CHANNELS.get, eventFrom(wc, sub)), /refused/, 'a subframe should be refused by default');
  assert.equal(bridge.stats().rejected.subframe, 1, 'the subframe refusal should be counted');
  // A frame whose parent cannot be read is not trusted as a main frame (fail closed).
  const unknownParent = new FakeFrame({ origin: APP });
  delete unknownParent.parent;
  assert.match(ipc.invoke(CHANNELS.get, eventFrom(wc, unknownParent)), /refused/, 'a frame without parent field should be refused');
  bridge.dispose();

  const allowed = setup({ allowSubframes: true });
  const sub2 = new FakeFrame({ origin: APP, parent: allowed.frame, frameId: 2 });
  assert.deepEqual(JSON.parse(allowed.ipc.invoke(CHANNELS.get, eventFrom(allowed.wc, sub2))), view(snaps.ok), 'allowSubframes should admit a same-origin subframe');
  const evilSub = new FakeFrame({ origin: 'https://ads.example', parent: allowed.frame, frameId: 3 });
  assert.match(allowed.ipc.invoke(CHANNELS.get, eventFrom(allowed.wc, evilSub)), /refused/, 'allowSubframes must still check the origin');
  allowed.bridge.dispose();
});

test('bridge unit: missing or dead sender/senderFrame is refused', () => {
  const { ipc, bridge, wc, frame } = setup();
  assert.match(ipc.invoke(CHANNELS.get, eventFrom(wc, null)), /refused/, 'senderFrame null (navigated away) should be refused');
  assert.match(ipc.invoke(CHANNELS.get, { sender: wc }), /refused/, 'an event without senderFrame should be refused');
  const detached = new FakeFrame({ origin: APP });
  detached.detached = true;
  assert.match(ipc.invoke(CHANNELS.get, eventFrom(wc, detached)), /refused/, 'a detached frame should be refused');
  assert.match(ipc.invoke(CHANNELS.get, { senderFrame: frame }), /refused/, 'an event without sender should be refused');
  assert.match(ipc.invoke(CHANNELS.get, { sender: { id: 'x' }, senderFrame: frame }), /refused/, 'a sender that is not a webContents should be refused');
  const dead = new FakeWebContents();
  dead.destroyed = true;
  assert.match(ipc.invoke(CHANNELS.get, eventFrom(dead, frame)), /refused/, 'a destroyed sender should be refused');
  assert.match(ipc.invoke(CHANNELS.get, null), /refused/, 'a null event should be refused');
  const r = bridge.stats().rejected;
  assert.equal(r['no-frame'], 3, 'no-frame refusals should be counted');
  assert.equal(r['no-sender'], 4, 'no-sender refusals should be counted');
  bridge.dispose();
});

test('bridge unit: malformed payloads are refused and change nothing', () => {
  const { ipc, bridge, wc, frame, source } = setup();
  const ev = eventFrom(wc, frame);
  const payloads = [[{}], ['stop'], [null], [{ state: 'ok', findings: [] }], [1, 2, 3], [undefined]];
  for (const args of payloads) {
    assert.deepEqual(JSON.parse(ipc.invoke(CHANNELS.get, ev, ...args)), { procguardError: 'malformed' }, `get with args ${JSON.stringify(args)} should be malformed`);
    ipc.send(CHANNELS.subscribe, ev, ...args);
    ipc.send(CHANNELS.unsubscribe, ev, ...args);
  }
  const s = bridge.stats();
  assert.equal(s.rejected.malformed, payloads.length * 3, 'every malformed message on every channel should be counted');
  assert.equal(s.subscribers, 0, 'a malformed subscribe must not subscribe');
  assert.equal(source.reads, 0, 'malformed requests must not even read the status');
  bridge.dispose();
});

test('bridge unit: allowlist entries are validated', () => {
  const ipc = new FakeIpcMain();
  const src = new FakeSource(snaps.ok);
  for (const bad of [[], ['*'], ['null'], ['https://x.example/path'], ['app://*'], ['example.com'], [42]]) {
    assert.throws(() => createStatusBridge(src, ipc, { allowedOrigins: bad }), TypeError, `allowedOrigins ${JSON.stringify(bad)} should be a TypeError`);
  }
  assert.throws(() => createStatusBridge(src, ipc, {}), { name: 'TypeError', message: 'exposeStatus: options.allowedOrigins must be a non-empty array of origins' });
  assert.throws(() => createStatusBridge({}, ipc, { allowedOrigins: [APP] }), { name: 'TypeError', message: 'exposeStatus: guard must have status(), on() and off()' });
  assert.equal(ipc.handlers.size + ipc.listeners.size, 0, 'a failed setup must register nothing');
  // Normalisation: case and default ports as Chromium serialises them.
  const b = createStatusBridge(src, ipc, { allowedOrigins: ['HTTPS://Example.COM:443', 'App://Main', 'file:///'] });
  const wc = new FakeWebContents();
  for (const origin of ['https://example.com', 'app://main', 'file://']) {
    assert.doesNotMatch(ipc.invoke(CHANNELS.get, eventFrom(wc, new FakeFrame({ origin }))), /procguardError/, `${origin} should match its normalised allowlist entry`);
  }
  b.dispose();
});

test('bridge unit: subscribers get the current and every new snapshot; unsubscribe, destroy and navigation stop it', () => {
  const { ipc, source, bridge, wc, frame } = setup();
  const ev = eventFrom(wc, frame);
  ipc.send(CHANNELS.subscribe, ev);
  ipc.send(CHANNELS.subscribe, ev);
  assert.equal(bridge.stats().subscribers, 1, 'subscribing twice from one frame should count once');
  assert.equal(frame.sent.length, 1, 'a new subscriber should get the current snapshot at once');
  assert.deepEqual(frame.sent[0], [CHANNELS.push, JSON.stringify(view(snaps.ok))], 'the push should carry the serialised snapshot');
  source.publish(snaps.findings);
  assert.deepEqual(JSON.parse(frame.sent[1][1]), view(snaps.findings), 'a new snapshot should be pushed');
  assert.deepEqual(JSON.parse(ipc.invoke(CHANNELS.get, ev)), view(snaps.findings), 'get should now answer the new snapshot from cache');

  ipc.send(CHANNELS.unsubscribe, ev);
  source.publish(snaps.compromised);
  assert.equal(frame.sent.length, 2, 'no push after unsubscribe');

  // Navigation to another origin: the next push drops the frame.
  ipc.send(CHANNELS.subscribe, ev);
  frame.origin = 'https://evil.example';
  source.publish(snaps.stalled);
  assert.equal(frame.sent.length, 3, 'only the immediate snapshot on re-subscribe, nothing after navigating away');
  assert.equal(bridge.stats().subscribers, 0, 'the navigated frame should be dropped');
  frame.origin = APP;

  // Destroyed webContents: removed on its 'destroyed' event.
  ipc.send(CHANNELS.subscribe, ev);
  assert.equal(wc.listenerCount('destroyed'), 1, 'one destroyed hook per webContents');
  wc.destroy();
  assert.equal(bridge.stats().subscribers, 0, 'destroying the webContents should drop its subscription');
  bridge.dispose();
});

test('bridge unit: without WebFrameMain.origin the sender is refused, never trusted by its URL (fail closed)', () => {
  const { ipc, bridge, wc } = setup();
  // A sandboxed iframe or a CSP-sandboxed document at an allowed URL has the opaque origin "null";
  // its URL says app://main. Without the origin field there is no way to tell it from the real page.
  for (const origin of [undefined, '', 42, null]) {
    const f = new FakeFrame({ origin, url: `${APP}/index.html` });
    assert.match(ipc.invoke(CHANNELS.get, eventFrom(wc, f)), /refused/, `a frame with origin ${JSON.stringify(origin)} at an allowed URL must be refused`);
    ipc.send(CHANNELS.subscribe, eventFrom(wc, f));
  }
  assert.equal(bridge.stats().subscribers, 0, 'no origin-less frame may subscribe');
  assert.equal(bridge.stats().rejected.origin, 8, 'every origin-less request is counted under rejected.origin');
  bridge.dispose();
  // file: allowlisted: a frame without origin at a file: URL is refused too (any local page would pass).
  const f = setup({ allowedOrigins: ['file://'] });
  const page = new FakeFrame({ origin: undefined, url: 'file:///home/user/Downloads/evil.html' });
  assert.match(f.ipc.invoke(CHANNELS.get, eventFrom(f.wc, page)), /refused/, 'a file: page without origin must be refused');
  const real = new FakeFrame({ origin: 'file://', url: 'file:///opt/app/index.html' });
  assert.doesNotMatch(f.ipc.invoke(CHANNELS.get, eventFrom(f.wc, real)), /procguardError/, 'a file: page with origin "file://" is still served');
  f.bridge.dispose();
});

test('bridge unit: every push re-runs the whole sender check, the app filter included', () => {
  const onlyStatusPage = ({ url }) => url === `${APP}/status.html`;
  const { ipc, source, bridge, wc } = setup({ filter: onlyStatusPage });
  const frame = new FakeFrame({ origin: APP, url: `${APP}/status.html` });
  const ev = eventFrom(wc, frame);
  ipc.send(CHANNELS.subscribe, ev);
  assert.equal(frame.sent.length, 1, 'the status page subscribes and gets the current snapshot');
  // The frame now shows another page of the same, allowed origin that the filter refuses (a
  // WebFrameMain that follows same-site navigations; no navigation event is needed for this).
  frame.url = `${APP}/other.html`;
  assert.match(ipc.invoke(CHANNELS.get, ev), /refused/, 'the filter refuses the other page');
  source.publish(snaps.findings);
  assert.equal(frame.sent.length, 1, 'the old subscription must not push to a page the filter refuses');
  assert.equal(bridge.stats().subscribers, 0, 'the refused frame is dropped at the push');
  assert.equal(bridge.stats().pushDropped, 1, 'the drop is counted');
  // A filter that starts throwing drops the subscriber too, and never throws into the guard.
  frame.url = `${APP}/status.html`;
  let throwing = false;
  const b2 = setup({ filter: () => { if (throwing) throw new Error('filter broke'); return true; } });
  const f2 = new FakeFrame({ origin: APP });
  b2.ipc.send(CHANNELS.subscribe, eventFrom(b2.wc, f2));
  throwing = true;
  assert.doesNotThrow(() => b2.source.publish(snaps.findings), 'a throwing filter must not throw into emit()');
  assert.equal(f2.sent.length, 1, 'no push once the filter throws');
  assert.equal(b2.bridge.stats().subscribers, 0, 'the subscriber is dropped');
  b2.bridge.dispose();
  bridge.dispose();
});

test('bridge unit: a frame that navigates, or whose renderer dies, loses its subscription at once', () => {
  const { ipc, source, bridge, wc, frame } = setup({ allowSubframes: true });
  const sub = new FakeFrame({ origin: APP, parent: frame, frameId: 2 });
  const wc2 = new FakeWebContents();
  const other = new FakeFrame({ origin: APP, processId: 9 });
  for (const [w, f] of [[wc, frame], [wc, sub], [wc2, other]]) ipc.send(CHANNELS.subscribe, eventFrom(w, f));
  assert.equal(bridge.stats().subscribers, 3, 'three frames subscribed');
  for (const ev of ['did-frame-navigate', 'did-fail-provisional-load', 'render-process-gone', 'destroyed']) {
    assert.equal(wc.listenerCount(ev), 1, `one '${ev}' listener per webContents, however many of its frames subscribed`);
  }

  // A subframe navigates (same origin, same page: the filter and origin would still pass).
  wc.navigateFrame(sub, `${APP}/index.html`);
  assert.equal(bridge.stats().subscribers, 2, 'the navigated subframe is dropped when the navigation commits');
  source.publish(snaps.findings);
  assert.equal(sub.sent.length, 1, 'the navigated subframe gets no push (only its first snapshot)');
  assert.equal(frame.sent.length, 2, 'the main frame still gets pushes');

  // The main frame navigates: its document and every subframe of it are gone.
  const sub2 = new FakeFrame({ origin: APP, parent: frame, frameId: 3 });
  ipc.send(CHANNELS.subscribe, eventFrom(wc, sub2));
  wc.navigateFrame(frame, `${APP}/index.html`);
  assert.equal(bridge.stats().subscribers, 1, 'a main-frame navigation drops every subscription of that webContents');
  for (const ev of ['did-frame-navigate', 'did-fail-provisional-load', 'render-process-gone', 'destroyed']) {
    assert.equal(wc.listenerCount(ev), 0, `the '${ev}' listener is removed once the webContents has no subscriber`);
  }
  // The new document subscribes again (the preload runs anew) and is served.
  ipc.send(CHANNELS.subscribe, eventFrom(wc, frame));
  assert.equal(bridge.stats().subscribers, 2, 'the new document can subscribe');

  // The other window's renderer crashes.
  wc2.crash();
  assert.equal(bridge.stats().subscribers, 1, 'render-process-gone drops that webContents\' subscriptions');
  assert.equal(wc2.listenerCount('did-frame-navigate'), 0, 'and its listeners');
  source.publish(snaps.compromised);
  assert.equal(other.sent.length, 2, 'nothing is pushed to the crashed renderer');
  bridge.dispose();
  assert.equal(wc.listenerCount('did-frame-navigate') + wc.listenerCount('did-fail-provisional-load') + wc.listenerCount('destroyed') + wc.listenerCount('render-process-gone'), 0, 'dispose removes every listener');

  // Navigating does not refill the rate bucket (only a destroyed webContents is forgotten).
  const r = setup({ rateLimit: { burst: 2, perSecond: 1 } });
  r.ipc.send(CHANNELS.subscribe, eventFrom(r.wc, r.frame));
  r.wc.navigateFrame(r.frame, `${APP}/index.html`);
  r.ipc.send(CHANNELS.subscribe, eventFrom(r.wc, r.frame));
  r.wc.navigateFrame(r.frame, `${APP}/index.html`);
  assert.match(r.ipc.invoke(CHANNELS.get, eventFrom(r.wc, r.frame)), /rate-limited/, 'two subscribes and two navigations later the bucket is empty');
  r.bridge.dispose();
});

test('bridge unit: a subframe that navigates into another process is dropped by frame identity, and its new document takes one slot', () => {
  const { ipc, source, bridge, wc, frame } = setup({ allowSubframes: true });
  ipc.send(CHANNELS.subscribe, eventFrom(wc, frame));
  const sub = new FakeFrame({ origin: APP, parent: frame, frameId: 2 });
  ipc.send(CHANNELS.subscribe, eventFrom(wc, sub));
  const oldIds = [sub.processId, sub.routingId];
  // The event carries the new host's ids; the WebFrameMain object follows the frame there.
  wc.navigateFrame(sub, `${APP}/other.html`, { newProcess: true });
  assert.notDeepEqual([sub.processId, sub.routingId], oldIds, 'the fake gave the frame new ids (cross-process navigation)');
  assert.equal(bridge.stats().subscribers, 1, 'the old document\'s subscription is dropped although the event names the new ids');
  source.publish(snaps.findings);
  assert.equal(sub.sent.length, 1, 'the new document gets no push it did not ask for');
  // The new same-origin document subscribes itself: one slot, one push per snapshot.
  ipc.send(CHANNELS.subscribe, eventFrom(wc, sub));
  assert.equal(bridge.stats().subscribers, 2, 'main frame + the new document: one slot each');
  source.publish(snaps.compromised);
  assert.equal(sub.sent.length, 3, 'the new document got its first snapshot and exactly one push');
  bridge.dispose();
});

test('bridge unit: the same frame object subscribing under new ids replaces its old subscription', () => {
  const { ipc, source, bridge, wc, frame } = setup({ allowSubframes: true });
  const sub = new FakeFrame({ origin: APP, parent: frame, frameId: 2 });
  ipc.send(CHANNELS.subscribe, eventFrom(wc, sub));
  sub.swapHost(); // no navigation event seen (e.g. listeners missing): the frame now has other ids
  ipc.send(CHANNELS.subscribe, eventFrom(wc, sub));
  assert.equal(bridge.stats().subscribers, 1, 'one frame object, one subscription');
  source.publish(snaps.findings);
  assert.equal(sub.sent.length, 3, 'two first snapshots, then one push (not two)');
  bridge.dispose();
});

test('bridge unit: an error page (no did-frame-navigate) ends the subscription of its frame, main or sub, in or out of process', () => {
  for (const newProcess of [false, true]) {
    const { ipc, source, bridge, wc, frame } = setup({ allowSubframes: true });
    const sub = new FakeFrame({ origin: APP, parent: frame, frameId: 2 });
    const sib = new FakeFrame({ origin: APP, parent: frame, frameId: 3 });
    for (const f of [frame, sub, sib]) ipc.send(CHANNELS.subscribe, eventFrom(wc, f));
    let navigateEvents = 0;
    wc.on('did-frame-navigate', () => navigateEvents++);
    wc.failNavigation(sub, 'https://unreachable.example/', { newProcess });
    assert.equal(navigateEvents, 0, 'Electron emits no did-frame-navigate for an error page');
    assert.equal(bridge.stats().subscribers, 2, `the subframe showing an error page is dropped at once (newProcess ${newProcess})`);
    assert.equal(source.listenerCount('status'), 1, 'the bridge still listens to the guard');
    wc.failNavigation(frame, 'https://unreachable.example/', { newProcess });
    assert.equal(bridge.stats().subscribers, 0, `a main-frame error page ends every subscription of the webContents (newProcess ${newProcess})`);
    source.publish(snaps.findings);
    assert.deepEqual([frame.sent.length, sub.sent.length, sib.sent.length], [1, 1, 1], 'no push after the error pages');
    bridge.dispose();
  }
});

test('bridge unit: in-page navigations keep the subscription; a disposed frame is dropped at the next frame event', () => {
  const { ipc, source, bridge, wc, frame } = setup({ allowSubframes: true });
  const sub = new FakeFrame({ origin: APP, parent: frame, frameId: 2 });
  const gone = new FakeFrame({ origin: APP, parent: frame, frameId: 3 });
  for (const f of [frame, sub, gone]) ipc.send(CHANNELS.subscribe, eventFrom(wc, f));
  wc.navigateInPage(frame, `${APP}/index.html#settings`);
  wc.navigateInPage(sub, `${APP}/index.html#x`);
  assert.equal(bridge.stats().subscribers, 3, 'anchors and pushState keep the document and its subscription');
  gone.detach();
  wc.navigateFrame(sub, `${APP}/next.html`);
  assert.equal(bridge.stats().subscribers, 1, 'the navigated subframe and the disposed one (ids unreadable) are dropped');
  source.publish(snaps.findings);
  assert.equal(frame.sent.length, 2, 'the main frame still gets pushes');
  bridge.dispose();
});

test('bridge unit: the subscriber cap is per webContents, and a refused subscribe is answered', () => {
  const { ipc, source, bridge, wc, frame } = setup({ allowSubframes: true, maxSubscribersPerWebContents: 4 });
  const frames = [frame, ...Array.from({ length: 9 }, (_, i) => new FakeFrame({ origin: APP, parent: frame, frameId: 10 + i }))];
  for (const f of frames) ipc.send(CHANNELS.subscribe, eventFrom(wc, f));
  assert.equal(bridge.stats().subscribers, 4, 'one webContents holds at most 4 subscriptions');
  assert.equal(bridge.stats().rejected['too-many-subscribers'], 6, 'the other 6 are refused and counted');
  const refusals = wc.replies.filter((r) => r.channel === CHANNELS.push);
  assert.equal(refusals.length, 6, 'each refused subscribe is answered on the push channel');
  assert.deepEqual(refusals.map((r) => r.frameId), frames.slice(4).map((f) => f.frameId), 'the answer goes to the refused frame');
  assert.deepEqual(JSON.parse(refusals[0].args[0]), { procguardError: 'too-many-subscribers' }, 'the answer says why');

  // Another window is not starved by the full one.
  const wc2 = new FakeWebContents();
  const f2 = new FakeFrame({ origin: APP, processId: 8 });
  ipc.send(CHANNELS.subscribe, eventFrom(wc2, f2));
  assert.equal(bridge.stats().subscribers, 5, 'a second webContents still subscribes');
  assert.deepEqual(wc2.replies, [], 'and gets no refusal');
  source.publish(snaps.findings);
  assert.deepEqual(JSON.parse(f2.sent.at(-1)[1]), view(snaps.findings), 'and receives pushes');

  // Room comes back when a frame of the full webContents leaves.
  ipc.send(CHANNELS.unsubscribe, eventFrom(wc, frames[1]));
  ipc.send(CHANNELS.subscribe, eventFrom(wc, frames[9]));
  assert.equal(bridge.stats().subscribers, 5, 'a freed slot can be taken again');

  // Other refusals are answered too, so a page never waits in silence.
  const evil = new FakeFrame({ origin: 'https://evil.example', processId: 11 });
  const wc3 = new FakeWebContents();
  ipc.send(CHANNELS.subscribe, eventFrom(wc3, evil));
  assert.deepEqual(wc3.replies.map((r) => JSON.parse(r.args[0])), [{ procguardError: 'refused' }], 'an origin refusal is answered "refused"');
  bridge.dispose();
  assert.throws(() => setup({ maxSubscribersPerWebContents: 0 }), RangeError, 'a cap of 0 is a RangeError');
});

test('bridge unit: a flood of 100k requests is rate-limited cheaply and the event loop keeps turning', async () => {
  const { ipc, source, bridge, wc, frame, tick } = setup();
  const ev = eventFrom(wc, frame);
  let immediates = 0;
  let batches = 0;
  let served = 0;
  let limited = 0;
  for (let i = 0; i < 100_000; i++) {
    const reply = ipc.invoke(CHANNELS.get, ev);
    assert.equal(typeof reply, 'string');
    if (reply.includes('rate-limited')) limited++;
    else served++;
    if (i % 5000 === 4999) {
      // Yield between batches: a setImmediate scheduled now must run before the next batch.
      const before = immediates;
      setImmediate(() => { immediates++; });
      await new Promise((r) => setImmediate(r));
      batches++;
      assert.equal(immediates, before + 1, 'a setImmediate queued during the flood should run between batches');
    }
  }
  assert.equal(batches, 20, 'all batches should have run');
  assert.equal(served, 30, 'with a frozen clock only the burst (30) is served');
  assert.equal(limited, 100_000 - 30, 'every other request is refused as rate-limited');
  assert.equal(bridge.stats().rejected['rate-limited'], 100_000 - 30, 'rate-limited refusals are counted');
  assert.equal(source.reads, 1, 'the status is read once, not per request');
  assert.equal(bridge.stats().serialised, 1, 'the snapshot is serialised once, not per request');

  // Tokens come back with time (20 per second by default).
  tick(1000);
  let again = 0;
  for (let i = 0; i < 100; i++) if (!ipc.invoke(CHANNELS.get, ev).includes('procguardError')) again++;
  assert.equal(again, 20, 'after one second 20 more requests are served');

  // A flood of subscribes from a bad origin never subscribes anything.
  const evil = eventFrom(new FakeWebContents(), new FakeFrame({ origin: 'https://evil.example' }));
  for (let i = 0; i < 100_000; i++) ipc.send(CHANNELS.subscribe, evil);
  assert.equal(bridge.stats().subscribers, 0, 'a subscribe flood from a bad origin subscribes nothing');
  assert.equal(bridge.stats().rejected.origin, 100_000, 'every bad subscribe is counted');
  assert.equal(evil.sender.replies.length, 30, 'a flood of refused subscribes gets a bounded number of answers (the burst)');
  bridge.dispose();
});

test('bridge unit: only the documented read channels exist and the guard is only read', () => {
  const ipc = new FakeIpcMain();
  const touched = new Set();
  const inner = new FakeSource(snaps.ok);
  const source = new Proxy(inner, {
    get(t, prop) {
      touched.add(String(prop));
      const v = Reflect.get(t, prop);
      return typeof v === 'function' ? v.bind(t) : v;
    },
    set() {
      throw new Error('the bridge must not write to the guard');
    },
  });
  const bridge = createStatusBridge(source, ipc, { allowedOrigins: [APP] });
  assert.deepEqual([...ipc.handlers.keys()], [CHANNELS.get], 'the only invoke handler is the status getter');
  assert.deepEqual([...ipc.listeners.keys()].sort(), [CHANNELS.subscribe, CHANNELS.unsubscribe].sort(), 'the only send listeners are subscribe/unsubscribe');
  const wc = new FakeWebContents();
  const ev = eventFrom(wc, new FakeFrame({ origin: APP }));
  ipc.invoke(CHANNELS.get, ev);
  ipc.send(CHANNELS.subscribe, ev);
  inner.publish(snaps.findings);
  ipc.send(CHANNELS.unsubscribe, ev);
  for (const ch of ['procguard:stop', 'procguard:policy:set', 'procguard:status:set']) {
    assert.throws(() => ipc.invoke(ch, ev), /No handler/, `${ch} must not exist`);
  }
  assert.deepEqual([...touched].filter((p) => !['status', 'on', 'off'].includes(p)), [], 'the bridge may only call status(), on() and off() on the guard');
  bridge.dispose();
  assert.equal(ipc.handlers.size + ipc.listeners.size, 0, 'dispose unregisters every channel');
  assert.equal(inner.listenerCount('status'), 0, 'dispose stops listening to the guard');
  bridge.dispose();
});

test('bridge unit: exposeStatus takes an injected ipcMain, refuses a second registration, and needs Electron otherwise', () => {
  const ipc = new FakeIpcMain();
  const src = new FakeSource(snaps.ok);
  const b = exposeStatus(src, { ipcMain: ipc, allowedOrigins: [APP] });
  assert.throws(() => exposeStatus(src, { ipcMain: ipc, allowedOrigins: [APP] }), /second handler/, 'a second bridge on the same ipcMain should fail loudly');
  b.dispose();
  assert.throws(() => exposeStatus(src, { allowedOrigins: [APP] }), { code: 'ERR_NOT_ELECTRON_MAIN' }, 'outside Electron without ipcMain it should fail with ERR_NOT_ELECTRON_MAIN');
});

test('bridge unit: source failures are counted and never thrown into the guard', () => {
  const { ipc, source, bridge, wc, frame, tick } = setup({ maxCacheAgeMs: 100 });
  const ev = eventFrom(wc, frame);
  source.status = () => { throw new Error('boom'); };
  assert.deepEqual(JSON.parse(ipc.invoke(CHANNELS.get, ev)), { procguardError: 'unavailable' }, 'a throwing status() gives "unavailable"');
  source.status = () => snaps.ok;
  assert.deepEqual(JSON.parse(ipc.invoke(CHANNELS.get, ev)), view(snaps.ok), 'the next request reads again');
  assert.doesNotThrow(() => source.emit('status', { ...snaps.ok, bad: 10n }), 'an unserialisable snapshot must not throw into emit()');
  assert.ok(bridge.stats().serialiseErrors >= 2, 'both failures are counted');
  assert.deepEqual(JSON.parse(ipc.invoke(CHANNELS.get, ev)), view(snaps.ok), 'the last good snapshot stays cached');
  tick(150);
  source.status = () => snaps.findings;
  assert.deepEqual(JSON.parse(ipc.invoke(CHANNELS.get, ev)), view(snaps.findings), 'a cache older than maxCacheAgeMs is refreshed');
  const filtered = setup({ filter: () => { throw new Error('x'); } });
  assert.match(filtered.ipc.invoke(CHANNELS.get, eventFrom(filtered.wc, filtered.frame)), /refused/, 'a throwing filter refuses');
  assert.equal(filtered.bridge.stats().rejected.filtered, 1, 'filter refusals are counted');
  filtered.bridge.dispose();
  bridge.dispose();
});
