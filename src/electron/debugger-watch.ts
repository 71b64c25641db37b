/**
 * `webContents.debugger` attached: the Chrome DevTools Protocol on a page, from the main process.
 * Token stealers injected into an Electron app's main process use it to read every request and
 * cookie of a window. Electron's Debugger (electron.d.ts: attach(), isAttached(), event 'detach')
 * has no 'attach' event, so the watch (1) wraps each webContents' `debugger.attach` (an own property
 * shadowing the prototype method) to see a call at once, with the caller's stack, and (2) polls
 * `isAttached()` so an attach that bypasses the wrapper (Debugger.prototype.attach.call(...)) is
 * still seen within one poll period. 'detach' and the poll close the finding. The wrapper stays on:
 * `webContents.debugger` returns the same object every time (WebContents::Debugger caches its
 * Debugger, shell/browser/api/electron_api_web_contents.cc).
 */
import type { Observation } from '../types';

/** The parts of Electron's Debugger the watch uses. */
export interface DebuggerLike {
  attach?(...args: unknown[]): unknown;
  isAttached(): boolean;
  on?(event: 'detach', listener: (...args: unknown[]) => void): unknown;
  removeListener?(event: 'detach', listener: (...args: unknown[]) => void): unknown;
}

/** What an allow predicate is told about an attached debugger. */
export interface DebuggerAttachInfo {
  webContentsId: number;
  type?: string;
  url?: string;
  /** Stack of the code that called debugger.attach() (absent when the attach bypassed the wrapper). */
  caller?: string;
}

/** Returns true for a known, legitimate user of webContents.debugger (e.g. the app's own network capture). */
export type DebuggerAllow = (info: DebuggerAttachInfo) => boolean;

export interface DebuggerWatchTarget {
  readonly id: number;
  getType?(): string;
  getURL?(): string;
}

/** One webContents' debugger watch; `poll()` re-reads isAttached() and returns whether the observations changed. */
export interface DebuggerWatch {
  observations(): Observation[];
  poll(): boolean;
  dispose(): void;
}

const THIS_FILE = __filename;

/** The caller frames of a stack, without this file's (the wrapper's) frames: at most 4 lines. */
function callerOf(stack: string | undefined): string | undefined {
  if (stack === undefined) return undefined;
  const frames = stack.split('\n').slice(1).map((l) => l.trim()).filter((l) => l.startsWith('at ') && !l.includes(THIS_FILE));
  return frames.length > 0 ? frames.slice(0, 4).join('\n') : undefined;
}

function read<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/**
 * Watches `dbg`, the debugger of `wc`. `onChange` is called when an attach or detach changes the
 * observations (not for changes found by poll(), whose caller decides). `allow` is asked once per
 * attach; an exception counts as "not allowed".
 */
export function watchDebugger(wc: DebuggerWatchTarget, dbg: DebuggerLike, onChange: () => void, allow?: DebuggerAllow): DebuggerWatch {
  let attached = false;
  let caller: string | undefined;
  let obs: Observation[] = [];
  let disposed = false;

  function evaluate(): boolean {
    if (disposed) return false;
    const now = read(() => dbg.isAttached());
    if (now === undefined || now === attached) return false; // unreadable (destroyed): keep what we had
    attached = now;
    if (!attached) {
      caller = undefined;
      const had = obs.length > 0;
      obs = [];
      return had;
    }
    const info: DebuggerAttachInfo = { webContentsId: wc.id, type: read(() => wc.getType?.()), url: read(() => wc.getURL?.()), ...(caller !== undefined ? { caller } : {}) };
    let allowed: boolean;
    try {
      allowed = allow?.(info) === true;
    } catch {
      allowed = false; // a throwing predicate does not allow
    }
    if (allowed) return false;
    obs = [{
      key: `electron:wc${wc.id}:debugger-attached`,
      subsystem: 'electron',
      kind: 'debugger-attached',
      detail: `webContents ${wc.id}${info.type !== undefined ? ` (${info.type})` : ''}: webContents.debugger is attached: main-process code can read and drive the page over the DevTools protocol${caller === undefined ? ' (attached without the wrapped attach(); caller unknown)' : ''}`,
      evidence: { webContentsId: wc.id, type: info.type ?? null, url: info.url ?? null, caller: caller ?? null },
    }];
    return true;
  }

  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the caller's `this`
  const original = dbg.attach;
  const hadOwn = Object.prototype.hasOwnProperty.call(dbg, 'attach');
  if (typeof original === 'function') {
    dbg.attach = function (this: DebuggerLike, ...args: unknown[]): unknown {
      const result = original.apply(this, args);
      if (!attached) caller = callerOf(new Error().stack);
      if (evaluate()) onChange();
      return result;
    };
  }
  const onDetach = (): void => {
    if (evaluate()) onChange();
  };
  read(() => dbg.on?.('detach', onDetach));
  // Already attached before the watch began (caller unknown).
  evaluate();

  return {
    observations: () => obs,
    poll: evaluate,
    dispose(): void {
      if (disposed) return;
      disposed = true;
      read(() => dbg.removeListener?.('detach', onDetach));
      if (typeof original === 'function') {
        if (hadOwn) dbg.attach = original;
        else delete (dbg as { attach?: unknown }).attach;
      }
    },
  };
}
