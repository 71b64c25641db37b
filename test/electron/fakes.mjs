// In-memory stand-ins for the few Electron main-process objects the Electron-free bridge takes
// as parameters (ipcMain, webContents, WebFrameMain). They are for UNIT tests of src/electron/bridge.ts
// only; the end-to-end test (e2e.test.mjs) uses a real Electron or skips.
import { EventEmitter } from 'node:events';

export class FakeIpcMain {
  handlers = new Map();
  listeners = new Map();
  handle(channel, fn) {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, fn);
  }
  removeHandler(channel) {
    this.handlers.delete(channel);
  }
  on(channel, fn) {
    if (!this.listeners.has(channel)) this.listeners.set(channel, []);
    this.listeners.get(channel).push(fn);
    return this;
  }
  removeListener(channel, fn) {
    const l = this.listeners.get(channel) ?? [];
    const i = l.indexOf(fn);
    if (i !== -1) l.splice(i, 1);
    if (l.length === 0) this.listeners.delete(channel);
    return this;
  }
  /** Like ipcRenderer.invoke reaching ipcMain.handle: returns the handler's value. */
  invoke(channel, event, ...args) {
    const fn = this.handlers.get(channel);
    if (fn === undefined) throw new Error(`No handler registered for '${channel}'`);
    return fn(event, ...args);
  }
  /** Like ipcRenderer.send reaching ipcMain.on. */
  send(channel, event, ...args) {
    for (const fn of [...(this.listeners.get(channel) ?? [])]) fn(event, ...args);
  }
}

let nextId = 1;
/** An Electron `Event` as webContents listeners receive it (only preventDefault is used). */
function electronEvent() {
  return { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
}

export class FakeWebContents extends EventEmitter {
  constructor() {
    super();
    this.id = nextId++;
    this.destroyed = false;
    this.sent = [];
    /** What IpcMainEvent.reply() sent back to a frame of this webContents: { processId, frameId, channel, args }. */
    this.replies = [];
  }
  /**
   * A committed cross-document navigation of `frame`, as Electron reports it (webContents docs,
   * "Document Navigations"): 'did-frame-navigate' (event, url, httpResponseCode, httpStatusText,
   * isMainFrame, frameProcessId, frameRoutingId) for any frame, then 'did-navigate' (event, url,
   * httpResponseCode, httpStatusText) for the main frame. `origin` updates the frame in place, as a
   * WebFrameMain that follows same-site navigations does. Not emitted for in-page navigations.
   */
  navigateFrame(frame, url, { origin = frame.origin } = {}) {
    frame.url = url;
    frame.origin = origin;
    const isMainFrame = frame.parent === null;
    this.emit('did-frame-navigate', electronEvent(), url, -1, '', isMainFrame, frame.processId, frame.routingId);
    if (isMainFrame) this.emit('did-navigate', electronEvent(), url, -1, '');
  }
  /** The renderer process died: 'render-process-gone' (event, RenderProcessGoneDetails). */
  crash(reason = 'crashed', exitCode = 139) {
    this.emit('render-process-gone', electronEvent(), { reason, exitCode });
  }
  isDestroyed() {
    return this.destroyed;
  }
  send(channel, ...args) {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push([channel, ...args]);
  }
  destroy() {
    this.destroyed = true;
    this.emit('destroyed');
  }
}

export class FakeFrame {
  constructor({ origin, url = `${origin}/index.html`, parent = null, processId = 7, frameId = 1 } = {}) {
    this.origin = origin;
    this.url = url;
    this.parent = parent;
    this.detached = false;
    this.processId = processId;
    this.frameId = frameId;
    // WebFrameMain names the frame's routing id `routingId`; IPC events call the same number `frameId`.
    this.routingId = frameId;
    this.sent = [];
  }
  send(channel, ...args) {
    this.sent.push([channel, ...args]);
  }
}

/**
 * An IPC event from `frame` in `wc`, shaped like Electron's IpcMainEvent / IpcMainInvokeEvent.
 * `reply(channel, ...args)` (IpcMainEvent only) answers the frame that sent the message, by its
 * (processId, frameId), whatever it shows now; the fake records it in `wc.replies`.
 */
export function eventFrom(wc, frame) {
  const processId = frame?.processId ?? 7;
  const frameId = frame?.frameId ?? 1;
  return {
    sender: wc,
    senderFrame: frame,
    processId,
    frameId,
    reply(channel, ...args) {
      wc.replies.push({ processId, frameId, channel, args });
    },
  };
}

/** A status source like the Guard: status(), 'status' events; counts reads. */
export class FakeSource extends EventEmitter {
  constructor(status) {
    super();
    this.current = status;
    this.reads = 0;
  }
  status() {
    this.reads++;
    return this.current;
  }
  publish(status) {
    this.current = status;
    this.emit('status', status);
  }
}
