/**
 * Response policy: finding -> severity, and severity -> the app's action.
 *
 * The default mirrors fdir's ladder by how many subsystems have open findings: one subsystem
 * diverged -> 'log', two -> 'degrade', three or more -> 'safe-mode' ('kernel' and 'tree' count as one,
 * see LADDER_GROUP). Per-kind overrides take
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

/**
 * The ladder counts groups of subsystems. A 'tree' finding (a child's sandbox, tracer or limits) is
 * the isolation of the app's other processes: one group with 'kernel' (this process's isolation), so
 * a child that lost its sandbox while the main's NoNewPrivs changed is one diverged group, not two.
 */
const LADDER_GROUP: Readonly<Record<Subsystem, string>> = { code: 'code', kernel: 'isolation', tree: 'isolation', launch: 'launch', electron: 'electron' };

/** How many ladder groups have open findings (subsystems outside the table count on their own). */
export function divergedGroups(openBySubsystem: Readonly<Record<string, number>>): number {
  const groups = new Set<string>();
  for (const [s, n] of Object.entries(openBySubsystem)) if (n > 0) groups.add(Object.prototype.hasOwnProperty.call(LADDER_GROUP, s) ? LADDER_GROUP[s as Subsystem] : s);
  return groups.size;
}

/** fdir's ladder: log, then degrade, then safe-mode, by the number of diverged subsystem groups. */
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
      const diverged = divergedGroups(ctx.openBySubsystem);
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
