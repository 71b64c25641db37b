/**
 * The fast watch loop (Linux): a native thread (procguard-watch) that polls every thread's
 * isolation lines of /proc/self/task/<tid>/status each tick and waits on inotify for writes to
 * files. It wakes JS only on a change. It serves two owners and interprets neither: the kernel
 * signal goes to its one consumer (the Guard's kernel check; src/kernel/snapshot.ts + diff.ts
 * interpret the fields), the file events to theirs (the code monitor's file watch,
 * src/integrity/code-files.ts, which re-checks the files itself; or the manifest runtime's own loop).
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

/**
 * A running fast loop with one consumer per signal: whoever owns a signal subscribes to it, so a
 * file event goes native -> its owner -> native without passing through the Guard.
 */
export class FastLoop {
  readonly watcher: NativeWatcher | null;
  /** Why there is no loop ('' when it runs). */
  readonly reason: string;
  private kernel: () => void = () => undefined;
  private files: (events: Map<number, number>) => void = () => undefined;

  /** Starts the loop (never throws: off with a reason where it cannot run). */
  constructor(
    readonly tickMs: number,
    onError: (message: string) => void,
  ) {
    const { loop, reason } = startFastLoop(tickMs, {
      onKernel: () => this.kernel(),
      onFiles: (events) => this.files(events),
      onError,
    });
    this.watcher = loop;
    this.reason = reason;
  }

  /** The one consumer of "a watched kernel field changed". */
  onKernel(consumer: () => void): void {
    this.kernel = consumer;
  }

  /** The one consumer of file events (wd -> inotify mask). */
  onFiles(consumer: (events: Map<number, number>) => void): void {
    this.files = consumer;
  }

  /** The loop's state; `tickMs` is the tick to show (the Guard shows the option's). */
  state(tickMs = this.tickMs): FastLoopState {
    return fastLoopState(this.watcher, tickMs, this.reason);
  }

  close(): void {
    this.watcher?.close();
  }
}
