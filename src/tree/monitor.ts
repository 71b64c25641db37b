/**
 * The process tree monitor: discovers the descendants of a root pid, checks each one's sandbox from
 * the kernel's view against a per-type policy, polls their tracer and sandbox state fast, and checks
 * their code (written pages only, see code.ts). The Guard constructs, starts and stops it, and
 * reconciles its observations through the callback of start() (as with the KernelMonitor).
 *
 * The fast loop is native (sentinel.ts, on the shared ticker with the main's watch loop): each
 * child's statm and a slice of its threads' status every tick (100 ms; each thread every 300 ms), its
 * written code pages found and compared when its counters moved; JS is woken only on a change.
 * Without the native sentinel (another OS, an older build, a captured procfs) a JS poll reads the
 * leaders' status instead. The loops, each on its own timer so a slow one never delays a fast one:
 *  - poll (no native sentinel; every ~167 ms a third of the processes, so each one every 500 ms):
 *    one read of a kept /proc/<pid>/status fd; only the few security lines are compared with the
 *    previous read, and a full parse happens only when they changed;
 *  - discovery (2 s, skipped when no pid was allocated since): new and exited processes, full snapshot of new ones;
 *  - code (10 s): one native background job for all children, plus a scan of every thread's tracer
 *    (with the native sentinel: only the maps of the children whose size changed are re-planned and
 *    handed to it; check() still runs the full job).
 */
import * as fs from 'node:fs';
import { GuardStateError, ProcfsUnreadableError, UnsupportedPlatformError } from '../errors';
import { loadNative, type NativeBinding, type NativeTreeResult } from '../native';
import { parseMaps } from '../procfs/maps';
import { parseStatus } from '../procfs/status';
import { parseStat } from '../procfs/stat';
import type { Observation, ProcessEntry, SandboxFacts } from '../types';
import { listDescendants } from './discover';
import { snapshotProcess, sandboxFacts, readNsLinks, type ChildSnapshot, type NsLinks } from './snapshot';
import { requirementFor, sandboxFailures, isSandboxed, sandboxSignature, STRICT, type SandboxRequirement, type TreeSandboxPolicy } from './policy';
import { planChildCode, codeObservations, unreadableObservations } from './code';
import { classifyCmdline } from './cmdline';
import { ChildSentinel, type SentinelEvent } from './sentinel';
import { treeTimings, TreeLoopBase } from './loops';

/** What the app (Electron) says of a process. */
export interface ProcessClaim {
  type?: string;
  sandboxed?: boolean;
  title?: string;
  url?: string;
}

export interface ProcessTreeOptions {
  /** Root of the watched tree. Default: this process. */
  rootPid?: number;
  /** Without the native fast loop (sentinelMs 0, not Linux): each known process's status (tracer,
   *  sandbox) is read at least this often, ms; the reads are spread over ticks of a third of it, so a
   *  tracer is seen within ~pollMs. Default 500. */
  pollMs?: number;
  /** Discovery of new and exited processes, ms (skipped when no pid was allocated since). Default 2000. */
  discoveryMs?: number;
  /** Code check of the children (written pages), ms; 0 turns it off. Default 10 000. With the native
   *  fast loop, the children's maps are re-planned at this period and the written pages are found by it. */
  codeMs?: number;
  /** A process is judged against the policy once it is this old (Chromium's children enter their sandbox while starting). Default 2000. */
  settleMs?: number;
  /** Per-type requirements replacing the defaults (see tree/policy.ts). */
  sandboxPolicy?: TreeSandboxPolicy;
  /** What the app says of each pid (procguard/electron-main fills it from Electron). */
  claims?: () => ReadonlyMap<number, ProcessClaim> | null;
  /** Tick of the native fast loop (Linux): each child's statm every tick, ms; 0 turns it off (the JS
   *  poll and the code pass then do its work). Default 100: every other tick is shared with the main's
   *  kernel watch tick (200) on the one ticker thread. */
  sentinelMs?: number;
  /** Every thread of every child (its leader too) is read at least this often by the native loop, ms
   *  (a tracer seizing one thread is seen within it; the reads are spread over the ticks). Default 300. */
  threadMs?: number;
  /** Share of one core the native loop's page-table walks may use. Default 0.002 (0.2 %). */
  sentinelBudget?: number;
  /** procfs mount (tests). Default '/proc'. */
  procRoot?: string;
  /** Processes tracked at most (each keeps one open fd); past it the rest are left unwatched and a
   *  `tree-limit-reached` observation says how many. Default 1024. */
  maxProcesses?: number;
  /** Bytes of a child's /proc/<pid>/maps read at most (on the JS thread); a larger one is not
   *  code-checked and a `tree-limit-reached` observation says so. Default 8 MiB. */
  maxMapsBytes?: number;
}

export interface TreeUpdate {
  open: Observation[];
  events: Observation[];
}

interface Tracked {
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
  /** The maps text of the last code pass and its plan (a pass re-plans only when the maps changed). */
  mapsText: string;
  plan: ReturnType<typeof planChildCode> | null;
  /** /proc/<pid>/statm at the last maps read, and when: the maps are re-read when it changed or after 60 s. */
  statm: string;
  mapsAt: number;
  /** Written code pages the last pass could not compare, one observation per file (code.ts). */
  unreadable: Observation[];
  /** Why this process's code check is limited (maps too large, mappings left out), or null. */
  limited: string | null;
}

const STATUS_BUF = Buffer.alloc(16384);
/** The poll reads 1/POLL_SLICES of the processes per tick. */
const POLL_SLICES = 3;

const QUICK_KEYS = ['TracerPid:', 'Seccomp:', 'Seccomp_filters:', 'NoNewPrivs:', 'CapEff:', 'CapPrm:'];

/** The security-relevant lines of a status text, concatenated (no parse). */
function quickLines(text: string): string {
  let s = '';
  for (const k of QUICK_KEYS) {
    const i = text.indexOf('\n' + k);
    if (i < 0) continue;
    const e = text.indexOf('\n', i + 1);
    s += text.slice(i + 1, e < 0 ? text.length : e) + ';';
  }
  return s;
}

/** Every sandbox property that failed before still fails or passes now, and fewer fail: entering the sandbox. */
function strengthened(before: SandboxFacts, after: SandboxFacts): boolean {
  const b = new Set(sandboxFailures(before, STRICT).map((f) => f.property));
  const a = sandboxFailures(after, STRICT).map((f) => f.property);
  return a.length < b.size && a.every((p) => b.has(p));
}

/** The lines of a maps text whose permissions are executable. */
function execLines(text: string): string {
  let out = '';
  let pos = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const sp = text.indexOf(' ', pos);
    if (sp >= 0 && sp + 3 < nl && text.charCodeAt(sp + 3) === 0x78 /* 'x' */) out += text.slice(pos, nl + 1);
    pos = nl + 1;
  }
  return out;
}

function clockTicksPerSecond(): number {
  return 100; // USER_HZ is 100 on every Linux ABI Node supports (sysconf(_SC_CLK_TCK))
}

export class TreeMonitor extends TreeLoopBase {
  private readonly opts: Required<Omit<ProcessTreeOptions, 'claims' | 'sandboxPolicy'>> & Pick<ProcessTreeOptions, 'claims' | 'sandboxPolicy'>;
  private readonly tracked = new Map<string, Tracked>();
  private rootNs: NsLinks = { user: null, pid: null, net: null };
  private root: ChildSnapshot | null = null;
  private native: NativeBinding | null | undefined = undefined;
  private lastCodeStats = { bytes: 0, readBytes: 0, pagemapBytes: 0, processes: 0 };
  private sentinel: ChildSentinel | null = null;
  /** Last pid the kernel allocated (/proc/loadavg) at the last discovery: unchanged means nothing forked. */
  private lastPidSeen = '';
  private lastFullDiscovery = 0;
  /** A tracked process exited (seen by the poll): discovery must run. */
  private dirty = true;
  /** Descendants left untracked at the last discovery (maxProcesses reached). */
  private untracked = 0;
  /** The last code pass's stalled file read (native/tree/tree_files.h), or null. */
  private codeStalled: string | null = null;

  constructor(options: ProcessTreeOptions = {}) {
    const timings = treeTimings(options);
    super(options.claims);
    if (process.platform !== 'linux' && options.procRoot === undefined) throw new UnsupportedPlatformError('processTree');
    this.opts = { ...timings, procRoot: options.procRoot ?? '/proc', sandboxPolicy: options.sandboxPolicy, claims: options.claims };
  }

  /** One full pass now: discovery, sandbox check, every thread's tracer, code check. */
  async check(): Promise<TreeUpdate> {
    if (this.stopped) throw new GuardStateError('TreeMonitor.check() after stop()');
    this.lastFullDiscovery = 0; // a full pass re-reads every start time
    this.discover();
    this.refreshStatuses();
    this.scanThreads();
    const events = await this.codePass();
    return { open: this.openObservations(), events };
  }

  /**
   * Starts the three loops; `onUpdate` runs when the open set changed or events happened. Errors of
   * the checker go to `onError` and never stop a loop. Timers never keep the process alive unless `keepAlive`.
   */
  start(onUpdate: (u: TreeUpdate) => void, onError: (e: unknown) => void, keepAlive = false): void {
    const every = this.startTimers(onUpdate, onError, keepAlive);
    this.startSentinel();
    if (!this.sentinel) every(this.opts.pollMs / POLL_SLICES, () => this.poll());
    every(this.opts.discoveryMs, () => {
      if (!this.discoveryNeeded()) return;
      this.discover();
      this.planNew();
      this.emitIfChanged([]);
    });
    if (this.opts.codeMs > 0) {
      every(this.opts.codeMs, () => {
        if (this.sentinel) {
          this.planForSentinel();
          return;
        }
        this.scanThreads();
        void this.codePass().then(
          (events) => this.emitIfChanged(events),
          (e) => this.onError(e),
        );
      });
    }
  }

  stop(): void {
    this.stopTimers();
    this.sentinel?.close();
    this.sentinel = null;
    for (const t of this.tracked.values()) this.closeFd(t);
  }

  private closeFd(t: Tracked): void {
    if (t.statusFd === null) return;
    try {
      fs.closeSync(t.statusFd);
    } catch {
      // already closed
    }
    t.statusFd = null;
  }

  /**
   * A new process needs a new pid: when the kernel's last allocated pid (/proc/loadavg, in our pid
   * namespace, which also numbers the processes of nested namespaces) has not moved and no tracked
   * process exited, the tree cannot have changed and the walk is skipped. A full walk still runs every
   * 30 s (pid wrap-around, and settling of young processes).
   */
  private discoveryNeeded(): boolean {
    let last: string;
    try {
      const t = fs.readFileSync(`${this.opts.procRoot}/loadavg`, 'latin1');
      last = t.slice(t.lastIndexOf(' ') + 1).trim();
    } catch {
      return true;
    }
    const unsettled = [...this.tracked.values()].some((t) => t.baseSig === null);
    if (!this.dirty && !unsettled && last === this.lastPidSeen && Date.now() - this.lastFullDiscovery < 30_000) return false;
    this.lastPidSeen = last;
    return true;
  }

  /** Bytes covered and read by the last code pass (bench). */
  codeStats(): { bytes: number; readBytes: number; pagemapBytes: number; processes: number } {
    return { ...this.lastCodeStats };
  }

  /** The native fast loop's tick count and tick (the Guard's stall check), or null when it is not running. */
  sentinelHeartbeat(): { ticks: number; tickMs: number } | null {
    const s = this.sentinel?.stats();
    return s?.running && s.ticks !== undefined ? { ticks: s.ticks, tickMs: this.opts.sentinelMs } : null;
  }

  /** The native fast loop's counters (bench), or null when it is not running. */
  sentinelStats(): ReturnType<ChildSentinel['stats']> | null {
    return this.sentinel?.stats() ?? null;
  }

  /** Status.processes: the root first, then the descendants in discovery order. */
  processes(): ProcessEntry[] {
    const claims = this.claims();
    const open = this.openObservations();
    const count = (pid: number) => open.filter((o) => o.pid === pid).length;
    const out: ProcessEntry[] = [];
    if (this.root && ![...this.tracked.values()].some((t) => t.snap.pid === this.root!.pid)) {
      const f = sandboxFacts(this.root.status, this.root.ns, this.rootNs);
      out.push(this.entry(this.root, f, null, claims.get(this.root.pid), null, 0, true));
    }
    for (const t of this.tracked.values()) out.push(this.entry(t.snap, t.facts, t.required, claims.get(t.snap.pid), t.coverage, count(t.snap.pid), t.baseSig !== null));
    return out;
  }

  /** The observations open now. */
  openObservations(): Observation[] {
    const out: Observation[] = [];
    const claims = this.claims();
    for (const t of this.tracked.values()) out.push(...this.observe(t, claims.get(t.snap.pid)));
    if (this.untracked > 0) {
      out.push({
        key: 'tree:tree-limit-reached:processes',
        subsystem: 'kernel',
        kind: 'tree-limit-reached',
        detail: `${this.untracked} descendant process(es) are not watched: ${this.opts.maxProcesses} are tracked already (maxProcesses)`,
        evidence: { untracked: this.untracked, maxProcesses: this.opts.maxProcesses },
      });
    }
    if (this.codeStalled !== null) {
      out.push({
        key: 'tree:checker-stalled:code',
        subsystem: 'code',
        kind: 'checker-stalled',
        detail: `the process tree's code check could not read a child's mapped file: ${this.codeStalled}`,
      });
    }
    return out;
  }

  // --- loops ---------------------------------------------------------------------------------

  private readRoot(): void {
    const root = snapshotProcess(this.opts.rootPid, true, this.opts.procRoot);
    if (this.root && this.root.key !== root.key) {
      throw new ProcfsUnreadableError(`${this.opts.procRoot}/${this.opts.rootPid}`, new Error('the tree root exited and its pid was reused'));
    }
    this.root = root;
    this.rootNs = readNsLinks(this.opts.rootPid, this.opts.procRoot);
  }

  /** New and exited descendants. */
  private discover(): void {
    this.dirty = false;
    // Every 30 s (and on check()) a full walk also re-reads the root and every start time; between
    // them a known pid is trusted while its kept status fd reads (bound to that process).
    const full = this.root === null || Date.now() - this.lastFullDiscovery >= 30_000;
    if (full) {
      this.lastFullDiscovery = Date.now();
      this.readRoot();
    }
    const pids = listDescendants(this.opts.rootPid, this.opts.procRoot);
    // Another process's tree (a launcher, a test): the root itself is watched like a child (tracer,
    // sandbox change, code). Our own process is covered by the Guard's own monitors.
    if (this.opts.rootPid !== process.pid) pids.unshift(this.opts.rootPid);
    const live = new Set<string>();
    const byPid = new Map<number, Tracked>();
    for (const t of this.tracked.values()) byPid.set(t.snap.pid, t);
    this.untracked = 0;
    for (const pid of pids) {
      const known = byPid.get(pid);
      // One fd per tracked process: past the bound, new processes stay unwatched (and say so).
      if (!known && this.tracked.size >= this.opts.maxProcesses) {
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
        startTicks = parseStat(fs.readFileSync(`${this.opts.procRoot}/${pid}/stat`, 'latin1')).startTicks;
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
        snap = snapshotProcess(pid, pid === this.opts.rootPid, this.opts.procRoot);
      } catch (e) {
        if (e instanceof ProcfsUnreadableError) continue; // exited, or pid reused mid-read: next discovery
        throw e;
      }
      live.add(snap.key);
      const facts = sandboxFacts(snap.status, snap.ns, this.rootNs);
      let statusFd: number | null;
      try {
        statusFd = fs.openSync(`${this.opts.procRoot}/${pid}/status`, 'r');
      } catch {
        statusFd = null; // exited: dropped at the next discovery
      }
      if (known) {
        this.closeFd(known); // the pid was reused: the old process is gone
        this.tracked.delete(known.snap.key);
      }
      this.tracked.set(snap.key, {
        snap,
        facts,
        required: requirementFor(snap.kind, this.opts.sandboxPolicy),
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
      });
    }
    for (const [k, t] of [...this.tracked]) {
      if (live.has(k)) continue;
      this.closeFd(t);
      this.tracked.delete(k);
    }
    this.syncSentinel();
    this.settle();
  }

  private reclassify(t: Tracked): void {
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`${this.opts.procRoot}/${t.snap.pid}/cmdline`, 'latin1');
    } catch {
      return;
    }
    const kind = classifyCmdline(cmdline, t.snap.pid === this.opts.rootPid);
    if (kind.type === t.snap.kind.type && kind.serviceSandboxType === t.snap.kind.serviceSandboxType) return;
    t.snap = { ...t.snap, kind };
    t.required = requirementFor(kind, this.opts.sandboxPolicy);
  }

  /** Age of a process from its start time (clock ticks after boot) and /proc/uptime; Infinity when unknown. */
  private ageMs(t: Tracked): number {
    try {
      const up = Number(fs.readFileSync(`${this.opts.procRoot}/uptime`, 'latin1').split(' ')[0]);
      return (up - Number(t.snap.startTicks) / clockTicksPerSecond()) * 1000;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  }

  /** Marks processes old enough as settled: their sandbox signature becomes the baseline. */
  private settle(): void {
    let uptimeTicks: number;
    try {
      uptimeTicks = Number(fs.readFileSync(`${this.opts.procRoot}/uptime`, 'latin1').split(' ')[0]) * clockTicksPerSecond();
    } catch {
      uptimeTicks = Number.POSITIVE_INFINITY;
    }
    const settleTicks = (this.opts.settleMs / 1000) * clockTicksPerSecond();
    for (const t of this.tracked.values()) {
      if (t.baseSig !== null) continue;
      if (uptimeTicks - Number(t.snap.startTicks) < settleTicks) continue;
      this.reclassify(t);
      t.baseSig = sandboxSignature(t.facts);
      t.baseFacts = t.facts;
    }
  }

  /** The fast loop: one status read per process; full parse only when a security line changed. */
  private pollTick = 0;

  private poll(): void {
    this.pollTick = (this.pollTick + 1) % POLL_SLICES;
    if (this.refreshStatuses(this.pollTick)) {
      this.settle();
      this.emitIfChanged([]);
    }
  }

  /** Re-reads every known process's status; true when a security line changed. */
  private refreshStatuses(slice = -1): boolean {
    let changed = false;
    let i = 0;
    for (const t of this.tracked.values()) {
      if (slice >= 0 && i++ % POLL_SLICES !== slice) continue;
      if (this.refreshOne(t)) changed = true;
    }
    return changed;
  }

  /** Re-reads one process's status through its kept fd; true when a security line changed. */
  private refreshOne(t: Tracked): boolean {
    const p = `${this.opts.procRoot}/${t.snap.pid}/status`;
    let text: string;
    try {
      if (t.statusFd === null) throw new Error('no fd');
      const n = fs.readSync(t.statusFd, STATUS_BUF, 0, STATUS_BUF.length, 0);
      if (n <= 0) throw new Error('empty');
      text = STATUS_BUF.toString('latin1', 0, n);
    } catch {
      this.dirty = true; // exited (ESRCH on the kept fd): the next discovery drops it
      return false;
    }
    const q = quickLines(text);
    if (q === t.quick) return false;
    t.quick = q;
    const status = parseStatus(text, p);
    t.snap = { ...t.snap, status, ns: readNsLinks(t.snap.pid, this.opts.procRoot) };
    t.facts = sandboxFacts(status, t.snap.ns, this.rootNs);
    // A young process that finished entering its sandbox after it was judged (a loaded machine can
    // take longer than settleMs): the sandboxed state becomes its baseline, not a change.
    if (t.baseFacts && strengthened(t.baseFacts, t.facts) && this.ageMs(t) < 5 * this.opts.settleMs + 5000) {
      t.baseFacts = t.facts;
      t.baseSig = sandboxSignature(t.facts);
    }
    return true;
  }

  /** A tracer can PTRACE_SEIZE one thread, leaving the leader's TracerPid 0: read every thread (slow loop). */
  private scanThreads(): void {
    for (const t of this.tracked.values()) {
      t.threadTracer = null;
      let tids: string[];
      try {
        tids = fs.readdirSync(`${this.opts.procRoot}/${t.snap.pid}/task`);
      } catch {
        continue;
      }
      for (const tid of tids) {
        if (Number(tid) === t.snap.pid) continue;
        let text: string;
        let fd: number;
        try {
          fd = fs.openSync(`${this.opts.procRoot}/${t.snap.pid}/task/${tid}/status`, 'r');
        } catch {
          continue; // the thread exited meanwhile
        }
        try {
          // TracerPid is within the first lines: a short read into the shared buffer, no allocation.
          text = STATUS_BUF.toString('latin1', 0, fs.readSync(fd, STATUS_BUF, 0, 512, 0));
        } catch {
          continue;
        } finally {
          fs.closeSync(fd);
        }
        const m = /\nTracerPid:\t([0-9]+)/.exec(text);
        if (m && m[1] !== '0') {
          t.threadTracer = { tid: Number(tid), pid: Number(m[1]) };
          break;
        }
      }
      // Read by pid: only this process's if it is still the one of this start time now.
      if (!this.sameProcess(t)) {
        t.threadTracer = null;
        this.dirty = true;
      }
    }
  }

  /**
   * Whether the process at t's pid is still t's (same start time, /proc/<pid>/stat field 22). Reads by
   * pid done before a true answer were of this process: its pid cannot be reused while it lives.
   */
  private sameProcess(t: Tracked): boolean {
    try {
      return parseStat(fs.readFileSync(`${this.opts.procRoot}/${t.snap.pid}/stat`, 'latin1')).startTicks === t.snap.startTicks;
    } catch {
      return false;
    }
  }

  /** At most `max` bytes of a procfs file; null when it is longer (or unreadable: `undefined`). */
  private readBounded(file: string, max: number): string | null | undefined {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return undefined;
    }
    try {
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const buf = Buffer.allocUnsafe(Math.min(256 * 1024, max + 1 - total));
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) break;
        chunks.push(buf.subarray(0, n));
        total += n;
        if (total > max) return null;
      }
      return Buffer.concat(chunks, total).toString('utf8');
    } catch {
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
  }

  // --- native fast loop (sentinel.ts) ----------------------------------------------------------

  private startSentinel(): void {
    // It reads live processes: not on a captured procfs tree (tests), nor when turned off.
    if (this.opts.sentinelMs === 0 || this.opts.procRoot !== '/proc') return;
    this.sentinel = ChildSentinel.create(this.binding(), { tickMs: this.opts.sentinelMs, threadMs: this.opts.threadMs, budget: this.opts.sentinelBudget }, (events) => {
      if (this.stopped) return;
      try {
        this.onSentinel(events);
      } catch (e) {
        this.onError(e);
      }
    });
    this.syncSentinel();
    this.planNew();
  }

  /** The native set of watched processes follows the tracked one (pid + start time). */
  private syncSentinel(): void {
    const s = this.sentinel;
    if (!s) return;
    for (const [key, t] of this.tracked) {
      if (s.has(key)) continue;
      if (!s.add(key, t.snap.pid, t.snap.startTicks)) this.dirty = true; // exited: next discovery
      else this.refreshOne(t); // the baseline of the security lines (the JS poll is off)
    }
    for (const key of s.keys()) if (!this.tracked.has(key)) s.remove(key);
  }

  /** Children the sentinel watches without code regions yet (new ones): plan them now. */
  private planNew(): void {
    if (!this.sentinel || this.opts.codeMs === 0) return;
    for (const t of this.tracked.values()) if (t.plan === null) this.planFor(t);
  }

  /** The code pass with the sentinel: re-plan the children whose size changed (planFor hands the regions over). */
  private planForSentinel(): void {
    for (const t of this.tracked.values()) this.planFor(t);
  }

  private onSentinel(events: SentinelEvent[]): void {
    const out: Observation[] = [];
    let changed = false;
    for (const e of events) {
      const t = this.tracked.get(e.key);
      if (!t) continue;
      if (e.kind === 'exited') {
        this.closeFd(t); // the next discovery re-reads the start time of that pid, then drops it
        this.dirty = true;
      } else if (e.kind === 'threads') {
        t.threadTracer = e.tracer;
        if (e.leaderChanged && this.refreshOne(t)) this.settle();
        changed = true;
      } else if (t.plan) {
        this.applyCode(t, t.plan, e.result, out);
        changed = true;
      }
    }
    if (changed || out.length > 0) this.emitIfChanged(out);
  }

  /** One native job for every child's written code pages; returns one-shot events (code-restored). */
  private binding(): NativeBinding | null {
    if (this.native === undefined) {
      try {
        this.native = loadNative();
      } catch {
        this.native = null;
      }
    }
    return this.native;
  }

  protected async runCode(): Promise<Observation[]> {
    const native = this.binding();
    // The code check reads live memory: it has no meaning on a captured procfs tree (tests).
    if (!native?.treeCodeScan || this.opts.codeMs === 0 || this.opts.procRoot !== '/proc') return [];
    const plans: { t: Tracked; plan: ReturnType<typeof planChildCode> }[] = [];
    for (const t of this.tracked.values()) {
      const plan = this.planFor(t);
      if (plan) plans.push({ t, plan });
    }
    const results = await native.treeCodeScan(plans.map((p) => p.plan.job));
    this.codeStalled = results.find((r) => r.fileStalled !== undefined)?.fileStalled ?? null;
    const events: Observation[] = [];
    const stats = { bytes: 0, readBytes: 0, pagemapBytes: 0, processes: 0 };
    results.forEach((res, i) => {
      const { t, plan } = plans[i];
      if (!this.applyCode(t, plan, res, events)) return;
      stats.bytes += plan.bytes;
      stats.readBytes += res.readBytes;
      stats.pagemapBytes += res.pagemapBytes;
      stats.processes++;
    });
    this.lastCodeStats = stats;
    return events;
  }

  /**
   * The child's code plan: the maps text (hundreds of lines the kernel formats) is re-read only when
   * the memory size (statm, one short line) changed or a minute passed; a write into a mapped page
   * changes neither, and the scan of the known ranges finds it. Null when the process exited.
   */
  private planFor(t: Tracked): ReturnType<typeof planChildCode> | null {
    let statm: string;
    try {
      statm = fs.readFileSync(`/proc/${t.snap.pid}/statm`, 'latin1').split(' ', 1)[0];
    } catch {
      return null; // exited
    }
    if (t.plan !== null && statm === t.statm && Date.now() - t.mapsAt < 60_000) return this.toSentinel(t, t.plan);
    const text = this.readBounded(`/proc/${t.snap.pid}/maps`, this.opts.maxMapsBytes);
    if (text === undefined) return null; // exited
    // statm and maps were read by pid: they are this process's only if it still lives now.
    if (!this.sameProcess(t)) {
      this.dirty = true;
      return null;
    }
    if (text === null) {
      t.limited = `its memory map is larger than ${this.opts.maxMapsBytes} bytes (maxMapsBytes): its code is not checked`;
      t.plan = null;
      t.code = new Map();
      t.unreadable = [];
      return null;
    }
    t.statm = statm;
    t.mapsAt = Date.now();
    // Only the executable mappings matter, and the heap's churn changes the rest of the text every
    // pass: keep those lines ("start-end perms": the third perms character is 'x') and re-plan only
    // when they changed. (Anonymous exec memory is then classified without its neighbours: that
    // only moves it between the 'jit' and 'anonymous-exec' counts, it is never compared.)
    const exec = execLines(text);
    if (exec !== t.mapsText || t.plan === null) {
      t.plan = planChildCode(t.snap.pid, parseMaps(exec, `/proc/${t.snap.pid}/maps`), t.snap.exe, t.snap.startTicks);
      t.mapsText = exec;
    }
    return this.toSentinel(t, t.plan);
  }

  /** The native sentinel walks the regions of the plan the reports are applied with. */
  private toSentinel(t: Tracked, plan: ReturnType<typeof planChildCode>): ReturnType<typeof planChildCode> {
    this.sentinel?.setRegions(t.snap.key, plan.job.regions);
    return plan;
  }

  /**
   * One child's code result (a pass's or the native sentinel's): its open code-modified set, and a
   * code-restored event for each one that closed. False when the result does not count (exited, error).
   */
  private applyCode(t: Tracked, plan: ReturnType<typeof planChildCode>, res: NativeTreeResult, events: Observation[]): boolean {
    if (!this.tracked.has(t.snap.key)) return false; // exited during the pass
    if (!res.ok) {
      if (res.errno === 3 /* ESRCH */ || res.errno === 2 /* ENOENT */) return false; // exited during the pass
      this.onError(new ProcfsUnreadableError(`${this.opts.procRoot}/${res.pid}/pagemap`, new Error(res.detail ?? 'unreadable')));
      return false;
    }
    const type = t.snap.kind.type;
    const now = new Map(codeObservations(plan, res, t.snap.key, type).map((o) => [o.key, o]));
    const equal = new Set(res.hits.filter((h) => h.state === 'equal').map((h) => `${plan.meta[h.region]?.fileKey}:${h.fileOffset}`));
    for (const [k, o] of t.code) {
      if (now.has(k)) continue;
      const ev = o.evidence as { fileKey?: string } | undefined;
      const still = equal.has(`${ev?.fileKey}:${(o.page ?? 0) * 4096}`);
      events.push({
        ...o,
        key: k.replace('tree:code-modified:', 'tree:code-restored:'),
        kind: 'code-restored',
        detail: `${type} pid ${t.snap.pid}: ${o.path} page ${o.page} ${still ? 'equals the file again' : 'is no longer a written page (unmapped or replaced)'} (was: ${o.detail})`,
      });
    }
    t.code = now;
    t.unreadable = unreadableObservations(plan, res, t.snap.key, type);
    const limits: string[] = [];
    if (plan.omittedRegions > 0) limits.push(`${plan.omittedRegions} code mapping(s) past the bounds of one check (65536 mappings, 64 GiB) are not checked`);
    if (res.writtenPages > res.hits.length) limits.push(`${res.writtenPages} written code pages; the first ${res.hits.length} were compared`);
    t.limited = limits.length > 0 ? limits.join('; ') : null;
    t.coverage = {
      regions: plan.job.regions.length,
      bytes: plan.bytes,
      writtenPages: res.hits.length,
      readBytes: res.readBytes,
      pagemapBytes: res.pagemapBytes,
      jitRegions: plan.jitRegions,
    };
    return true;
  }

  // --- observations ---------------------------------------------------------------------------

  private label(snap: ChildSnapshot, claim: ProcessClaim | undefined): string {
    if (claim?.title || claim?.url) return `${claim.title ? `'${claim.title}'` : ''}${claim.title && claim.url ? ' ' : ''}${claim.url ? `(${claim.url})` : ''}`;
    const k = snap.kind;
    return k.utilitySubType ? `${k.type} ${k.utilitySubType}` : k.type === 'other' && k.rawType ? `other (${k.rawType})` : k.type;
  }

  private observe(t: Tracked, claim: ProcessClaim | undefined): Observation[] {
    const out: Observation[] = [];
    const { snap, facts } = t;
    const type = snap.kind.type;
    const who = `${type} pid ${snap.pid}${claim?.title || claim?.url ? ` ${this.label(snap, claim)}` : ''}`;
    const base = { pid: snap.pid, processType: type, subsystem: 'kernel' as const };
    const tracer = facts.tracerPid !== 0 ? { tid: snap.pid, pid: facts.tracerPid } : t.threadTracer;
    if (tracer) {
      let comm: string | null;
      try {
        comm = fs.readFileSync(`${this.opts.procRoot}/${tracer.pid}/comm`, 'latin1').replace(/\n$/, '');
      } catch {
        comm = null;
      }
      out.push({
        ...base,
        key: `tree:child-tracer-attached:${snap.key}`,
        kind: 'child-tracer-attached',
        detail: `${who}: traced by pid ${tracer.pid}${comm ? ` (${comm})` : ''}${tracer.tid !== snap.pid ? ` on thread ${tracer.tid}` : ''}`,
        evidence: { tracerPid: tracer.pid, tracerComm: comm, tid: tracer.tid },
      });
    }
    if (t.baseSig !== null && t.required) {
      const failed = sandboxFailures(facts, t.required);
      if (failed.length > 0) {
        out.push({
          ...base,
          key: `tree:child-unsandboxed:${snap.key}`,
          kind: 'child-unsandboxed',
          detail: `${who} is not sandboxed: ${failed.map((f) => `${f.property} (${f.detail})`).join(', ')}`,
          evidence: { failed: failed.map((f) => f.property), noSandboxFlag: snap.kind.noSandboxFlag },
          after: facts,
        });
      }
    }
    if (t.baseSig !== null && t.baseFacts && sandboxSignature(facts) !== t.baseSig) {
      const b = t.baseFacts;
      const changes = (Object.keys(facts) as (keyof SandboxFacts)[]).filter((k) => k !== 'tracerPid' && facts[k] !== b[k]);
      out.push({
        ...base,
        key: `tree:child-sandbox-changed:${snap.key}`,
        kind: 'child-sandbox-changed',
        detail: `${who}: sandbox changed: ${changes.map((k) => `${k} ${String(b[k])} -> ${String(facts[k])}`).join(', ')}`,
        before: b,
        after: facts,
      });
    }
    if (claim && t.baseSig !== null) {
      const differ: string[] = [];
      if (claim.sandboxed !== undefined && claim.sandboxed !== isSandboxed(facts)) {
        const failed = sandboxFailures(facts, STRICT).map((f) => f.property);
        differ.push(`Electron says ${claim.sandboxed ? 'sandboxed' : 'not sandboxed'}, the kernel shows ${failed.length === 0 ? 'sandboxed' : `not sandboxed (${failed.join(', ')})`}`);
      }
      if (claim.type !== undefined && claim.type !== type && !(claim.type === 'other' || type === 'other')) {
        differ.push(`Electron says ${claim.type}, its command line says ${type}`);
      }
      if (differ.length > 0) {
        out.push({
          ...base,
          subsystem: 'electron',
          key: `tree:child-claim-mismatch:${snap.key}`,
          kind: 'child-claim-mismatch',
          detail: `${who}: ${differ.join('; ')}`,
          before: claim,
          after: { type, sandboxed: isSandboxed(facts), sandbox: facts },
        });
      }
    }
    if (t.limited !== null) {
      out.push({ ...base, key: `tree:tree-limit-reached:${snap.key}`, kind: 'tree-limit-reached', detail: `${who}: ${t.limited}` });
    }
    out.push(...t.code.values(), ...t.unreadable);
    return out;
  }

  private entry(
    snap: ChildSnapshot,
    facts: SandboxFacts,
    required: SandboxRequirement | null,
    claim: ProcessClaim | undefined,
    coverage: ProcessEntry['coverage'],
    findings: number,
    settled: boolean,
  ): ProcessEntry {
    const e: ProcessEntry = {
      pid: snap.pid,
      ppid: snap.ppid,
      type: snap.kind.type,
      label: this.label(snap, claim),
      exe: snap.exe,
      startTicks: snap.startTicks,
      sandboxed: isSandboxed(facts),
      sandboxRequired: required !== null && Object.values(required).some(Boolean),
      settled,
      sandbox: facts,
      coverage,
      findings,
    };
    if (snap.kind.utilitySubType !== undefined) e.utilitySubType = snap.kind.utilitySubType;
    if (snap.kind.serviceSandboxType !== undefined) e.serviceSandboxType = snap.kind.serviceSandboxType;
    if (claim) e.claim = { ...claim };
    return e;
  }
}
