/**
 * When is a sweep stalled? A paced sweep of a large process legitimately runs for a long time
 * (CPU cost / budget: ~60-80 s for 282 MiB at the default 0.1 %), so "no completed pass for N periods" either
 * fires falsely at start or, if it follows the slowest pass, grows without bound while a starved
 * checker slows down. Instead: no *progress* for longer than the expected gap between progress
 * reports, times a margin, and never more than an absolute cap.
 */
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

/** The limit (ms without progress) and whether it is exceeded. */
export function stallVerdict(i: StallInput): { stalled: boolean; limitMs: number; sinceMs: number } {
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
