/**
 * What Electron says of each process of the app, for the process tree: the type and `sandboxed`
 * from app.getAppMetrics(), and the window title and URL from each webContents (getOSProcessId),
 * with the sandbox its webPreferences asked for. The tree monitor compares this claim with the
 * kernel's view: a disagreement is a `child-claim-mismatch` finding, and the label names the window.
 * Electron-free: the Electron objects are parameters (unit-tested with fakes).
 */
import type { ProcessClaim } from './monitor';

export interface AppMetricsLike {
  getAppMetrics(): { pid: number; type: string; sandboxed?: boolean; name?: string; serviceName?: string }[];
}

export interface ClaimWebContentsLike {
  getOSProcessId(): number;
  getTitle(): string;
  getURL(): string;
  isDestroyed?(): boolean;
  getLastWebPreferences?(): { sandbox?: boolean } | null;
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
export function electronClaims(app: AppMetricsLike, allWebContents: () => ClaimWebContentsLike[]): () => Map<number, ProcessClaim> {
  if (typeof app?.getAppMetrics !== 'function') throw new TypeError('electronClaims: app.getAppMetrics must be a function');
  if (typeof allWebContents !== 'function') throw new TypeError('electronClaims: allWebContents must be a function');
  return () => {
    const out = new Map<number, ProcessClaim>();
    for (const m of app.getAppMetrics()) {
      if (!Number.isSafeInteger(m?.pid) || m.pid <= 0) continue;
      const c: ProcessClaim = { type: TYPES[m.type] ?? 'other' };
      if (typeof m.sandboxed === 'boolean') c.sandboxed = m.sandboxed; // macOS and Windows only
      out.set(m.pid, c);
    }
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
        const sandbox = wc.getLastWebPreferences?.()?.sandbox;
        if (typeof sandbox === 'boolean' && c.sandboxed === undefined) c.sandboxed = sandbox;
        out.set(pid, c);
      } catch {
        // destroyed between the check and the call
      }
    }
    return out;
  };
}
