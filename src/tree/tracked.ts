/**
 * The tracked-process table of the Linux tree monitor (monitor.ts owns it; discovery.ts fills it):
 * one entry per descendant, keyed by pid + start time, and the context each loop (poll.ts,
 * discovery.ts, code-pass.ts, sentinel-loop.ts) is given to work on it. Also the by-pid checks that
 * a read still belongs to the tracked process.
 */
import * as fs from 'node:fs';
import type { NativeBinding } from '../native';
import { parseStat } from '../procfs/stat';
import type { Observation, ProcessEntry, SandboxFacts } from '../types';
import type { ChildCodePlan } from './code';
import type { TreeTimings } from './loops';
import type { SandboxRequirement, TreeSandboxPolicy } from './policy';
import type { ChildSnapshot, NsLinks } from './snapshot';

export interface Tracked {
  snap: ChildSnapshot;
  facts: SandboxFacts;
  required: SandboxRequirement | null;
  /** Sandbox signature when the process settled; null before. */
  baseSig: string | null;
  baseFacts: SandboxFacts | null;
  /** The security lines of the last status read (cheap change test). */
  quick: string;
  /** A thread (not the leader) with a tracer, from the last thread scan. */
  threadTracer: { tid: number; pid: number } | null;
  code: Map<string, Observation>;
  coverage: ProcessEntry['coverage'];
  /**
   * An open /proc/<pid>/status kept for the fast loop: re-read at offset 0 it regenerates, costs no
   * path lookup, and it is bound to this process: after the process exits it fails (ESRCH) even if
   * the pid is reused, so the poll can never read another process's status.
   */
  statusFd: number | null;
  /** The executable lines of the maps at the last code pass and its plan (a pass re-plans only when they changed). */
  mapsText: string;
  plan: ChildCodePlan | null;
  /** /proc/<pid>/statm at the last maps read, and when: the maps are re-read when it changed or after 60 s. */
  statm: string;
  mapsAt: number;
  /** Written code pages the last pass could not compare, one observation per file (code.ts). */
  unreadable: Observation[];
  /** Why this process's code check is limited (maps too large, mappings left out), or null. */
  limited: string | null;
}

/** A freshly discovered process: not settled, no status read by the poll yet, no code plan. */
export function newTracked(snap: ChildSnapshot, facts: SandboxFacts, required: SandboxRequirement | null, statusFd: number | null): Tracked {
  return {
    snap,
    facts,
    required,
    baseSig: null,
    baseFacts: null,
    quick: '',
    threadTracer: null,
    code: new Map(),
    coverage: null,
    statusFd,
    mapsText: '',
    plan: null,
    statm: '',
    mapsAt: 0,
    unreadable: [],
    limited: null,
  };
}

/** The monitor's validated options (loops.ts fills the defaults). */
export type TreeOpts = TreeTimings & { procRoot: string; sandboxPolicy: TreeSandboxPolicy | undefined };

/** What every loop of the Linux tree monitor is given: the options, the table, and the coordinator's hooks. */
export interface TreeContext {
  readonly opts: TreeOpts;
  readonly tracked: Map<string, Tracked>;
  /** The root's namespaces (read by discovery): a child's own namespaces are judged against them. */
  rootNs(): NsLinks;
  /** A tracked process exited or its pid is another process's now: the next discovery must walk. */
  markDirty(): void;
  /** A checker error (never thrown into a timer). */
  onError(e: unknown): void;
  /** The native binding, loaded once; null when it cannot load. */
  binding(): NativeBinding | null;
}

/** USER_HZ is 100 on every Linux ABI Node supports (sysconf(_SC_CLK_TCK)). */
export const CLOCK_TICKS_PER_SECOND = 100;

export function closeStatusFd(t: Tracked): void {
  if (t.statusFd === null) return;
  try {
    fs.closeSync(t.statusFd);
  } catch {
    // already closed
  }
  t.statusFd = null;
}

/**
 * Whether the process at t's pid is still t's (same start time, /proc/<pid>/stat field 22). Reads by
 * pid done before a true answer were of this process: its pid cannot be reused while it lives.
 */
export function sameProcess(t: Tracked, procRoot: string): boolean {
  try {
    return parseStat(fs.readFileSync(`${procRoot}/${t.snap.pid}/stat`, 'latin1')).startTicks === t.snap.startTicks;
  } catch {
    return false;
  }
}

/** Age of a process from its start time (clock ticks after boot) and /proc/uptime; Infinity when unknown. */
export function ageMs(t: Tracked, procRoot: string): number {
  try {
    const up = Number(fs.readFileSync(`${procRoot}/uptime`, 'latin1').split(' ')[0]);
    return (up - Number(t.snap.startTicks) / CLOCK_TICKS_PER_SECOND) * 1000;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
