/**
 * The process tree monitor (Linux): discovers the descendants of a root pid, checks each one's sandbox
 * from the kernel's view against a per-type policy, watches their tracer and sandbox state fast, and
 * checks their code (written pages only, see code.ts). The Guard constructs, starts and stops it, and
 * reconciles its observations through the callback of start() (as with the KernelMonitor).
 *
 * This class is the coordinator: it owns the tracked-process table (tracked.ts) and the lifecycle
 * (start / stop / check, the timers of loops.ts), and wires the loops, each in its own file and on its
 * own timer so a slow one never delays a fast one:
 *  - discovery.ts: new and exited processes, settling (2 s, skipped when no pid was allocated since);
 *  - poll.ts: each process's status through a kept fd (without the native fast loop: every ~167 ms a
 *    third of the processes), and the scan of every thread's tracer (with the code pass);
 *  - code-pass.ts: the children's written code pages (10 s, one native background job);
 *  - sentinel-loop.ts: the native fast loop (sentinel.ts, on the shared ticker with the main's watch
 *    loop; each child's statm and a slice of its threads' status every 100 ms, its written code pages
 *    walked when its counters moved). With it the JS poll is off and the code pass only plans the
 *    regions it walks; check() still runs the full code pass and thread scan.
 * observe.ts says what each tracked process's state means (observations, Status entries).
 */
import * as fs from 'node:fs';
import { GuardStateError, UnsupportedPlatformError } from '../errors';
import { loadNative, type NativeBinding } from '../native';
import type { Observation, ProcessEntry } from '../types';
import { CodePass, type CodeStats } from './code-pass';
import { Discovery } from './discovery';
import { treeTimings, TreeLoopBase } from './loops';
import { childObservations, processEntry } from './observe';
import type { TreeSandboxPolicy } from './policy';
import { POLL_SLICES, StatusPoll } from './poll';
import type { ChildSentinel } from './sentinel';
import { SentinelLoop } from './sentinel-loop';
import { sandboxFacts } from './snapshot';
import { closeStatusFd, type Tracked, type TreeContext, type TreeOpts } from './tracked';

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

export class TreeMonitor extends TreeLoopBase {
  private readonly opts: TreeOpts;
  private readonly tracked = new Map<string, Tracked>();
  private native: NativeBinding | null | undefined = undefined;
  private readonly discovery: Discovery;
  private readonly poll: StatusPoll;
  private readonly code: CodePass;
  private fast: SentinelLoop | null = null;
  private readonly ctx: TreeContext;

  constructor(options: ProcessTreeOptions = {}) {
    const timings = treeTimings(options);
    super(options.claims);
    if (process.platform !== 'linux' && options.procRoot === undefined) throw new UnsupportedPlatformError('processTree');
    this.opts = { ...timings, procRoot: options.procRoot ?? '/proc', sandboxPolicy: options.sandboxPolicy };
    const ctx: TreeContext = (this.ctx = {
      opts: this.opts,
      tracked: this.tracked,
      rootNs: () => this.discovery.rootNs,
      markDirty: () => this.discovery.markDirty(),
      onError: (e) => this.onError(e),
      binding: () => this.binding(),
    });
    this.discovery = new Discovery(ctx, () => this.fast?.sync());
    this.poll = new StatusPoll(ctx);
    this.code = new CodePass(ctx, (key, regions) => this.fast?.setRegions(key, regions));
  }

  /** One full pass now: discovery, sandbox check, every thread's tracer, code check. */
  async check(): Promise<TreeUpdate> {
    if (this.stopped) throw new GuardStateError('TreeMonitor.check() after stop()');
    this.discovery.forceFull(); // a full pass re-reads every start time
    this.discovery.discover();
    this.poll.refreshStatuses();
    this.poll.scanThreads();
    const events = await this.codePass();
    return { open: this.openObservations(), events };
  }

  /**
   * Starts the loops; `onUpdate` runs when the open set changed or events happened. Errors of the
   * checker go to `onError` and never stop a loop. Timers never keep the process alive unless `keepAlive`.
   */
  start(onUpdate: (u: TreeUpdate) => void, onError: (e: unknown) => void, keepAlive = false): void {
    const every = this.startTimers(onUpdate, onError, keepAlive);
    this.fast = SentinelLoop.start(this.ctx, {
      refreshStatus: (t) => this.poll.refreshOne(t),
      settle: () => this.discovery.settle(),
      applyCode: (t, plan, res, events) => this.code.applyCode(t, plan, res, events),
      emit: (events) => this.emitIfChanged(events),
      stopped: () => this.stopped,
    });
    this.planNew();
    if (!this.fast) {
      every(this.opts.pollMs / POLL_SLICES, () => {
        if (!this.poll.tick()) return;
        this.discovery.settle();
        this.emitIfChanged([]);
      });
    }
    every(this.opts.discoveryMs, () => {
      if (!this.discovery.needed()) return;
      this.discovery.discover();
      this.planNew();
      this.emitIfChanged([]);
    });
    if (this.opts.codeMs > 0) {
      every(this.opts.codeMs, () => {
        if (this.fast) {
          this.code.planAll();
          return;
        }
        this.poll.scanThreads();
        void this.codePass().then(
          (events) => this.emitIfChanged(events),
          (e) => this.onError(e),
        );
      });
    }
  }

  stop(): void {
    this.stopTimers();
    this.fast?.close();
    this.fast = null;
    for (const t of this.tracked.values()) closeStatusFd(t);
  }

  /** Bytes covered and read by the last code pass (bench). */
  codeStats(): CodeStats {
    return this.code.stats();
  }

  /** The native fast loop's tick count and tick (the Guard's stall check), or null when it is not running. */
  sentinelHeartbeat(): { ticks: number; tickMs: number } | null {
    const s = this.fast?.stats();
    return s?.running && s.ticks !== undefined ? { ticks: s.ticks, tickMs: this.opts.sentinelMs } : null;
  }

  /** The native fast loop's counters (bench), or null when it is not running. */
  sentinelStats(): ReturnType<ChildSentinel['stats']> | null {
    return this.fast?.stats() ?? null;
  }

  /** Status.processes: the root first, then the descendants in discovery order. */
  processes(): ProcessEntry[] {
    const claims = this.claims();
    const open = this.openObservations();
    const count = (pid: number) => open.filter((o) => o.pid === pid).length;
    const out: ProcessEntry[] = [];
    const root = this.discovery.root;
    if (root && ![...this.tracked.values()].some((t) => t.snap.pid === root.pid)) {
      const f = sandboxFacts(root.status, root.ns, this.discovery.rootNs);
      out.push(processEntry(root, f, null, claims.get(root.pid), null, 0, true));
    }
    for (const t of this.tracked.values()) out.push(processEntry(t.snap, t.facts, t.required, claims.get(t.snap.pid), t.coverage, count(t.snap.pid), t.baseSig !== null));
    return out;
  }

  /** The observations open now. */
  openObservations(): Observation[] {
    const out: Observation[] = [];
    const claims = this.claims();
    const tracerComm = (pid: number): string | null => {
      try {
        return fs.readFileSync(`${this.opts.procRoot}/${pid}/comm`, 'latin1').replace(/\n$/, '');
      } catch {
        return null;
      }
    };
    for (const t of this.tracked.values()) out.push(...childObservations(t, claims.get(t.snap.pid), tracerComm));
    const untracked = this.discovery.untracked;
    if (untracked > 0) {
      out.push({
        key: 'tree:tree-limit-reached:processes',
        subsystem: 'tree',
        kind: 'tree-limit-reached',
        detail: `${untracked} descendant process(es) are not watched: ${this.opts.maxProcesses} are tracked already (maxProcesses)`,
        evidence: { untracked, maxProcesses: this.opts.maxProcesses },
      });
    }
    if (this.code.stalled !== null) {
      out.push({
        key: 'tree:checker-stalled:code',
        subsystem: 'code',
        kind: 'checker-stalled',
        detail: `the process tree's code check could not read a child's mapped file: ${this.code.stalled}`,
      });
    }
    return out;
  }

  protected runCode(): Promise<Observation[]> {
    return this.code.run();
  }

  /** With the native fast loop, children without code regions yet (new ones) are planned at once. */
  private planNew(): void {
    if (this.fast && this.opts.codeMs > 0) this.code.planNew();
  }

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
}
