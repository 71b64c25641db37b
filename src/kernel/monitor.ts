/**
 * Kernel isolation monitor: takes a baseline snapshot (explicitly, or on its first successful
 * check), then each check() diffs a fresh snapshot against it and returns the observations that
 * are open now. It never re-baselines by itself once it has a baseline.
 */
import { GuardStateError } from '../errors';
import type { Observation } from '../types';
import { takeLightSnapshot, takeSnapshot, type KernelSnapshot, type SnapshotSources } from './snapshot';
import { diffSnapshots, type DiffOptions } from './diff';

export interface KernelMonitorOptions extends SnapshotSources, DiffOptions {}

export class KernelMonitor {
  private readonly opts: KernelMonitorOptions;
  private base: KernelSnapshot | null = null;
  private last: KernelSnapshot | null = null;
  private timer: NodeJS.Timeout | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: KernelMonitorOptions = {}) {
    if (opts === null || typeof opts !== 'object') throw new TypeError('KernelMonitor: options must be an object');
    this.opts = { ...opts };
  }

  /** Take (or retake) the baseline snapshot. Throws ProcfsUnreadableError/ProcfsParseError. */
  baseline(): Promise<KernelSnapshot> {
    return this.serial(async () => {
      const s = await takeSnapshot(this.opts);
      this.base = s;
      this.last = s;
      return s;
    });
  }

  /**
   * Snapshot now and return the observations that are open (differ from the baseline). Without a
   * baseline (none taken yet, or the last attempt failed) this snapshot becomes it: the first
   * successful check is the baseline, and a failed one leaves none so the next check retries.
   * A tracer already attached then is still reported (evidence.atStart). `light` re-reads only
   * what the native watch loop does not watch and keeps the rest from the last snapshot (the
   * Guard's periodic check while that loop runs); without a last snapshot it is a full one.
   */
  check(opts: { light?: boolean } = {}): Promise<Observation[]> {
    return this.serial(async () => {
      // light: the native watch loop vouches for the fields it watches (snapshot.ts LOOP_COVERED).
      const now = opts.light && this.last ? await takeLightSnapshot(this.last, this.opts) : await takeSnapshot(this.opts);
      if (!this.base) this.base = now;
      this.last = now;
      return diffSnapshots(this.base, now, this.opts);
    });
  }

  /** The baseline snapshot, or null before baseline(). */
  baselineSnapshot(): KernelSnapshot | null {
    return this.base;
  }

  /** The most recent snapshot (for the Status), or null before baseline(). */
  lastSnapshot(): KernelSnapshot | null {
    return this.last;
  }

  /**
   * Check every `periodMs` and pass the open observations to `onObservations` (also when empty, so
   * a caller sees conditions close). Errors of the checker go to `onError` and never stop the timer.
   * Takes the baseline first when none exists. The timer keeps the process alive until stop().
   */
  start(periodMs: number, onObservations: (obs: Observation[]) => void, onError?: (err: unknown) => void): void {
    if (!Number.isFinite(periodMs) || periodMs < 10) throw new RangeError('periodMs must be a finite number >= 10');
    if (typeof onObservations !== 'function') throw new TypeError('onObservations must be a function');
    if (this.timer) throw new GuardStateError('KernelMonitor already started');
    const report = onError ?? (() => {});
    let running = false;
    const tick = async () => {
      if (running) return; // a slow pass is not overlapped by the next one
      running = true;
      try {
        onObservations(await this.check());
      } catch (err) {
        report(err);
      } finally {
        running = false;
      }
    };
    this.timer = setInterval(() => void tick(), periodMs); // tick() reports its own errors
  }

  /** Stop the timer started by start(); idempotent. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }
}
