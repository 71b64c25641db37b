/**
 * Window audit (subsystem 'electron'): checks each webContents' security preferences and whether
 * the app installed a window-open handler and a navigation guard, and reports what is weak as
 * Observations. `auditWebContentsConfig` is the pure check; `createWindowAudit` wires it to an
 * `app`-like emitter (Electron's `app` in main.ts, a plain EventEmitter in tests).
 */
import { EventEmitter } from 'node:events';
import type { Observation } from '../types';

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
  webviewTag?: boolean;
}

export interface WebContentsConfig {
  id: number;
  /** Electron's getType(): 'window', 'browserView', 'webview', ... */
  type?: string;
  url?: string;
  /** null when the preferences could not be read (reported, never treated as safe). */
  preferences: AuditedPreferences | null;
  hasWindowOpenHandler: boolean;
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
  | 'no-window-open-handler'
  | 'no-navigation-guard';

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
  'no-window-open-handler': 'no setWindowOpenHandler: window.open and target=_blank create windows unchecked',
  'no-navigation-guard': 'no will-navigate listener: the page can navigate the window anywhere',
};

/**
 * Returns one Observation per weakness of a webContents. Unset preferences take Electron's
 * defaults (>= 20): contextIsolation on, sandbox on unless nodeIntegration is on, the rest off.
 * Keys are stable per webContents id and issue: `electron:wc<id>:<kind>`.
 */
export function auditWebContentsConfig(cfg: WebContentsConfig): Observation[] {
  const out: Observation[] = [];
  const add = (kind: WindowAuditKind, before?: unknown): void => {
    out.push({
      key: `electron:wc${cfg.id}:${kind}`,
      subsystem: 'electron',
      kind,
      detail: `webContents ${cfg.id}${cfg.type !== undefined ? ` (${cfg.type})` : ''}: ${ADVICE[kind]}`,
      ...(before !== undefined ? { before } : {}),
      evidence: { webContentsId: cfg.id, type: cfg.type ?? null, url: cfg.url ?? null },
    });
  };
  const p = cfg.preferences;
  if (p === null || typeof p !== 'object') {
    add('preferences-unreadable');
  } else {
    const nodeIntegration = p.nodeIntegration === true;
    if (p.contextIsolation === false) add('context-isolation-disabled', false);
    // Electron >= 20 sandboxes by default unless nodeIntegration is on.
    const sandbox = p.sandbox ?? !nodeIntegration;
    if (!sandbox) add('sandbox-disabled', p.sandbox ?? 'default with nodeIntegration');
    if (nodeIntegration) add('node-integration-enabled', true);
    if (p.nodeIntegrationInSubFrames === true) add('node-integration-in-subframes', true);
    if (p.nodeIntegrationInWorker === true) add('node-integration-in-worker', true);
    if (p.webSecurity === false) add('web-security-disabled', false);
    if (p.allowRunningInsecureContent === true) add('insecure-content-allowed', true);
    if (p.experimentalFeatures === true) add('experimental-features-enabled', true);
    if (p.webviewTag === true) add('webview-tag-enabled', true);
  }
  if (!cfg.hasWindowOpenHandler) add('no-window-open-handler');
  if (!(cfg.navigationGuards > 0)) add('no-navigation-guard');
  return out;
}

/** The parts of Electron's WebContents the wiring uses. */
export interface AuditedWebContents {
  readonly id: number;
  getType?(): string;
  getURL?(): string;
  /** Undocumented in Electron's typings but present; its absence is reported. */
  getLastWebPreferences?(): AuditedPreferences | null;
  listenerCount(event: string): number;
  setWindowOpenHandler?(handler: unknown): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  isDestroyed(): boolean;
}

export interface AppLike {
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
}

function hasOpenHandler(wc: AuditedWebContents): boolean {
  const marked = (wc as unknown as Record<symbol, unknown>)[OPEN_HANDLER_MARK];
  if (marked === true) return true;
  // Electron stores the handler as `_windowOpenHandler` (lib/browser/api/web-contents.ts); it is
  // the only trace of a handler set before the audit started.
  return typeof (wc as unknown as { _windowOpenHandler?: unknown })._windowOpenHandler === 'function';
}

function readConfig(wc: AuditedWebContents): WebContentsConfig {
  let preferences: AuditedPreferences | null;
  try {
    preferences = typeof wc.getLastWebPreferences === 'function' ? wc.getLastWebPreferences() ?? null : null;
  } catch {
    preferences = null;
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
  let disposed = false;

  const snapshot = (): Observation[] => [...tracked.values()].flatMap((t) => t.obs);
  const changed = (): void => {
    const all = snapshot();
    emitter.emit('change', all);
    options.onChange?.(all);
  };

  function audit(t: Tracked): void {
    if (disposed || t.wc.isDestroyed()) return;
    const cfg = readConfig(t.wc);
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
    const onLoad = (): void => audit(t);
    const onGone = (): void => {
      tracked.delete(wc.id);
      if (t.obs.length > 0) changed();
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

  emitter.observations = snapshot;
  emitter.recheck = (): void => {
    for (const t of tracked.values()) audit(t);
  };
  emitter.dispose = (): void => {
    if (disposed) return;
    disposed = true;
    app.removeListener('web-contents-created', onCreated);
    for (const t of tracked.values()) {
      for (const [ev, fn] of t.hooks) {
        try { t.wc.removeListener(ev, fn); } catch { /* destroyed */ }
      }
    }
    tracked.clear();
  };
  return emitter;
}
