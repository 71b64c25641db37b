/**
 * Response policy: finding -> severity, and severity -> the app's action.
 *
 * The default mirrors fdir's ladder by how many subsystems have open findings: one subsystem
 * diverged -> 'log', two -> 'degrade', three or more -> 'safe-mode'. Per-kind overrides take
 * precedence; the whole policy can be replaced by any object with classify(). Default actions are
 * none: procguard logs and advises, and only an action the app attaches does anything.
 */
import type { Finding, Observation, Severity, Subsystem } from './types';
import { SEVERITIES } from './types';

export interface PolicyContext {
  /** Number of open findings (observations) per subsystem, including the one being classified. */
  openBySubsystem: Record<Subsystem, number>;
}

export interface Policy {
  classify(obs: Observation, ctx: PolicyContext): Severity;
}

export interface DefaultPolicyOptions {
  /** Severity by kind ('tracer-attached') or by subsystem-qualified kind ('kernel:tracer-attached'). */
  overrides?: Readonly<Record<string, Severity>>;
}

/** Rank of a severity on the ladder (log 0 ... safe-mode 4). */
export function severityRank(s: Severity): number {
  const i = SEVERITIES.indexOf(s);
  if (i < 0) throw new RangeError(`unknown severity '${String(s)}' (expected one of ${SEVERITIES.join(', ')})`);
  return i;
}

/** fdir's ladder: log, then degrade, then safe-mode, by the number of diverged subsystems. */
export function defaultPolicy(opts: DefaultPolicyOptions = {}): Policy {
  const overrides = { ...(opts.overrides ?? {}) };
  for (const [k, v] of Object.entries(overrides)) {
    if (!SEVERITIES.includes(v)) {
      throw new RangeError(`policy override for '${k}': unknown severity '${String(v)}' (expected one of ${SEVERITIES.join(', ')})`);
    }
  }
  return {
    classify(obs, ctx) {
      const o = overrides[`${obs.subsystem}:${obs.kind}`] ?? overrides[obs.kind];
      if (o) return o;
      const diverged = Object.values(ctx.openBySubsystem).filter((n) => n > 0).length;
      return diverged >= 3 ? 'safe-mode' : diverged === 2 ? 'degrade' : 'log';
    },
  };
}

/** Count open observations per subsystem. */
export function countBySubsystem(open: readonly Observation[]): Record<Subsystem, number> {
  const counts: Record<Subsystem, number> = { code: 0, kernel: 0, launch: 0, electron: 0, tree: 0 };
  for (const o of open) counts[o.subsystem] = (counts[o.subsystem] ?? 0) + 1;
  return counts;
}

/** Classify every open observation with the same context (the set of all open ones). */
export function classifyAll<T extends Observation>(policy: Policy, open: readonly T[]): (T & { severity: Severity })[] {
  const ctx: PolicyContext = { openBySubsystem: countBySubsystem(open) };
  return open.map((o) => {
    const severity = policy.classify(o, ctx);
    severityRank(severity); // a replaced policy must still answer with a known severity
    return { ...o, severity };
  });
}

/** The highest severity among the findings, or null when there are none. */
export function overallSeverity(findings: readonly { severity: Severity }[]): Severity | null {
  let best: Severity | null = null;
  for (const f of findings) if (best === null || severityRank(f.severity) > severityRank(best)) best = f.severity;
  return best;
}

/** What the app does at each severity (default: nothing). */
export type PolicyActions = Partial<Record<Severity, (finding: Finding) => void | Promise<void>>>;

/**
 * Run the app's action for a finding's severity. An action that throws or rejects is reported
 * through `onError` and never propagates into the monitor.
 */
export async function runAction(actions: PolicyActions, finding: Finding, onError?: (err: unknown) => void): Promise<boolean> {
  const fn = actions[finding.severity];
  if (!fn) return false;
  try {
    await fn(finding);
  } catch (err) {
    onError?.(err);
  }
  return true;
}
