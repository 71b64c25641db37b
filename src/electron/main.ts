/**
 * procguard/electron-main: Electron main-process entry point.
 *
 *   const { exposeStatus, auditWindows, checkFuses } = require('procguard/electron-main');
 *   const bridge = exposeStatus(guard, { allowedOrigins: ['app://main'] });
 *
 * `electron` is required lazily, only by the functions that need it, and only inside Electron's
 * main process (in plain Node the `electron` package is a downloader, not the API).
 */
import { ProcguardError } from '../errors';
import { createStatusBridge, type IpcMainLike, type StatusBridge, type StatusBridgeOptions, type StatusSource } from './bridge';
import { createWindowAudit, type AppLike, type AuditedWebContents, type WindowAudit, type WindowAuditOptions } from './window-audit';

export { CHANNELS, API_KEY } from './channels';
export type { StatusSource, StatusBridge, StatusBridgeOptions, BridgeStats, IpcMainLike } from './bridge';
export { auditWebContentsConfig, type WindowAudit, type WindowAuditOptions, type WebContentsConfig, type WindowAuditKind } from './window-audit';
export { checkFuses, readFuseWires, fuseFilePath, FuseWireError, FUSE_SENTINEL, FUSE_V1_NAMES, FUSE_WIRE_VERSION, RECOMMENDED_FUSES } from './fuses';
export type { FuseWire, FuseEntry, FuseState, FuseName, ExpectedFuses, FuseCheck, CheckFuseOptions } from './fuses';
export { electronProcessTree } from '../tree/electron-main';
export type { ElectronProcessClaim } from '../tree/electron';
export { decideRendererSandbox, readSandboxSwitches, type SandboxSwitches, type SandboxDecision, type SandboxBasis } from './sandbox-decision';
export type { DebuggerAllow, DebuggerAttachInfo } from './debugger-watch';
export { createRendererView } from './renderer-view';
export { ELECTRON_API_SURFACE, ELECTRON_TYPINGS_VERSION, type ElectronApiUse } from './api-surface';

interface ElectronMainApi {
  ipcMain: IpcMainLike;
  app: AppLike;
  webContents: { getAllWebContents(): AuditedWebContents[] };
}

function electronMain(caller: string): ElectronMainApi {
  const proc = process as NodeJS.Process & { type?: string };
  if (typeof process.versions.electron !== 'string' || proc.type !== 'browser') {
    throw new ProcguardError('ERR_NOT_ELECTRON_MAIN', `${caller} must run in the Electron main process (or be given the Electron objects in options)`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily: electron exists only inside Electron
  return require('electron') as ElectronMainApi;
}

export interface ExposeStatusOptions extends StatusBridgeOptions {
  /** Electron's ipcMain; defaults to require('electron').ipcMain. */
  ipcMain?: IpcMainLike;
}

/**
 * Serves the guard's status to renderers over read-only IPC channels (see CHANNELS) and pushes
 * each new snapshot to subscribed frames. Only frames whose origin is in `allowedOrigins` (and
 * main frames, unless `allowSubframes`) are answered; others are refused and counted in
 * `stats()`. Returns the bridge; `dispose()` unregisters it.
 */
export function exposeStatus(guard: StatusSource, options: ExposeStatusOptions): StatusBridge {
  if (typeof options !== 'object' || options === null) throw new TypeError('exposeStatus: options.allowedOrigins must be a non-empty array of origins');
  const ipcMain = options.ipcMain ?? electronMain('exposeStatus').ipcMain;
  return createStatusBridge(guard, ipcMain, options);
}

export interface AuditWindowsOptions extends WindowAuditOptions {
  /** Electron's app; defaults to require('electron').app. */
  app?: AppLike;
}

/**
 * Audits every webContents (existing and future) for weak security settings, a missing
 * window-open handler and a missing navigation guard. Observations have subsystem 'electron'.
 * Call it before creating windows so it sees every setWindowOpenHandler call.
 */
export function auditWindows(options: AuditWindowsOptions = {}): WindowAudit {
  if (options.app !== undefined) return createWindowAudit(options.app, options);
  const electron = electronMain('auditWindows');
  return createWindowAudit(electron.app, { existing: electron.webContents.getAllWebContents(), ...options });
}
