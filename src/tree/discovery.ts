/**
 * Discovery of the Linux tree monitor: which processes the tree holds, and when each one is judged.
 *  - reads: /proc/loadavg (the last allocated pid: unchanged means nothing forked), the descendant
 *    walk (descendants.ts), /proc/<pid>/stat (start time) of each pid, a full snapshot (snapshot.ts) of
 *    each new process and a kept /proc/<pid>/status fd for the poll; /proc/<pid>/cmdline of processes
 *    not settled yet (a zygote's fresh fork takes its role later); /proc/uptime to settle them;
 *  - cadence: every discoveryMs (2 s), skipped when no pid was allocated and no tracked process exited
 *    since (a full walk, re-reading the root and every start time, every 30 s and on check());
 *  - emits: entries added to and dropped from the tracked table (then `onWalked`, which hands the
 *    table to the native fast loop), settled baselines (baseSig / baseFacts), and the count of
 *    descendants left untracked past maxProcesses.
 */
import * as fs from 'node:fs';
import { ProcfsUnreadableError } from '../errors';
import { parseStat } from '../procfs/stat';
import { classifyCmdline } from './cmdline';
import { listDescendants } from './descendants';
import { requirementFor, sandboxSignature } from './policy';
import { readNsLinks, sandboxFacts, snapshotProcess, type ChildSnapshot, type NsLinks } from './snapshot';
import { CLOCK_TICKS_PER_SECOND, closeStatusFd, newTracked, type Tracked, type TreeContext } from './tracked';

/** A full walk (root and every start time re-read) at least this often, ms. */
const FULL_WALK_MS = 30_000;

export class Discovery {
  root: ChildSnapshot | null = null;
  rootNs: NsLinks = { user: null, pid: null, net: null };
  /** Descendants left untracked at the last discovery (maxProcesses reached). */
  untracked = 0;
  /** Last pid the kernel allocated (/proc/loadavg) at the last discovery: unchanged means nothing forked. */
  private lastPidSeen = '';
  private lastFullDiscovery = 0;
  /** A tracked process exited (seen by a loop): discovery must run. */
  private dirty = true;

  /** `onWalked` runs after each walk, before settling (the native fast loop follows the table). */
  constructor(
    private readonly ctx: TreeContext,
    private readonly onWalked: () => void,
  ) {}

  markDirty(): void {
    this.dirty = true;
  }

  /** The next discover() re-reads the root and every start time (check()). */
  forceFull(): void {
    this.lastFullDiscovery = 0;
  }

  /**
   * A new process needs a new pid: when the kernel's last allocated pid (/proc/loadavg, in our pid
   * namespace, which also numbers the processes of nested namespaces) has not moved and no tracked
   * process exited, the tree cannot have changed and the walk is skipped. A full walk still runs every
   * 30 s (pid wrap-around, and settling of young processes).
   */
  needed(): boolean {
    let last: string;
    try {
      const t = fs.readFileSync(`${this.ctx.opts.procRoot}/loadavg`, 'latin1');
      last = t.slice(t.lastIndexOf(' ') + 1).trim();
    } catch {
      return true;
    }
    const unsettled = [...this.ctx.tracked.values()].some((t) => t.baseSig === null);
    if (!this.dirty && !unsettled && last === this.lastPidSeen && Date.now() - this.lastFullDiscovery < FULL_WALK_MS) return false;
    this.lastPidSeen = last;
    return true;
  }

  /** New and exited descendants. */
  discover(): void {
    const { opts, tracked } = this.ctx;
    this.dirty = false;
    // Every 30 s (and on check()) a full walk also re-reads the root and every start time; between
    // them a known pid is trusted while its kept status fd reads (bound to that process).
    const full = this.root === null || Date.now() - this.lastFullDiscovery >= FULL_WALK_MS;
    if (full) {
      this.lastFullDiscovery = Date.now();
      this.readRoot();
    }
    const pids = listDescendants(opts.rootPid, opts.procRoot);
    // Another process's tree (a launcher, a test): the root itself is watched like a child (tracer,
    // sandbox change, code). Our own process is covered by the Guard's own monitors.
    if (opts.rootPid !== process.pid) pids.unshift(opts.rootPid);
    const live = new Set<string>();
    const byPid = new Map<number, Tracked>();
    for (const t of tracked.values()) byPid.set(t.snap.pid, t);
    this.untracked = 0;
    for (const pid of pids) {
      const known = byPid.get(pid);
      // One fd per tracked process: past the bound, new processes stay unwatched (and say so).
      if (!known && tracked.size >= opts.maxProcesses) {
        this.untracked++;
        continue;
      }
      if (known && !full && known.statusFd !== null && known.quick !== '') {
        live.add(known.snap.key);
        if (known.baseSig === null) this.reclassify(known);
        continue;
      }
      let startTicks: string | null;
      try {
        startTicks = parseStat(fs.readFileSync(`${opts.procRoot}/${pid}/stat`, 'latin1')).startTicks;
      } catch {
        continue; // exited meanwhile
      }
      if (known && known.snap.startTicks === startTicks) {
        live.add(known.snap.key);
        // A zygote's fresh fork still shows the zygote's cmdline (or none) until it takes its role:
        // classify again until the process settles.
        if (known.baseSig === null) this.reclassify(known);
        continue;
      }
      let snap: ChildSnapshot;
      try {
        snap = snapshotProcess(pid, pid === opts.rootPid, opts.procRoot);
      } catch (e) {
        if (e instanceof ProcfsUnreadableError) continue; // exited, or pid reused mid-read: next discovery
        throw e;
      }
      live.add(snap.key);
      const facts = sandboxFacts(snap.status, snap.ns, this.rootNs);
      let statusFd: number | null;
      try {
        statusFd = fs.openSync(`${opts.procRoot}/${pid}/status`, 'r');
      } catch {
        statusFd = null; // exited: dropped at the next discovery
      }
      if (known) {
        closeStatusFd(known); // the pid was reused: the old process is gone
        tracked.delete(known.snap.key);
      }
      tracked.set(snap.key, newTracked(snap, facts, requirementFor(snap.kind, opts.sandboxPolicy), statusFd));
    }
    for (const [k, t] of [...tracked]) {
      if (live.has(k)) continue;
      closeStatusFd(t);
      tracked.delete(k);
    }
    this.onWalked();
    this.settle();
  }

  /** Marks processes old enough as settled: their sandbox signature becomes the baseline. */
  settle(): void {
    let uptimeTicks: number;
    try {
      uptimeTicks = Number(fs.readFileSync(`${this.ctx.opts.procRoot}/uptime`, 'latin1').split(' ')[0]) * CLOCK_TICKS_PER_SECOND;
    } catch {
      uptimeTicks = Number.POSITIVE_INFINITY;
    }
    const settleTicks = (this.ctx.opts.settleMs / 1000) * CLOCK_TICKS_PER_SECOND;
    for (const t of this.ctx.tracked.values()) {
      if (t.baseSig !== null) continue;
      if (uptimeTicks - Number(t.snap.startTicks) < settleTicks) continue;
      this.reclassify(t);
      t.baseSig = sandboxSignature(t.facts);
      t.baseFacts = t.facts;
    }
  }

  private readRoot(): void {
    const { rootPid, procRoot } = this.ctx.opts;
    const root = snapshotProcess(rootPid, true, procRoot);
    if (this.root && this.root.key !== root.key) {
      throw new ProcfsUnreadableError(`${procRoot}/${rootPid}`, new Error('the tree root exited and its pid was reused'));
    }
    this.root = root;
    this.rootNs = readNsLinks(rootPid, procRoot);
  }

  private reclassify(t: Tracked): void {
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`${this.ctx.opts.procRoot}/${t.snap.pid}/cmdline`, 'latin1');
    } catch {
      return;
    }
    const kind = classifyCmdline(cmdline, t.snap.pid === this.ctx.opts.rootPid);
    if (kind.type === t.snap.kind.type && kind.serviceSandboxType === t.snap.kind.serviceSandboxType) return;
    t.snap = { ...t.snap, kind };
    t.required = requirementFor(kind, this.ctx.opts.sandboxPolicy);
  }
}
