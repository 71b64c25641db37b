/**
 * The findings ledger (pure data logic: no timers, no native, no I/O): turns the observations
 * open now plus the one-shot events into findings by the policy, remembers which are open, and
 * keeps the last checker errors. The Guard does the side effects (log lines, 'finding' events,
 * the app's actions) with what reconcile() returns.
 */
import type { Finding, Observation, Severity, Status, Subsystem } from '../types';
import { classifyAll, type Policy } from '../policy';
import { aggregatePages } from '../integrity/aggregate';
import { ProcguardError } from '../errors';

export type CheckerError = Status['checkerErrors'][number];

/** Checker errors kept (the oldest goes first). */
export const MAX_CHECKER_ERRORS = 20;

export interface Reconciled {
  /** New findings, in order: newly open ones, then one-shot events (transient). */
  fresh: Finding[];
  /** Findings whose key no monitor reports any more. */
  closed: Finding[];
}

/** A finding from a classified observation. `id` is `<subsystem>:<kind>:<n>`. */
export function toFinding(o: Observation, severity: Severity, n: number, at: Date, transient: boolean): Finding {
  const f: Finding = { ...o, id: `${o.subsystem}:${o.kind}:${n}`, severity, firstSeen: at.toISOString() };
  if (transient) f.transient = true;
  return f;
}

/** A checker failure as the Status shows it (a ProcguardError keeps its stable code). */
export function toCheckerError(subsystem: Subsystem, e: unknown, at: Date): CheckerError {
  return {
    subsystem,
    code: e instanceof ProcguardError ? e.code : 'ERR_CHECKER',
    message: e instanceof Error ? e.message : String(e),
    at: at.toISOString(),
  };
}

export class FindingsLedger {
  private readonly open = new Map<string, Finding>();
  private readonly errors: CheckerError[] = [];
  private nextId = 1;

  constructor(
    private readonly policy: Policy,
    /** The clock of firstSeen and of checker errors (tests pass a fixed one). */
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Applies the policy through policy.ts's classifyAll (the one classification path the policy
   * tests exercise): new keys become findings, vanished keys close, a known key keeps its id and
   * firstSeen. One-shot events are classified with the open ones (so their subsystem counts as
   * diverged). Page-level code findings are bounded first (integrity/aggregate.ts). A policy that
   * throws changes nothing: the error propagates to the caller.
   */
  reconcile(openNow: Observation[], rawEvents: Observation[]): Reconciled {
    const events = aggregatePages(rawEvents, { events: true });
    const all = aggregatePages(openNow);
    const classified = classifyAll(this.policy, [...all, ...events]);
    const keys = new Set(all.map((o) => o.key));
    const closed: Finding[] = [];
    for (const [k, f] of [...this.open]) {
      if (keys.has(k)) continue;
      this.open.delete(k);
      closed.push(f);
    }
    const fresh: Finding[] = [];
    const at = this.now();
    for (let i = 0; i < all.length; i++) {
      const { severity, ...o } = classified[i];
      const prev = this.open.get(o.key);
      if (prev) {
        this.open.set(o.key, { ...prev, ...o, severity, id: prev.id, firstSeen: prev.firstSeen });
      } else {
        const f = toFinding(o, severity, this.nextId++, at, false);
        this.open.set(o.key, f);
        fresh.push(f);
      }
    }
    for (let i = all.length; i < classified.length; i++) {
      const { severity, ...o } = classified[i];
      fresh.push(toFinding(o, severity, this.nextId++, at, true));
    }
    return { fresh, closed };
  }

  /** The open findings, oldest key first. */
  findings(): Finding[] {
    return [...this.open.values()];
  }

  /** Records a checker failure (the last MAX_CHECKER_ERRORS are kept) and returns it. */
  checkerError(subsystem: Subsystem, e: unknown): CheckerError {
    const err = toCheckerError(subsystem, e, this.now());
    this.errors.push(err);
    if (this.errors.length > MAX_CHECKER_ERRORS) this.errors.shift();
    return err;
  }

  checkerErrors(): CheckerError[] {
    return [...this.errors];
  }
}
