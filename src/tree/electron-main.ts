/**
 * procguard/electron-main's process tree: `new Guard({ processTree: electronProcessTree() })` watches
 * every child of the Electron main process (renderers, GPU, utilities), labelled with what Electron
 * says of them (window title, URL, sandbox). Kept apart from electron/main.ts so the tree stays in src/tree.
 */
import { ProcguardError } from '../errors';
import { electronClaims, type AppMetricsLike, type ClaimWebContentsLike, type ElectronClaimsOptions } from './electron';
import type { ProcessTreeOptions } from './monitor';

export interface ElectronProcessTreeOptions extends Omit<ProcessTreeOptions, 'claims'>, ElectronClaimsOptions {
  /** Electron's app and webContents module; default require('electron') in the main process. */
  app?: AppMetricsLike;
  webContents?: { getAllWebContents(): ClaimWebContentsLike[] };
}

export function electronProcessTree(options: ElectronProcessTreeOptions = {}): ProcessTreeOptions {
  const { app: appOpt, webContents: wcOpt, sandboxSwitches, ...rest } = options;
  let app = appOpt;
  let wc = wcOpt;
  if (app === undefined || wc === undefined) {
    const proc = process as NodeJS.Process & { type?: string };
    if (typeof process.versions.electron !== 'string' || proc.type !== 'browser') {
      throw new ProcguardError('ERR_NOT_ELECTRON_MAIN', 'electronProcessTree must run in the Electron main process (or be given app and webContents)');
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const electron = require('electron') as { app: AppMetricsLike; webContents: { getAllWebContents(): ClaimWebContentsLike[] } };
    app ??= electron.app;
    wc ??= electron.webContents;
  }
  const list = wc;
  return { rootPid: process.pid, ...rest, claims: electronClaims(app, () => list.getAllWebContents(), { sandboxSwitches }) };
}
