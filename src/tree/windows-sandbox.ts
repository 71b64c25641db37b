/**
 * `child-sandbox-changed` on Windows, as pure logic: a tracked child's sandbox facts compared with its
 * baseline. As on Linux (tree/monitor.ts), the baseline is what was first seen of the child and a
 * strengthening is not a finding; here a strengthening also becomes the baseline (a child that takes
 * a mitigation policy or a lower integrity after it was first seen has that as its sandbox from then
 * on), so only a loss against the strongest state seen is reported. A fact that could not be read is
 * no change either way; its first readable value becomes its baseline.
 */
import type { WindowsSandboxFacts } from '../types';

/** The facts that only weaken when true turns false (`debugPort` is `child-tracer-attached`'s). */
const ON_FLAGS = ['appContainer', 'restrictedToken', 'inJob', 'dynamicCodeProhibited', 'microsoftSignedOnly', 'noRemoteImages', 'strictHandleChecks'] as const;

export interface WindowsSandboxComparison {
  /** What weakened against the baseline, e.g. `integrityRid 0x1000 -> 0x2000`, `inJob true -> false`; empty: none. */
  weakened: string[];
  /** The baseline for the next comparison: the old one with every strengthening and newly readable fact taken. */
  baseline: WindowsSandboxFacts;
}

const rid = (v: number): string => `0x${v.toString(16)}`;

/** Compares `now` with `baseline`; neither is changed. */
export function compareWindowsSandbox(baseline: WindowsSandboxFacts, now: WindowsSandboxFacts): WindowsSandboxComparison {
  const weakened: string[] = [];
  const next: WindowsSandboxFacts = { ...baseline };
  const b = baseline.integrityRid;
  const a = now.integrityRid;
  if (a !== null) {
    if (b !== null && a > b) weakened.push(`integrityRid ${rid(b)} -> ${rid(a)}`);
    else next.integrityRid = a; // first readable, equal, or lower (stronger)
  }
  for (const k of ON_FLAGS) {
    const was = baseline[k];
    const is = now[k];
    if (is === null) continue;
    if (was === true && is === false) weakened.push(`${k} true -> false`);
    else next[k] = is; // first readable, equal, or turned on
  }
  return { weakened, baseline: next };
}
