/**
 * Checker health: is the sweep making progress, and do the native loops (the kernel watch loop,
 * the tamper sentinel) still tick? Every age is monotonic (native ages on CLOCK_MONOTONIC, JS on
 * performance.now()): a wall-clock step or a suspend is not a stalled checker. The scheduling of
 * procguard's own threads (checker-throttled) is in threads.ts.
 *
 * When is a sweep stalled? A paced sweep of a large process legitimately runs for a long time
 * (CPU cost / budget: ~60-80 s for 282 MiB at the default 0.1 %), so "no completed pass for N periods" either
 * fires falsely at start or, if it follows the slowest pass, grows without bound while a starved
 * checker slows down. Instead: no *progress* for longer than the expected gap between progress
 * reports, times a margin, and never more than an absolute cap.
 */
import type { Observation } from '../types';
import type { FastLoopState } from '../fastloop/fast-loop';
import type { CodeProgress } from '../integrity/monitor';
import type { SentinelState } from '../integrity/sentinel-controller';

export interface SweepProgress {
  passActive: boolean;
  pagesDone: number;
  pagesTotal: number;
  lastProgressAt: number;
}

export interface StallInput {
  progress: SweepProgress;
  now: number;
  periodMs: number;
  /** CPU the last complete pass took (ms), or null before one. */
  lastPassCpuMs: number | null;
  cpuBudget: number;
  /** Absolute cap on time without progress (ms). */
  capMs: number;
  /** An explicit limit overrides the computed one (still capped). */
  fixedMs?: number;
}

export type StallVerdict = { stalled: boolean; limitMs: number; sinceMs: number };

/** The limit (ms without progress) and whether it is exceeded. */
export function stallVerdict(i: StallInput): StallVerdict {
  const since = Math.max(0, i.now - i.progress.lastProgressAt);
  let limit: number;
  if (i.fixedMs !== undefined) limit = i.fixedMs;
  else {
    // Between passes the next progress is the next pass's start: one period away. During a pass
    // the expected pace is its CPU cost spread by the budget; before any pass completed, the
    // first (unpaced) pass is allowed the cap.
    const expectedPass = i.lastPassCpuMs === null ? i.capMs : i.lastPassCpuMs / i.cpuBudget;
    const expected = i.progress.passActive ? expectedPass : i.periodMs;
    limit = 2 * expected + 5000;
  }
  limit = Math.min(limit, i.capMs);
  return { stalled: since > limit, limitMs: limit, sinceMs: since };
}

export interface HealthOptions {
  periodMs: number;
  cpuBudget: number;
  stallCapMs: number;
  stallAfterMs?: number;
  sentinelMs: number;
}

/** What the heartbeat looks at: the sweep's progress, the watch loop, the sentinel (null: not running here). */
export interface HealthInput {
  progress: CodeProgress | null;
  watchLoop: FastLoopState;
  /** The watch loop's actual tick (ms). */
  watchTickMs: number;
  sentinel: SentinelState | null;
  /** The process tree's native fast loop: its tick count and tick (null: not running here). */
  tree: { ticks: number; tickMs: number } | null;
  /** performance.now() */
  now: number;
}

/** The sweep's and the native loops' stall state, re-evaluated by each heartbeat. */
export class CheckerHealth {
  private sweepStalled = false;
  private loopStalls: Observation[] = [];
  /** When the heartbeat first saw the sentinel running (performance.now(); -1: not yet), and the
   *  wall time of its last tick as last seen (display only). */
  private readonly sentinelRuns = { firstSeen: -1, at: 0 };
  /** The tree's fast loop: its tick count and when (performance.now()) the heartbeat saw it move. */
  private readonly treeRuns = { ticks: -1, at: 0 };
  /** The stall clock's origin until a pass makes progress (performance.now() at start()). */
  startedAt = 0;
  /** CPU the last complete pass took (ms), or null before one. */
  lastPassCpuMs: number | null = null;

  constructor(private readonly o: HealthOptions) {}

  /** The sweep, or a native loop, is stalled. */
  get stalled(): boolean {
    return this.sweepStalled || this.loopStalls.length > 0;
  }

  /** Wall time of the sentinel's last tick as the heartbeat last saw it (0: never). */
  get sentinelRunSeenAt(): number {
    return this.sentinelRuns.at;
  }

  sweepVerdict(progress: CodeProgress | null, now: number): StallVerdict | null {
    if (!progress) return null;
    // Progress ages are monotonic; before any progress (the first pass failed before reading a
    // page) they count from the monitor's creation, which can precede start(): count from start().
    const lastProgressAt = now - Math.min(progress.lastProgressAgeMs, now - this.startedAt);
    return stallVerdict({
      progress: { ...progress, lastProgressAt },
      now,
      periodMs: this.o.periodMs,
      lastPassCpuMs: this.lastPassCpuMs,
      cpuBudget: this.o.cpuBudget,
      capMs: this.o.stallCapMs,
      fixedMs: this.o.stallAfterMs,
    });
  }

  /** Re-evaluates everything; true when the set of stalls changed. */
  update(i: HealthInput): boolean {
    const before = this.key();
    const v = this.sweepVerdict(i.progress, i.now);
    this.sweepStalled = v !== null && v.stalled;
    this.loopStalls = this.loopHealth(i);
    return this.key() !== before;
  }

  /** The open checker-stalled observations. */
  observations(progress: CodeProgress | null, now: number): Observation[] {
    const out = [...this.loopStalls];
    if (!this.sweepStalled) return out;
    const v = this.sweepVerdict(progress, now);
    out.push({
      key: 'guard:checker-stalled',
      subsystem: 'code',
      kind: 'checker-stalled',
      detail: v ? `no sweep progress for ${(v.sinceMs / 1000).toFixed(1)} s (limit ${(v.limitMs / 1000).toFixed(1)} s)` : 'no sweep progress',
    });
    return out;
  }

  private key(): string {
    return `${this.sweepStalled}|${this.loopStalls.map((o) => o.key).join()}`;
  }

  /** A native loop that stopped ticking (watch loop and sentinel: their native tick times). */
  private loopHealth(i: HealthInput): Observation[] {
    const out: Observation[] = [];
    const w = i.watchLoop;
    if (w.state === 'running' && w.lastTickAgeMs !== undefined) {
      const limit = Math.min(this.o.stallCapMs, 20 * i.watchTickMs + 5000);
      if (w.lastTickAgeMs > limit) {
        out.push({
          key: 'guard:checker-stalled:watch',
          subsystem: 'kernel',
          kind: 'checker-stalled',
          detail: `the kernel watch loop has not ticked for ${(w.lastTickAgeMs / 1000).toFixed(1)} s (limit ${(limit / 1000).toFixed(1)} s)`,
        });
      }
    }
    const sentinel = i.sentinel;
    if (sentinel && sentinel.state === 'running') {
      // The sentinel's own tick time (a native atomic, no /proc read): it runs on the shared native
      // ticker thread, so a stopped or starved ticker stops it advancing. Counted from when the
      // heartbeat first saw it running until its first tick.
      if (this.sentinelRuns.firstSeen === -1) this.sentinelRuns.firstSeen = i.now;
      if (sentinel.lastTickAt !== undefined) this.sentinelRuns.at = sentinel.lastTickAt;
      const age = sentinel.lastTickAgeMs ?? i.now - this.sentinelRuns.firstSeen;
      const limit = Math.min(this.o.stallCapMs, 20 * this.o.sentinelMs + 5000);
      if (age > limit) {
        out.push({
          key: 'guard:checker-stalled:sentinel',
          subsystem: 'code',
          kind: 'checker-stalled',
          detail: `the tamper sentinel has not ticked for ${(age / 1000).toFixed(1)} s (limit ${(limit / 1000).toFixed(1)} s)`,
        });
      }
    }
    const tree = i.tree;
    if (tree) {
      if (tree.ticks !== this.treeRuns.ticks) {
        this.treeRuns.ticks = tree.ticks;
        this.treeRuns.at = i.now;
      }
      const limit = Math.min(this.o.stallCapMs, 20 * tree.tickMs + 5000);
      if (i.now - this.treeRuns.at > limit) {
        out.push({
          key: 'guard:checker-stalled:tree',
          subsystem: 'tree',
          kind: 'checker-stalled',
          detail: `the process tree's fast loop has not ticked for ${((i.now - this.treeRuns.at) / 1000).toFixed(1)} s (limit ${(limit / 1000).toFixed(1)} s)`,
        });
      }
    }
    return out;
  }
}
