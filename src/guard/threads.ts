/**
 * procguard's own threads (comm "procguard-*": the scanners, the shared watch + sentinel ticker) and their
 * scheduling: policy, nice value and CPU affinity. A same-uid process needs no ptrace rights to
 * put them on SCHED_IDLE, raise their nice value or pin them to one busy CPU; a checker slowed that
 * way looks healthy unless someone compares. A change from what they had when first seen is a
 * `checker-throttled` observation.
 */
import * as fs from 'node:fs';
import type { Observation } from '../types';

export interface OwnThread {
  tid: number;
  comm: string;
  /** SCHED_* number (0 OTHER, 1 FIFO, 2 RR, 3 BATCH, 5 IDLE, 6 DEADLINE). */
  policy: number;
  nice: number;
  /** Cpus_allowed_list, e.g. '0-1'. */
  cpus: string;
}

const POLICIES: Record<number, string> = { 0: 'SCHED_OTHER', 1: 'SCHED_FIFO', 2: 'SCHED_RR', 3: 'SCHED_BATCH', 5: 'SCHED_IDLE', 6: 'SCHED_DEADLINE' };
export const policyName = (p: number): string => POLICIES[p] ?? `policy ${p}`;

/** Parses /proc/<pid>/task/<tid>/stat: nice (field 19) and policy (field 41). The comm may hold spaces and ')'. */
export function parseStatSched(text: string): { nice: number; policy: number } | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const f = text.slice(close + 2).trim().split(/\s+/); // f[0] is field 3 (state)
  const nice = Number(f[19 - 3]);
  const policy = Number(f[41 - 3]);
  if (!Number.isInteger(nice) || !Number.isInteger(policy)) return null;
  return { nice, policy };
}

function read(p: string): string | null {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

/** procguard-* threads of this process, now. Threads that exit while being read are skipped. */
export function ownThreads(procRoot = '/proc'): OwnThread[] {
  if (process.platform !== 'linux') return [];
  let tids: string[];
  try {
    tids = fs.readdirSync(`${procRoot}/self/task`);
  } catch {
    return [];
  }
  const out: OwnThread[] = [];
  for (const t of tids) {
    const base = `${procRoot}/self/task/${t}`;
    const comm = read(`${base}/comm`)?.replace(/\n$/, '');
    if (!comm || !comm.startsWith('procguard-')) continue;
    const stat = read(`${base}/stat`);
    const status = read(`${base}/status`);
    const sched = stat === null ? null : parseStatSched(stat);
    if (!sched || status === null) continue;
    const cpus = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? '?';
    out.push({ tid: Number(t), comm, policy: sched.policy, nice: sched.nice, cpus });
  }
  return out;
}

/** Remembers each own thread's scheduling when first seen; reports departures from it. */
export class ThrottleWatch {
  private readonly base = new Map<number, OwnThread>();

  /** The open checker-throttled observations for `now` (threads gone are forgotten). */
  check(now: OwnThread[]): Observation[] {
    const out: Observation[] = [];
    const seen = new Set<number>();
    for (const t of now) {
      seen.add(t.tid);
      const b = this.base.get(t.tid);
      if (!b) {
        // First sight: SCHED_IDLE is never what procguard sets, so it is throttled already.
        this.base.set(t.tid, { ...t, policy: t.policy === 5 ? 0 : t.policy });
        if (t.policy !== 5) continue;
      }
      const base = this.base.get(t.tid)!;
      const changes: string[] = [];
      if (t.policy !== base.policy) changes.push(`policy ${policyName(base.policy)} -> ${policyName(t.policy)}`);
      if (t.nice !== base.nice) changes.push(`nice ${base.nice} -> ${t.nice}`);
      if (t.cpus !== base.cpus) changes.push(`CPU affinity ${base.cpus} -> ${t.cpus}`);
      if (changes.length === 0) continue;
      out.push({
        key: `guard:checker-throttled:${t.tid}`,
        subsystem: 'code',
        kind: 'checker-throttled',
        detail: `procguard thread ${t.comm} (tid ${t.tid}) was throttled from outside: ${changes.join(', ')}`,
        before: { policy: policyName(base.policy), nice: base.nice, cpus: base.cpus },
        after: { policy: policyName(t.policy), nice: t.nice, cpus: t.cpus },
        evidence: { tid: t.tid, comm: t.comm },
      });
    }
    for (const tid of [...this.base.keys()]) if (!seen.has(tid)) this.base.delete(tid);
    return out;
  }
}
