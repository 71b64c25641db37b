/**
 * Window audit (subsystem 'electron'): checks each webContents' security preferences and whether
 * the app installed a window-open handler and a navigation guard, and reports what is weak as
 * Observations. `auditWebContentsConfig` is the pure check; `createWindowAudit` wires it to an
 * `app`-like emitter (Electron's `app` in main.ts, a plain EventEmitter in tests).
 */
import { EventEmitter } from 'node:events';
import type { Observation } from '../types';
import { watchDebugger, type DebuggerAllow, type DebuggerLike, type DebuggerWatch } from './debugger-watch';
import { decideRendererSandbox, readSandboxSwitches, type CommandLineAppLike, type SandboxSwitches } from './sandbox-decision';

/** The webPreferences fields the audit reads (Electron's names). */
export interface AuditedPreferences {
  contextIsolation?: boolean;
  sandbox?: boolean;
  nodeIntegration?: boolean;
  nodeIntegrationInSubFrames?: boolean;
  nodeIntegrationInWorker?: boolean;
  webSecurity?: boolean;
  allowRunningInsecureContent?: boolean;
  experimentalFeatures?: boolean;
  /** Comma-separated Blink features to enable (Electron's security checklist, item 10: do not use). */
  enableBlinkFeatures?: string;
  webviewTag?: boolean;
}

export interface WebContentsConfig {
  id: number;
  /** Electron's getType(): 'window', 'browserView', 'webview', ... */
  type?: string;
  url?: string;
  /** null when the preferences could not be read (reported, never treated as safe). */
  preferences: AuditedPreferences | null;
  /** Why `preferences` is null: the private getLastWebPreferences() is gone, or it threw. */
  preferencesProblem?: 'private-api-missing' | 'threw';
  /** 'unknown': no handler was set through the watched setWindowOpenHandler and Electron's private `_windowOpenHandler` is gone. */
  hasWindowOpenHandler: boolean | 'unknown';
  /** The browser's sandbox switches, for Electron's sandbox decision (absent: webPreferences alone decide). */
  switches?: SandboxSwitches;
  /** Listeners for 'will-navigate' plus 'will-frame-navigate'. */
  navigationGuards: number;
}

/** Observation kinds of the window audit. */
export type WindowAuditKind =
  | 'preferences-unreadable'
  | 'context-isolation-disabled'
  | 'sandbox-disabled'
  | 'node-integration-enabled'
  | 'node-integration-in-subframes'
  | 'node-integration-in-worker'
  | 'web-security-disabled'
  | 'insecure-content-allowed'
  | 'experimental-features-enabled'
  | 'webview-tag-enabled'
  | 'blink-features-enabled'
  | 'no-window-open-handler'
  | 'window-open-handler-unknown'
  | 'no-navigation-guard'
  | 'debugger-attached';

const ADVICE: Record<WindowAuditKind, string> = {
  'preferences-unreadable': 'could not read webPreferences; the window was not audited',
  'context-isolation-disabled': 'contextIsolation is off: page scripts share the preload\'s globals',
  'sandbox-disabled': 'sandbox is off: a compromised renderer runs with full OS access',
  'node-integration-enabled': 'nodeIntegration is on: page scripts can require Node modules',
  'node-integration-in-subframes': 'nodeIntegrationInSubFrames is on: iframes get the preload and IPC',
  'node-integration-in-worker': 'nodeIntegrationInWorker is on: web workers can use Node',
  'web-security-disabled': 'webSecurity is off: same-origin policy disabled',
  'insecure-content-allowed': 'allowRunningInsecureContent is on: http scripts run in https pages',
  'experimental-features-enabled': 'experimentalFeatures is on: unreviewed Blink features enabled',
  'webview-tag-enabled': 'webviewTag is on: the page can create <webview> guests',
  'blink-features-enabled': 'enableBlinkFeatures is set: Blink features off by default are on (Electron security checklist 10)',
  'no-window-open-handler': 'no setWindowOpenHandler: window.open and target=_blank create windows unchecked',
  'window-open-handler-unknown': 'cannot tell whether a window-open handler is set (Electron\'s private _windowOpenHandler is gone; start auditWindows before creating windows)',
  'no-navigation-guard': 'no will-navigate listener: the page can navigate the window anywhere',
  'debugger-attached': 'webContents.debugger is attached',
};

/**
 * Returns one Observation per weakness of a webContents. Unset preferences take Electron's
 * defaults (>= 20): contextIsolation on, the rest off; the sandbox is Electron's decision (see
 * sandbox-decision.ts: the browser's --no-sandbox / --enable-sandbox switches, then
 * webPreferences.sandbox, then on unless nodeIntegration or nodeIntegrationInWorker), so a window
 * that asked for `sandbox: false` under app.enableSandbox() is not reported.
 * Keys are stable per webContents id and issue: `electron:wc<id>:<kind>`.
 */
export function auditWebContentsConfig(cfg: WebContentsConfig): Observation[] {
  const out: Observation[] = [];
  const add = (kind: WindowAuditKind, before?: unknown, extra: Record<string, unknown> = {}, note = ''): void => {
    out.push({
      key: `electron:wc${cfg.id}:${kind}`,
      subsystem: 'electron',
      kind,
      detail: `webContents ${cfg.id}${cfg.type !== undefined ? ` (${cfg.type})` : ''}: ${ADVICE[kind]}${note}`,
      ...(before !== undefined ? { before } : {}),
      evidence: { webContentsId: cfg.id, type: cfg.type ?? null, url: cfg.url ?? null, ...extra },
    });
  };
  const p = cfg.preferences;
  if (p === null || typeof p !== 'object') {
    const why = cfg.preferencesProblem === 'private-api-missing' ? ' (Electron\'s private getLastWebPreferences() is gone)' : '';
    add('preferences-unreadable', undefined, cfg.preferencesProblem !== undefined ? { problem: cfg.preferencesProblem } : {}, why);
  } else {
    const nodeIntegration = p.nodeIntegration === true;
    if (p.contextIsolation === false) add('context-isolation-disabled', false);
    const d = decideRendererSandbox(p, cfg.switches ?? { enableSandbox: false, noSandbox: false, source: 'declared' });
    if (!d.sandboxed) {
      const requested = d.requested !== undefined && d.basis !== 'webPreferences.sandbox' ? { sandboxRequested: d.requested } : {};
      add('sandbox-disabled', d.basis === 'webPreferences.sandbox' ? false : d.basis, { sandboxBasis: d.basis, ...requested, ...(d.uncertain ? { uncertain: true } : {}) },
        d.basis === 'switch --no-sandbox' ? ' (--no-sandbox on the command line: every process)' : d.uncertain ? ' (unless app.enableSandbox() was called, which could not be read)' : '');
    }
    if (nodeIntegration) add('node-integration-enabled', true);
    if (p.nodeIntegrationInSubFrames === true) add('node-integration-in-subframes', true);
    if (p.nodeIntegrationInWorker === true) add('node-integration-in-worker', true);
    if (p.webSecurity === false) add('web-security-disabled', false);
    if (p.allowRunningInsecureContent === true) add('insecure-content-allowed', true);
    if (p.experimentalFeatures === true) add('experimental-features-enabled', true);
    if (typeof p.enableBlinkFeatures === 'string' && p.enableBlinkFeatures.trim() !== '') {
      add('blink-features-enabled', p.enableBlinkFeatures, { features: p.enableBlinkFeatures.split(',').map((f) => f.trim()).filter((f) => f !== '') }, `: ${p.enableBlinkFeatures.slice(0, 200)}`);
    }
    if (p.webviewTag === true) add('webview-tag-enabled', true);
  }
  if (cfg.hasWindowOpenHandler === 'unknown') add('window-open-handler-unknown');
  else if (!cfg.hasWindowOpenHandler) add('no-window-open-handler');
  if (!(cfg.navigationGuards > 0)) add('no-navigation-guard');
  return out;
}

/** The parts of Electron's WebContents the wiring uses. */
export interface AuditedWebContents {
  readonly id: number;
  getType?(): string;
  getURL?(): string;
  /** Private Electron API (not in the typings); its absence is reported as preferences-unreadable. */
  getLastWebPreferences?(): AuditedPreferences | null;
  /** Electron's Debugger of this webContents (watched for attaches). */
  readonly debugger?: DebuggerLike;
  listenerCount(event: string): number;
  setWindowOpenHandler?(handler: unknown): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  isDestroyed(): boolean;
}

export interface AppLike extends CommandLineAppLike {
  on(event: 'web-contents-created', listener: (event: unknown, contents: AuditedWebContents) => void): unknown;
  removeListener(event: 'web-contents-created', listener: (event: unknown, contents: AuditedWebContents) => void): unknown;
}

export interface WindowAuditOptions {
  /** webContents that exist already (Electron: webContents.getAllWebContents()). */
  existing?: readonly AuditedWebContents[];
  /** Types not audited (default: DevTools' 'remote'). */
  skipTypes?: readonly string[];
  /** Called with the full list of open observations whenever it changes. */
  onChange?: (observations: Observation[]) => void;
  /** The browser's sandbox switches as the app declares them (default: read from app.commandLine, else process.argv). */
  sandboxSwitches?: Partial<Pick<SandboxSwitches, 'enableSandbox' | 'noSandbox'>>;
  /**
   * webContents.debugger watch: `false` turns it off; `allow` admits a known, legitimate user
   * (asked once per attach with the webContents and the attaching caller's stack); `pollMs` is how
   * often isAttached() is re-read for attaches that bypass the wrapped attach() (default 250).
   */
  debugger?: false | { allow?: DebuggerAllow; pollMs?: number };
}

/** A running window audit: 'change' events carry every open observation. */
export interface WindowAudit extends EventEmitter {
  /** Every open observation (webContents still alive). */
  observations(): Observation[];
  /** Re-audits every tracked webContents now. */
  recheck(): void;
  dispose(): void;
}

const OPEN_HANDLER_MARK = Symbol('procguard.windowOpenHandler');

interface Tracked {
  wc: AuditedWebContents;
  obs: Observation[];
  hooks: [string, (...args: unknown[]) => void][];
  debuggerWatch?: DebuggerWatch;
}

function hasOpenHandler(wc: AuditedWebContents): boolean | 'unknown' {
  const marked = (wc as unknown as Record<symbol, unknown>)[OPEN_HANDLER_MARK];
  if (marked === true) return true;
  // Electron stores the handler as `_windowOpenHandler` (private; lib/browser/api/web-contents.ts
  // sets it to null in _init and to the handler in setWindowOpenHandler); it is the only trace of a
  // handler set before the audit started. Gone from a future Electron: 'unknown', unless a handler
  // was seen through the wrapped setWindowOpenHandler.
  if (!('_windowOpenHandler' in wc)) return 'unknown';
  return typeof (wc as unknown as { _windowOpenHandler?: unknown })._windowOpenHandler === 'function';
}

function readConfig(wc: AuditedWebContents, switches: SandboxSwitches): WebContentsConfig {
  let preferences: AuditedPreferences | null;
  let preferencesProblem: WebContentsConfig['preferencesProblem'];
  if (typeof wc.getLastWebPreferences !== 'function') {
    preferences = null;
    preferencesProblem = 'private-api-missing';
  } else {
    try {
      preferences = wc.getLastWebPreferences() ?? null;
    } catch {
      preferences = null;
      preferencesProblem = 'threw';
    }
  }
  let type: string | undefined;
  let url: string | undefined;
  try { type = wc.getType?.(); } catch { type = undefined; }
  try { url = wc.getURL?.(); } catch { url = undefined; }
  return {
    id: wc.id,
    type,
    url,
    preferences,
    ...(preferencesProblem !== undefined ? { preferencesProblem } : {}),
    switches,
    hasWindowOpenHandler: hasOpenHandler(wc),
    navigationGuards: wc.listenerCount('will-navigate') + wc.listenerCount('will-frame-navigate'),
  };
}

/**
 * Audits every webContents the app creates. The first audit runs on the next turn after creation
 * (apps attach their handlers right after `new BrowserWindow()`), then again on each finished load.
 */
export function createWindowAudit(app: AppLike, options: WindowAuditOptions = {}): WindowAudit {
  const emitter = new EventEmitter() as WindowAudit;
  const tracked = new Map<number, Tracked>();
  const skip = new Set(options.skipTypes ?? ['remote']);
  // Validates a declaration at once (TypeError); re-read at every audit (app.enableSandbox() may come later).
  readSandboxSwitches(app, options.sandboxSwitches);
  const debuggerOpts = options.debugger === false ? null : options.debugger ?? {};
  if (debuggerOpts !== null && typeof debuggerOpts !== 'object') throw new TypeError('auditWindows: debugger must be false or { allow?, pollMs? }');
  if (debuggerOpts?.allow !== undefined && typeof debuggerOpts.allow !== 'function') throw new TypeError('auditWindows: debugger.allow must be a function');
  const pollMs = debuggerOpts?.pollMs ?? 250;
  if (!Number.isFinite(pollMs) || pollMs < 10 || pollMs > 1000) throw new RangeError('auditWindows: debugger.pollMs must be between 10 and 1000 (findings within 1 s)');
  let disposed = false;

  const snapshot = (): Observation[] => [...tracked.values()].flatMap((t) => [...t.obs, ...(t.debuggerWatch?.observations() ?? [])]);
  const changed = (): void => {
    const all = snapshot();
    emitter.emit('change', all);
    options.onChange?.(all);
  };

  function audit(t: Tracked): void {
    if (disposed || t.wc.isDestroyed()) return;
    const cfg = readConfig(t.wc, readSandboxSwitches(app, options.sandboxSwitches));
    if (cfg.type !== undefined && skip.has(cfg.type)) return;
    const obs = auditWebContentsConfig(cfg);
    const before = t.obs.map((o) => o.key).join('\n');
    t.obs = obs;
    if (obs.map((o) => o.key).join('\n') !== before) changed();
  }

  function track(wc: AuditedWebContents): void {
    if (disposed || tracked.has(wc.id)) return;
    const t: Tracked = { wc, obs: [], hooks: [] };
    tracked.set(wc.id, t);
    // Record setWindowOpenHandler calls made from now on (an own property shadowing the method).
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the caller's `this`
    const original = wc.setWindowOpenHandler;
    if (typeof original === 'function') {
      wc.setWindowOpenHandler = function (this: AuditedWebContents, handler: unknown): void {
        (wc as unknown as Record<symbol, unknown>)[OPEN_HANDLER_MARK] = typeof handler === 'function';
        original.call(this, handler);
      };
    }
    if (debuggerOpts !== null) {
      let dbg: DebuggerLike | undefined;
      try {
        dbg = wc.debugger;
      } catch {
        dbg = undefined;
      }
      if (typeof dbg === 'object' && dbg !== null && typeof dbg.isAttached === 'function') {
        t.debuggerWatch = watchDebugger(wc, dbg, changed, debuggerOpts.allow);
        if (t.debuggerWatch.observations().length > 0) setImmediate(changed);
      }
    }
    const onLoad = (): void => audit(t);
    const onGone = (): void => {
      tracked.delete(wc.id);
      const had = t.obs.length > 0 || (t.debuggerWatch?.observations().length ?? 0) > 0;
      t.debuggerWatch?.dispose();
      if (had) changed();
    };
    t.hooks.push(['did-finish-load', onLoad]);
    wc.on('did-finish-load', onLoad);
    wc.once('destroyed', onGone);
    t.hooks.push(['destroyed', onGone]);
    setImmediate(() => audit(t));
  }

  const onCreated = (_event: unknown, contents: AuditedWebContents): void => track(contents);
  app.on('web-contents-created', onCreated);
  for (const wc of options.existing ?? []) track(wc);

  // Attaches that bypass the wrapped attach() are seen by this poll (one isAttached() per webContents).
  const poller = debuggerOpts === null ? null : setInterval(() => {
    let any = false;
    for (const t of tracked.values()) if (t.debuggerWatch?.poll() === true) any = true;
    if (any) changed();
  }, pollMs);
  poller?.unref();

  emitter.observations = snapshot;
  emitter.recheck = (): void => {
    for (const t of tracked.values()) audit(t);
  };
  emitter.dispose = (): void => {
    if (disposed) return;
    disposed = true;
    if (poller !== null) clearInterval(poller);
    app.removeListener('web-contents-created', onCreated);
    for (const t of tracked.values()) {
      t.debuggerWatch?.dispose();
      for (const [ev, fn] of t.hooks) {
        try { t.wc.removeListener(ev, fn); } catch { /* destroyed */ }
      }
    }
    tracked.clear();
  };
  return emitter;
}
