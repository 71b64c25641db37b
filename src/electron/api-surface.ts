/**
 * Every Electron API the glue (procguard/electron-main, procguard/preload, the process-tree claims)
 * uses, in one list: test/electron/api-surface.test.mjs checks each public one against the pinned
 * `electron` package's typings (electron.d.ts), and docs/electron.md is written from it. Private
 * APIs (not in the typings) are marked so; the glue must report 'unknown' when one is gone, never crash.
 */

/** `owner` is the class or interface name in electron.d.ts (namespace Electron). */
export interface ElectronApiUse {
  owner: string;
  member: string;
  /** 'method' / 'property' (a member of the class or interface), 'static' method, 'event' (an on(event) overload). */
  kind: 'method' | 'property' | 'static' | 'event';
  visibility: 'public' | 'private';
  /** Where the glue uses it. */
  usedBy: string;
}

const pub = (owner: string, member: string, kind: ElectronApiUse['kind'], usedBy: string): ElectronApiUse => ({ owner, member, kind, visibility: 'public', usedBy });

export const ELECTRON_API_SURFACE: readonly ElectronApiUse[] = Object.freeze([
  // Status bridge (electron/bridge.ts, sender-policy.ts)
  pub('IpcMain', 'handle', 'method', 'bridge'),
  pub('IpcMain', 'removeHandler', 'method', 'bridge'),
  pub('IpcMain', 'on', 'method', 'bridge'),
  pub('IpcMain', 'removeListener', 'method', 'bridge'),
  pub('IpcMainEvent', 'sender', 'property', 'bridge'),
  pub('IpcMainEvent', 'senderFrame', 'property', 'bridge'),
  pub('IpcMainEvent', 'processId', 'property', 'bridge'),
  pub('IpcMainEvent', 'frameId', 'property', 'bridge'),
  pub('IpcMainEvent', 'reply', 'property', 'bridge'),
  pub('IpcMainInvokeEvent', 'sender', 'property', 'bridge'),
  pub('IpcMainInvokeEvent', 'senderFrame', 'property', 'bridge'),
  pub('IpcMainInvokeEvent', 'processId', 'property', 'bridge'),
  pub('IpcMainInvokeEvent', 'frameId', 'property', 'bridge'),
  pub('WebFrameMain', 'origin', 'property', 'bridge'),
  pub('WebFrameMain', 'url', 'property', 'bridge'),
  pub('WebFrameMain', 'parent', 'property', 'bridge'),
  pub('WebFrameMain', 'detached', 'property', 'bridge'),
  pub('WebFrameMain', 'processId', 'property', 'bridge'),
  pub('WebFrameMain', 'routingId', 'property', 'bridge'),
  pub('WebFrameMain', 'send', 'method', 'bridge'),
  pub('WebContents', 'id', 'property', 'bridge, window audit'),
  pub('WebContents', 'isDestroyed', 'method', 'bridge, window audit, claims'),
  pub('WebContents', 'send', 'method', 'bridge'),
  pub('WebContents', 'destroyed', 'event', 'bridge, window audit'),
  pub('WebContents', 'render-process-gone', 'event', 'bridge'),
  pub('WebContents', 'did-frame-navigate', 'event', 'bridge'),
  pub('WebContents', 'did-fail-provisional-load', 'event', 'bridge'),
  // Preload (electron/preload.ts)
  pub('ContextBridge', 'exposeInMainWorld', 'method', 'preload'),
  pub('IpcRenderer', 'invoke', 'method', 'preload'),
  pub('IpcRenderer', 'send', 'method', 'preload'),
  pub('IpcRenderer', 'on', 'method', 'preload'),
  pub('IpcRenderer', 'removeListener', 'method', 'preload'),
  // Window audit and debugger watch (electron/window-audit.ts, debugger-watch.ts)
  pub('App', 'web-contents-created', 'event', 'window audit'),
  pub('App', 'removeListener', 'method', 'window audit'),
  pub('App', 'commandLine', 'property', 'window audit, claims'),
  pub('CommandLine', 'hasSwitch', 'method', 'window audit, claims'),
  pub('WebContents', 'getAllWebContents', 'static', 'window audit, claims'),
  pub('WebContents', 'getType', 'method', 'window audit'),
  pub('WebContents', 'getURL', 'method', 'window audit, claims'),
  pub('WebContents', 'setWindowOpenHandler', 'method', 'window audit'),
  pub('WebContents', 'did-finish-load', 'event', 'window audit'),
  pub('WebContents', 'will-navigate', 'event', 'window audit'),
  pub('WebContents', 'will-frame-navigate', 'event', 'window audit'),
  pub('WebContents', 'debugger', 'property', 'debugger watch'),
  pub('Debugger', 'attach', 'method', 'debugger watch'),
  pub('Debugger', 'isAttached', 'method', 'debugger watch'),
  pub('Debugger', 'detach', 'event', 'debugger watch'),
  pub('WebPreferences', 'contextIsolation', 'property', 'window audit'),
  pub('WebPreferences', 'sandbox', 'property', 'window audit, claims'),
  pub('WebPreferences', 'nodeIntegration', 'property', 'window audit, claims'),
  pub('WebPreferences', 'nodeIntegrationInSubFrames', 'property', 'window audit'),
  pub('WebPreferences', 'nodeIntegrationInWorker', 'property', 'window audit, claims'),
  pub('WebPreferences', 'webSecurity', 'property', 'window audit'),
  pub('WebPreferences', 'allowRunningInsecureContent', 'property', 'window audit'),
  pub('WebPreferences', 'experimentalFeatures', 'property', 'window audit'),
  pub('WebPreferences', 'enableBlinkFeatures', 'property', 'window audit'),
  pub('WebPreferences', 'webviewTag', 'property', 'window audit'),
  // Process-tree claims (tree/electron.ts)
  pub('App', 'getAppMetrics', 'method', 'claims'),
  pub('ProcessMetric', 'pid', 'property', 'claims'),
  pub('ProcessMetric', 'type', 'property', 'claims'),
  pub('ProcessMetric', 'sandboxed', 'property', 'claims (macOS, Windows)'),
  pub('WebContents', 'getOSProcessId', 'method', 'claims'),
  pub('WebContents', 'getTitle', 'method', 'claims'),
  // Private: not in the typings (lib/browser/api/web-contents.ts, typings/internal-electron.d.ts).
  { owner: 'WebContents', member: 'getLastWebPreferences', kind: 'method', visibility: 'private', usedBy: 'window audit, claims' },
  { owner: 'WebContents', member: '_windowOpenHandler', kind: 'property', visibility: 'private', usedBy: 'window audit' },
]);

/** The Electron version whose typings the test checks (devDependency `electron`). */
export const ELECTRON_TYPINGS_VERSION = '45.4.1';
