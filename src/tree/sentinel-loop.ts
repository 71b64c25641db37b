/**
 * The JS side of the Linux tree monitor's native fast loop (sentinel.ts wraps the native sentinel).
 *  - reads: nothing itself; the native loop reads each child's kept statm and its threads' status
 *    every tick and walks the written code pages (docs/process-tree.md);
 *  - cadence: woken by the native loop only when something changed (tick sentinelMs = 100 ms, each
 *    thread every threadMs = 300 ms); sync() after each discovery walk;
 *  - emits: a thread tracer (threadTracer) and, when the leader's isolation lines changed, a status
 *    re-read (the poll's refreshOne) and settling; a child's code report through the code pass's
 *    applyCode(); an exit closes the kept status fd and marks discovery dirty. Then it publishes.
 */
import type { NativeTreeJob, NativeTreeResult } from '../native';
import type { Observation } from '../types';
import type { ChildCodePlan } from './code';
import { ChildSentinel, type SentinelEvent } from './sentinel';
import { closeStatusFd, type Tracked, type TreeContext } from './tracked';

/** What the fast loop's events are handed to (the other loops and the coordinator). */
export interface SentinelHooks {
  /** The poll's re-read of one status; true when a security line changed. */
  refreshStatus(t: Tracked): boolean;
  /** Discovery's settling of processes old enough. */
  settle(): void;
  /** The code pass's handling of one child's code result. */
  applyCode(t: Tracked, plan: ChildCodePlan, res: NativeTreeResult, events: Observation[]): boolean;
  /** Publish the open set if it changed, with these one-shot events. */
  emit(events: Observation[]): void;
  /** The monitor was stopped: late events are dropped. */
  stopped(): boolean;
}

export class SentinelLoop {
  private constructor(
    private readonly ctx: TreeContext,
    private readonly hooks: SentinelHooks,
    private readonly sentinel: ChildSentinel,
  ) {}

  /**
   * The running fast loop, or null: off (sentinelMs 0), on a captured procfs tree (tests: it reads
   * live processes), or no native sentinel in the binding (another OS, an older build).
   */
  static start(ctx: TreeContext, hooks: SentinelHooks): SentinelLoop | null {
    const { sentinelMs, threadMs, sentinelBudget, procRoot } = ctx.opts;
    if (sentinelMs === 0 || procRoot !== '/proc') return null;
    let loop: SentinelLoop | null = null;
    const sentinel = ChildSentinel.create(ctx.binding(), { tickMs: sentinelMs, threadMs, budget: sentinelBudget }, (events) => {
      if (!loop || hooks.stopped()) return;
      try {
        loop.onEvents(events);
      } catch (e) {
        ctx.onError(e);
      }
    });
    if (!sentinel) return null;
    loop = new SentinelLoop(ctx, hooks, sentinel);
    loop.sync();
    return loop;
  }

  /** The native set of watched processes follows the tracked one (pid + start time). */
  sync(): void {
    const s = this.sentinel;
    for (const [key, t] of this.ctx.tracked) {
      if (s.has(key)) continue;
      if (!s.add(key, t.snap.pid, t.snap.startTicks)) this.ctx.markDirty(); // exited: next discovery
      else this.hooks.refreshStatus(t); // the baseline of the security lines (the JS poll is off)
    }
    for (const key of s.keys()) if (!this.ctx.tracked.has(key)) s.remove(key);
  }

  /** The regions of a child's code plan, for the native walks. */
  setRegions(key: string, regions: NativeTreeJob['regions']): void {
    this.sentinel.setRegions(key, regions);
  }

  stats(): ReturnType<ChildSentinel['stats']> {
    return this.sentinel.stats();
  }

  close(): void {
    this.sentinel.close();
  }

  private onEvents(events: SentinelEvent[]): void {
    const out: Observation[] = [];
    let changed = false;
    for (const e of events) {
      const t = this.ctx.tracked.get(e.key);
      if (!t) continue;
      if (e.kind === 'exited') {
        closeStatusFd(t); // the next discovery re-reads the start time of that pid, then drops it
        this.ctx.markDirty();
      } else if (e.kind === 'threads') {
        t.threadTracer = e.tracer;
        if (e.leaderChanged && this.hooks.refreshStatus(t)) this.hooks.settle();
        changed = true;
      } else if (t.plan) {
        this.hooks.applyCode(t, t.plan, e.result, out);
        changed = true;
      }
    }
    if (changed || out.length > 0) this.hooks.emit(out);
  }
}
