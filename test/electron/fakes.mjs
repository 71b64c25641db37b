// In-memory stand-ins for the few Electron main-process objects the Electron-free glue takes as
// parameters (ipcMain, app, webContents, WebFrameMain, Debugger). They are for UNIT tests only; the
// end-to-end test (e2e.test.mjs) uses a real Electron or skips. Each behaviour they model names the
// Electron source it follows. Sources read (electron/electron):
//   WC  = https://github.com/electron/electron/blob/96f3996d8d3ce6e2fcfb86326fc4b953b53936fb/shell/browser/api/electron_api_web_contents.cc
//         DidFinishNavigation #L2479 (did-frame-navigate #L2513, did-fail-provisional-load #L2541),
//         RenderFrameHostChanged #L2154 (-> WebFrameMain::UpdateRenderFrameHost #L2172)
//   WFM = https://github.com/electron/electron/blob/476f0a0dbcce899647ec919f095725958644738f/shell/browser/api/electron_api_web_frame_main.cc
//         Destroyed #L192, UpdateRenderFrameHost #L216, CheckRenderFrame #L231
//   DBG = https://github.com/electron/electron/blob/476f0a0dbcce899647ec919f095725958644738f/shell/browser/api/electron_api_debugger.cc (Attach #L113, IsAttached #L137, Detach #L141)
//   APP = https://github.com/electron/electron/blob/96f3996d8d3ce6e2fcfb86326fc4b953b53936fb/shell/browser/api/electron_api_app.cc#L1564 (App::EnableSandbox),
//         https://github.com/electron/electron/blob/96f3996d8d3ce6e2fcfb86326fc4b953b53936fb/shell/common/api/electron_api_command_line.cc#L15 (HasSwitch on ForCurrentProcess)
//   Docs: https://github.com/electron/electron/blob/96f3996d8d3ce6e2fcfb86326fc4b953b53936fb/docs/api/web-contents.md#L417 ('did-frame-navigate'), #L135 ('did-fail-provisional-load'),
//         https://github.com/electron/electron/blob/96f3996d8d3ce6e2fcfb86326fc4b953b53936fb/docs/api/web-frame-main.md#L329 (frame.routingId), #L341 (frame.detached)
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
   * A committed cross-document navigation of `frame`, as Electron 45 reports it.
   *
   * Semantics followed (sources read at electron/electron 96f3996d8d, same code on 44-x-y):
   * - WebContents::DidFinishNavigation (shell/browser/api/electron_api_web_contents.cc, "void
   *   WebContents::DidFinishNavigation"): nothing for an uncommitted navigation; for a committed
   *   non-error cross-document one 'did-frame-navigate' (event, url, httpResponseCode,
   *   httpStatusText, isMainFrame, frameProcessId, frameRoutingId) with the ids of the *new*
   *   RenderFrameHost (navigation_handle->GetRenderFrameHost()), then 'did-navigate' for the main
   *   frame; same-document ones emit 'did-navigate-in-page' instead. Documented in
   *   electron/electron docs/api/web-contents, events 'did-frame-navigate' and 'did-navigate-in-page'.
   * - WebContents::RenderFrameHostChanged ("During cross-origin navigation, a FrameTreeNode will swap
   *   out its RFH. If an instance of WebFrameMain exists, it will need to have its RFH swapped as
   *   well") -> WebFrameMain::UpdateRenderFrameHost (electron_api_web_frame_main.cc): the *same*
   *   WebFrameMain object now reports the new frame's processId and routingId. So the fake keeps the
   *   FakeFrame object and gives it new ids when `newProcess` is true (a cross-process navigation;
   *   electron/electron docs/api/web-frame-main: "Distinct WebFrameMain instances that refer to the same
   *   underlying frame will have the same routingId" - the ids name the current document's host).
   */
  navigateFrame(frame, url, { origin = frame.origin, newProcess = false } = {}) {
    if (newProcess) frame.swapHost();
    frame.url = url;
    frame.origin = origin;
    const isMainFrame = frame.parent === null;
    this.emit('did-frame-navigate', electronEvent(), url, -1, '', isMainFrame, frame.processId, frame.routingId);
    if (isMainFrame) this.emit('did-navigate', electronEvent(), url, -1, '');
  }
  /** An in-page navigation (anchor, pushState): 'did-navigate-in-page' (event, url, isMainFrame, frameProcessId, frameRoutingId); the document stays. */
  navigateInPage(frame, url) {
    frame.url = url;
    this.emit('did-navigate-in-page', electronEvent(), url, frame.parent === null, frame.processId, frame.routingId);
  }
  /**
   * A navigation that commits an error page (same DidFinishNavigation, IsErrorPage() branch):
   * 'did-fail-provisional-load' (event, errorCode, errorDescription, validatedURL, isMainFrame,
   * frameProcessId, frameRoutingId), then 'did-fail-load' with the same arguments unless the code
   * is ERR_ABORTED (-3). No 'did-frame-navigate'. Chromium commits error pages with an opaque
   * origin, serialised "null"; an error page may also commit in another process (newProcess).
   */
  failNavigation(frame, url, { code = -105, description = 'ERR_NAME_NOT_RESOLVED', newProcess = false } = {}) {
    if (newProcess) frame.swapHost();
    frame.url = url;
    frame.origin = 'null';
    const args = [code, description, url, frame.parent === null, frame.processId, frame.routingId];
    this.emit('did-fail-provisional-load', electronEvent(), ...args);
    if (code !== -3) this.emit('did-fail-load', electronEvent(), ...args);
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

let nextProcessId = 100;
/**
 * A WebFrameMain. `processId` and `routingId` are those of the frame's current host; they change
 * when the frame navigates into another process while the object stays the same (see
 * navigateFrame). IPC events name the routing id `frameId`. `detach()` is FrameDeleted ->
 * WebFrameMain::Destroyed: `detached` turns true and reading the ids throws, as
 * WebFrameMain::CheckRenderFrame does ("Render frame was disposed before WebFrameMain could be
 * accessed").
 */
export class FakeFrame {
  constructor({ origin, url = `${origin}/index.html`, parent = null, processId = 7, frameId = 1 } = {}) {
    this.origin = origin;
    this.url = url;
    this.parent = parent;
    this.detached = false;
    this.disposed = false;
    this.host = { processId, routingId: frameId };
    this.sent = [];
  }
  get processId() {
    if (this.disposed) throw new Error('Render frame was disposed before WebFrameMain could be accessed');
    return this.host.processId;
  }
  get routingId() {
    if (this.disposed) throw new Error('Render frame was disposed before WebFrameMain could be accessed');
    return this.host.routingId;
  }
  get frameId() {
    return this.routingId;
  }
  /** The frame's document moves to a new RenderFrameHost in a new process (new ids, same object). */
  swapHost() {
    this.host = { processId: nextProcessId++, routingId: 1 + (this.host.routingId % 1000) };
  }
  detach() {
    this.detached = true;
    this.disposed = true;
  }
  send(channel, ...args) {
    if (this.disposed) throw new Error('Render frame was disposed before WebFrameMain could be accessed');
    this.sent.push([channel, ...args]);
  }
}

/**
 * An IPC event from `frame` in `wc`, shaped like Electron's IpcMainEvent / IpcMainInvokeEvent.
 * `reply(channel, ...args)` (IpcMainEvent only) answers the frame that sent the message, by its
 * (processId, frameId), whatever it shows now; the fake records it in `wc.replies`.
 */
export function eventFrom(wc, frame) {
  // The ids of the frame as it is when the message is sent (IpcMainEvent.processId / frameId).
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

/**
 * Electron's Debugger (webContents.debugger), as shell/browser/api/electron_api_debugger.cc
 * (electron/electron 44-x-y) implements it: attach(protocolVersion?) throws a TypeError "Debugger is
 * already attached to the target" when attached and "Requested protocol version is not supported"
 * for an unknown version; isAttached() is true between a successful attach and the detach;
 * detach() (and the target closing) emits 'detach' (event, 'target closed'). There is no 'attach'
 * event. attach is a prototype method, as on the real class.
 */
export class FakeDebugger extends EventEmitter {
  #attached = false;
  attach(protocolVersion) {
    if (this.#attached) throw new TypeError('Debugger is already attached to the target');
    if (protocolVersion !== undefined && protocolVersion !== '' && !/^1\.\d+$/.test(protocolVersion)) throw new TypeError('Requested protocol version is not supported');
    this.#attached = true;
  }
  isAttached() {
    return this.#attached;
  }
  detach() {
    if (!this.#attached) return;
    this.#attached = false;
    this.emit('detach', electronEvent(), 'target closed');
  }
}

/**
 * Electron's `app` as far as the glue reads it: 'web-contents-created', getAppMetrics() and
 * commandLine.hasSwitch(), over one command line as the browser process has it
 * (base::CommandLine::ForCurrentProcess(), shell/common/api/electron_api_command_line.cc).
 * enableSandbox() does what App::EnableSandbox does (shell/browser/api/electron_api_app.cc):
 * removes --no-sandbox and appends --enable-sandbox; ELECTRON_DISABLE_SANDBOX in `env` appends
 * --no-sandbox at start (shell/app/electron_main_delegate.cc). ProcessMetric.sandboxed exists on
 * darwin and win32 only (electron.d.ts: `@platform darwin,win32`).
 */
export class FakeApp extends EventEmitter {
  constructor({ argv = [], env = {}, metrics = [], platform = 'linux' } = {}) {
    super();
    this.switches = new Set(argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]));
    if (env.ELECTRON_DISABLE_SANDBOX !== undefined) this.switches.add('no-sandbox');
    this.metrics = metrics;
    this.platform = platform;
    const switches = this.switches;
    this.commandLine = {
      hasSwitch: (name) => switches.has(name),
      appendSwitch: (name) => switches.add(name),
    };
  }
  enableSandbox() {
    this.switches.delete('no-sandbox');
    this.switches.add('enable-sandbox');
  }
  getAppMetrics() {
    return this.metrics.map((m) => {
      const out = { ...m };
      if (this.platform !== 'darwin' && this.platform !== 'win32') delete out.sandboxed;
      return out;
    });
  }
}
