/**
 * The process tree's fast loop, in native code on the shared ticker (native/tree/tree_sentinel_linux.cc):
 * per child and tick, a kept statm read (a copy-on-write of a code page moves its counters) and a
 * slice of its threads' status, the leader's too (TracerPid of every thread). A child
 * whose counters moved has its code regions walked for written pages; pages found are re-compared
 * every tick. JS is woken only when something changed. This wrapper keeps the native set of watched
 * processes equal to the monitor's (keyed by pid + start time) and checks that a code report
 * belongs to the regions it was given.
 */
import type { NativeBinding, NativeTreeJob, NativeTreeResult, NativeTreeSentinel, NativeTreeSentinelEvent } from '../native';

export interface ChildSentinelOptions {
  /** Tick, ms (the kernel watch loop's default: equal ticks share the ticker's wakeups). */
  tickMs: number;
  /** Every non-leader thread's status is read at least this often, ms (spread over the ticks). */
  threadMs: number;
  /** Share of one core the page-table walks may use. */
  budget: number;
}

/** One watched process: its identity and the regions (the plan) the native side walks. */
interface Watched {
  pid: number;
  start: bigint;
  regions: NativeTreeJob['regions'] | null;
}

export type SentinelEvent =
  | { kind: 'exited'; key: string }
  | { kind: 'threads'; key: string; leaderChanged: boolean; tracer: { tid: number; pid: number } | null }
  | { kind: 'code'; key: string; result: NativeTreeResult };

export class ChildSentinel {
  private readonly native: NativeTreeSentinel;
  private readonly watched = new Map<string, Watched>();
  private readonly byIdentity = new Map<string, string>();

  /** Null when the binding has no tree sentinel (not Linux, or an older build). */
  static create(binding: NativeBinding | null, opts: ChildSentinelOptions, onEvents: (events: SentinelEvent[]) => void): ChildSentinel | null {
    if (!binding?.TreeSentinel) return null;
    return new ChildSentinel(binding, opts, onEvents);
  }

  private constructor(binding: NativeBinding, opts: ChildSentinelOptions, onEvents: (events: SentinelEvent[]) => void) {
    const slices = Math.max(1, Math.min(100, Math.round(opts.threadMs / opts.tickMs)));
    this.native = new binding.TreeSentinel!(opts.tickMs, slices, opts.budget, (events) => onEvents(this.translate(events)));
  }

  /**
   * Watches `key` (the monitor's pid + start time key). False when the process exited or its pid is
   * another process's now (the caller's next discovery drops it).
   */
  add(key: string, pid: number, startTicks: string): boolean {
    if (this.watched.has(key)) return true;
    const start = BigInt(startTicks);
    const r = this.native.add(pid, start);
    if (r !== true) return false;
    this.watched.set(key, { pid, start, regions: null });
    this.byIdentity.set(`${pid}:${start}`, key);
    return true;
  }

  remove(key: string): void {
    const w = this.watched.get(key);
    if (!w) return;
    this.native.remove(w.pid, w.start);
    this.watched.delete(key);
    this.byIdentity.delete(`${w.pid}:${w.start}`);
  }

  has(key: string): boolean {
    return this.watched.has(key);
  }

  keys(): string[] {
    return [...this.watched.keys()];
  }

  /** The regions of the child's code plan; a no-op when they are the ones already given. */
  setRegions(key: string, regions: NativeTreeJob['regions']): void {
    const w = this.watched.get(key);
    if (!w || w.regions === regions) return;
    w.regions = regions;
    this.native.setRegions(w.pid, w.start, regions);
  }

  stats(): ReturnType<NativeTreeSentinel['stats']> {
    return this.native.stats();
  }

  close(): void {
    this.native.close();
    this.watched.clear();
    this.byIdentity.clear();
  }

  private translate(events: NativeTreeSentinelEvent[]): SentinelEvent[] {
    const out: SentinelEvent[] = [];
    for (const e of events) {
      const key = this.byIdentity.get(`${e.pid}:${e.startTicks}`);
      if (key === undefined) continue; // removed meanwhile
      if (e.kind === 'exited') out.push({ kind: 'exited', key });
      else if (e.kind === 'threads') out.push({ kind: 'threads', key, leaderChanged: e.leaderChanged, tracer: e.tracedTid !== 0 && e.tracedTid !== e.pid ? { tid: e.tracedTid, pid: e.tracerPid } : null });
      else if (!e.result.ok) {
        // The native side stopped walking this child after the error: the next plan hands the regions over again.
        const w = this.watched.get(key);
        if (w) w.regions = null;
        out.push({ kind: 'code', key, result: e.result });
      } else if (this.fits(key, e.result)) out.push({ kind: 'code', key, result: e.result });
    }
    return out;
  }

  /**
   * A report queued before setRegions() gave new regions indexes the old ones: such a report is
   * dropped (the native side walks the new regions at once).
   */
  private fits(key: string, res: NativeTreeResult): boolean {
    const regions = this.watched.get(key)?.regions;
    if (!regions) return false;
    return res.hits.every((h) => {
      const r = regions[h.region];
      return r !== undefined && h.address >= r.start && h.address < r.end && r.fileOffset + Number(h.address - r.start) === h.fileOffset;
    });
  }
}
