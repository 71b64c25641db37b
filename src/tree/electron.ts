/**
 * What Electron says of each process of the app, for the process tree: the type from
 * app.getAppMetrics(), the window title and URL from each webContents (getOSProcessId), and whether
 * the process is sandboxed as Electron decided it. ProcessMetric.sandboxed is that decision on
 * macOS and Windows only (typings: `@platform darwin,win32`); elsewhere (Linux) the decision is
 * computed by Electron's own rules from the browser's switches and the window's webPreferences
 * (see electron/sandbox-decision.ts), so `--enable-sandbox`/app.enableSandbox() and `--no-sandbox`
 * are honoured and a webPreferences value is only `sandboxRequested` when it is not the decision.
 * The tree monitor compares `sandboxed` with the kernel's view: a disagreement is a
 * `child-claim-mismatch` finding, and the label names the window.
 * Electron-free: the Electron objects are parameters (unit-tested with fakes).
 */
import { decideRendererSandbox, readSandboxSwitches, type CommandLineAppLike, type SandboxBasis, type SandboxPreferences, type SandboxSwitches } from '../electron/sandbox-decision';
import type { ProcessClaim } from './monitor';

export interface AppMetricsLike extends CommandLineAppLike {
  getAppMetrics(): { pid: number; type: string; sandboxed?: boolean; name?: string; serviceName?: string }[];
}

export interface ClaimWebContentsLike {
  getOSProcessId(): number;
  getTitle(): string;
  getURL(): string;
  isDestroyed?(): boolean;
  /** Private Electron API (lib/browser/api/web-contents.ts); absent: no sandbox claim for this window. */
  getLastWebPreferences?(): SandboxPreferences | null;
}

/** A claim with where its `sandboxed` came from. */
export interface ElectronProcessClaim extends ProcessClaim {
  /** 'app-metrics' (ProcessMetric.sandboxed, macOS/Windows) or the rule of Electron's decision that applied. */
  sandboxBasis?: 'app-metrics' | SandboxBasis;
  /** webPreferences.sandbox as the app asked for it, when it is not what decided. */
  sandboxRequested?: boolean;
}

export interface ElectronClaimsOptions {
  /** The browser's sandbox switches as the app declares them (default: read from app.commandLine, else process.argv). */
  sandboxSwitches?: Partial<Pick<SandboxSwitches, 'enableSandbox' | 'noSandbox'>>;
}

/** Electron's ProcessMetric.type -> the tree's process type. */
const TYPES: Record<string, string> = {
  Browser: 'browser',
  Tab: 'renderer',
  GPU: 'gpu-process',
  Utility: 'utility',
  Zygote: 'zygote',
  'Sandbox helper': 'zygote',
  'Pepper Plugin': 'other',
  'Pepper Plugin Broker': 'other',
  Unknown: 'other',
};

/**
 * A claims function for ProcessTreeOptions.claims. Errors of Electron's calls (a webContents
 * destroyed mid-call) drop that entry only.
 */
export function electronClaims(app: AppMetricsLike, allWebContents: () => ClaimWebContentsLike[], options: ElectronClaimsOptions = {}): () => Map<number, ElectronProcessClaim> {
  if (typeof app?.getAppMetrics !== 'function') throw new TypeError('electronClaims: app.getAppMetrics must be a function');
  if (typeof allWebContents !== 'function') throw new TypeError('electronClaims: allWebContents must be a function');
  readSandboxSwitches(app, options.sandboxSwitches); // validate the declaration now
  return () => {
    const switches = readSandboxSwitches(app, options.sandboxSwitches);
    const out = new Map<number, ElectronProcessClaim>();
    for (const m of app.getAppMetrics()) {
      if (!Number.isSafeInteger(m?.pid) || m.pid <= 0) continue;
      const c: ElectronProcessClaim = { type: TYPES[m.type] ?? 'other' };
      if (typeof m.sandboxed === 'boolean') { // macOS and Windows only
        c.sandboxed = m.sandboxed;
        c.sandboxBasis = 'app-metrics';
      }
      out.set(m.pid, c);
    }
    // Renderers several webContents share with different (or uncertain) decisions get no sandbox claim.
    const conflicting = new Set<number>();
    for (const wc of allWebContents()) {
      try {
        if (wc.isDestroyed?.()) continue;
        const pid = wc.getOSProcessId();
        if (!Number.isSafeInteger(pid) || pid <= 0) continue;
        const c = out.get(pid) ?? { type: 'renderer' };
        // Several webContents can share a renderer: the first one names it.
        if (c.title === undefined && c.url === undefined) {
          c.title = wc.getTitle();
          c.url = wc.getURL();
        }
        if (c.sandboxBasis !== 'app-metrics' && !conflicting.has(pid) && typeof wc.getLastWebPreferences === 'function') {
          const d = decideRendererSandbox(wc.getLastWebPreferences() ?? {}, switches);
          // Uncertain (app.enableSandbox() could have overruled it unseen) or at odds with another
          // window of the same renderer: claim nothing for this renderer.
          if (d.uncertain || (c.sandboxed !== undefined && c.sandboxed !== d.sandboxed)) {
            conflicting.add(pid);
            delete c.sandboxed;
            delete c.sandboxBasis;
            delete c.sandboxRequested;
          } else if (c.sandboxed === undefined) {
            c.sandboxed = d.sandboxed;
            c.sandboxBasis = d.basis;
            if (d.requested !== undefined && d.basis !== 'webPreferences.sandbox') c.sandboxRequested = d.requested;
          }
        }
        out.set(pid, c);
      } catch {
        // destroyed between the check and the call
      }
    }
    return out;
  };
}
