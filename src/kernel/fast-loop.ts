/**
 * The fast watch loop (Linux): a native thread (procguard-watch) that polls every thread's
 * isolation lines of /proc/self/task/<tid>/status each tick and waits on inotify for writes to
 * code files. It wakes JS only on a change; src/kernel/snapshot.ts + diff.ts then interpret the
 * fields (one place), and the file events go to the code monitor's checkFiles().
 */
import { loadNative, type NativeWatcher, type NativeWatchReport } from '../native';

export interface FastLoopHandlers {
  /** Some watched kernel field changed (tracer, seccomp, caps, dumpable, core limit, cgroup, own threads' scheduling). */
  onKernel(): void;
  /** Watched files had events (wd -> inotify mask). */
  onFiles(events: Map<number, number>): void;
  onError(message: string): void;
}

export interface FastLoopState {
  state: 'running' | 'off';
  reason?: string;
  tickMs: number;
  /** Date.now() of the last tick, for display. */
  lastTickAt?: number;
  /** ms since the last tick on the monotonic clock (health decisions use this). */
  lastTickAgeMs?: number;
  ticks?: number;
  cpuMs?: number;
  tid?: number;
}

/** Starts the loop, or returns the reason it cannot run here. Never throws. */
export function startFastLoop(tickMs: number, h: FastLoopHandlers): { loop: NativeWatcher | null; reason: string } {
  if (process.platform !== 'linux') return { loop: null, reason: `unsupported OS: no fast watch loop on ${process.platform} (kernel checks run on the period timer)` };
  let Watcher;
  try {
    Watcher = loadNative().Watcher;
  } catch (e) {
    return { loop: null, reason: `native addon unavailable: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }
  if (typeof Watcher !== 'function') return { loop: null, reason: 'the native addon has no Watcher (built without watch_linux.cc)' };
  const onReport = (r: NativeWatchReport): void => {
    // Runs from a native callback: nothing may throw out of here.
    try {
      if (r.error) h.onError(r.error);
      if (r.wds.length > 0) h.onFiles(new Map(r.wds.map((wd, i) => [wd, r.masks[i]])));
      if (r.kernel) h.onKernel();
    } catch (e) {
      try {
        h.onError(e instanceof Error ? e.message : String(e));
      } catch {
        /* contained */
      }
    }
  };
  try {
    return { loop: new Watcher(tickMs, onReport), reason: '' };
  } catch (e) {
    return { loop: null, reason: `cannot start the watch loop: ${e instanceof Error ? e.message : String(e)}` };
  }
}

export function fastLoopState(loop: NativeWatcher | null, tickMs: number, reason: string): FastLoopState {
  if (!loop) return { state: 'off', reason, tickMs };
  const s = loop.stats();
  if (!s.running) return { state: 'off', reason: 'stopped', tickMs };
  const age = s.lastTickAgeMs;
  return { state: 'running', tickMs, ...(age !== undefined ? { lastTickAt: Date.now() - age, lastTickAgeMs: age } : {}), ticks: s.ticks, cpuMs: s.cpuMs, tid: s.tid };
}
