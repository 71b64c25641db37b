/**
 * Guard: owns the code monitor, the kernel isolation monitor and the launch audit, turns their
 * observations into findings with a severity (by the policy), and keeps one versioned Status.
 * Events: 'finding' (each new finding, including one-shot events such as code-restored),
 * 'status' (each new snapshot), 'error' is never emitted (checker failures go into the Status
 * and the heartbeat), so an app that forgets a listener cannot be crashed by the guard.
 */
import { EventEmitter } from 'node:events';
import type { Finding, HardenReport, LoopsStatus, Observation, OverallState, PortalCheck, SentinelInfo, Severity, Status, Subsystem } from './types';
import { checkPortals, withPortalCheck, type CheckPortalsOptions } from './portals/check';
import { CodeMonitor, type CodeMonitorOptions, type CodeCheckResult } from './integrity/monitor';
import { KernelMonitor, type KernelMonitorOptions } from './kernel/monitor';
import { auditLaunch, type LaunchAuditOptions } from './launch/audit';
import { classifyAll, defaultPolicy, overallSeverity, runAction, severityRank, type Policy, type PolicyActions } from './policy';
import type { NativeWatcher } from './native';
import { startFastLoop, fastLoopState, type FastLoopState } from './kernel/fast-loop';
import { CodeFileWatch, type CodeFilesStatus } from './watch/code-files';
import { ownThreads, ThrottleWatch } from './health/threads';
import { stallVerdict } from './health/stall';
import { createFindingLogger, type FindingLogger, type LoggerLike } from './logging';
import { GuardStateError, ProcguardError } from './errors';
import { TreeMonitor, type ProcessTreeOptions } from './tree/monitor';
import { DebuggerWatch } from './kernel/debugger-watch';
import { aggregatePages } from './integrity/aggregate';
import type { DebuggerWatchOptions } from './kernel/debuggers';
import { ManifestRuntime, type ManifestGuardOptions } from './manifest/runtime';
import { WindowsTreeMonitor } from './tree/windows';

export interface GuardOptions extends CodeMonitorOptions {
  /** Period of the full sweep in ms. Default 10 000. */
  periodMs?: number;
  /** Tick of the tamper sentinel in ms (a native loop that wakes JS only on a change). Default 200, the
   *  kernel watch loop's tick: both run on one native ticker thread, and equal ticks share every
   *  wakeup (on a VM the wakeup costs more than the tick's work). 0 turns it off. */
  sentinelMs?: number;
  /** Share of one core the periodic sweeps may use. Default 0.001 (0.1 %; a 282 MiB pass takes
   *  ~60-80 s, the first paced one ~3 min on a VM with shadow paging while it maps the file views):
   *  with large code the sweep is paced by this, so a pass can take longer than `periodMs`.
   *  The fast loops (tracer, page-cache writes, copy-on-write tamper) do not wait for it. */
  cpuBudget?: number;
  /** Share of one core the tamper sentinel's page-table walks may use. Default 0.001 (0.1 %). A tick
   *  walks only when the file-backed page count changed (or every 2 s), paid from a token bucket
   *  that fills at this rate and holds four walks. */
  sentinelBudget?: number;
  /** Turn subsystems off. All default to true. */
  code?: boolean;
  kernel?: boolean | KernelMonitorOptions;
  launch?: boolean | LaunchAuditOptions;
  /** Finding -> severity. Default: fdir's ladder (see policy.ts). */
  policy?: Policy;
  /** What to do at each severity (default: nothing, log-and-advise). Errors in actions are contained. */
  actions?: PolicyActions;
  /** Any logger with error/warn/info methods (console, electron-log); one line per finding. */
  logger?: LoggerLike;
  /** A sweep without progress for this long is a stalled checker. Default: follows the expected pace
   *  (the last pass's CPU cost / cpuBudget, or the period between passes), capped by stallCapMs. */
  stallAfterMs?: number;
  /** Absolute cap on time without sweep progress before checker-stalled. Default 60 000. */
  stallCapMs?: number;
  /** Tick of the native kernel watch loop (Linux; every thread's TracerPid and the other isolation
   *  fields; wakes JS only on a change). Default 200 (a tracer is seen within ~200 ms plus the JS check); 0 turns the loop off (kernel checks then run
   *  every periodMs only). */
  kernelTickMs?: number;
  /** Watch the files behind executable mappings with inotify and re-check a file's pages at once
   *  on a write. Default true (Linux). */
  watchFiles?: boolean;
  /** Pristine copies of code files this process's user can write, to locate a page-cache write to
   *  the byte, up to this many bytes in all. Default 32 MiB; 0 keeps none (the page is still reported). */
  pristineBytes?: number;
  /** Keep the process alive while started (CLI watch). Default false: timers are unref'd. */
  keepAlive?: boolean;
  /** Watch the descendants of this process (true) or of `rootPid` (Linux): see src/tree/monitor.ts. Default off. */
  processTree?: boolean | ProcessTreeOptions;
  /** Debuggers switched on after start: the Node inspector (checked every 500 ms), DevTools listeners of
   *  this process and the watched tree (Linux, every 1000 ms); `allow` names the ones the app runs on
   *  purpose (see src/kernel/debuggers.ts). Default on; false turns it off. */
  debuggers?: boolean | DebuggerWatchOptions;
  /** The vendor's signed manifest (docs/manifest.md): every app file checked against it, and the
   *  app's own code mappings compared with its page digests. Default off. */
  manifest?: ManifestGuardOptions;
}

type CheckerError = Status['checkerErrors'][number];

/** While the watch loop runs, one periodic kernel check in this many is full (the others light). */
const FULL_EVERY = 6;

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- typed event overloads only; no members
export declare interface Guard {
  on(event: 'finding', listener: (f: Finding) => void): this;
  on(event: 'status', listener: (s: Status) => void): this;
  off(event: 'finding', listener: (f: Finding) => void): this;
  off(event: 'status', listener: (s: Status) => void): this;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class Guard extends EventEmitter {
  private readonly opts: GuardOptions;
  private readonly policy: Policy;
  private readonly log: FindingLogger | null;
  private code: CodeMonitor | null = null;
  private kernel: KernelMonitor | null = null;
  private readonly open = new Map<string, Finding>();
  private openCode: Observation[] = [];
  private openKernel: Observation[] = [];
  private openLaunch: Observation[] = [];
  private tree: TreeMonitor | WindowsTreeMonitor | null = null;
  private manifest: ManifestRuntime | null = null;
  private openTree: Observation[] = [];
  private debuggers: DebuggerWatch | null = null;
  private openDebug: Observation[] = [];
  private readonly extra = new Map<string, Observation>();
  private readonly errors: CheckerError[] = [];
  private hardening: HardenReport | null = null;
  private sequence = 0;
  private nextId = 1;
  private lastPass: { at: number; mono: number; durationMs: number } | null = null;
  private coverage: Status['coverage'] = { regions: 0, bytes: 0, hashedBytes: 0, residentBytes: 0 };
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<Status> | null = null;
  private lastPassCpuMs: number | null = null;
  private codeBaselined = false;
  private watcher: NativeWatcher | null = null;
  private watcherReason = 'not started';
  private watcherTickMs = 0;
  private files: CodeFileWatch | null = null;
  private filesQueue = new Set<string>();
  private filesRunning = false;
  private readonly throttle = new ThrottleWatch();
  private openHealth: Observation[] = [];
  private loopStalls: Observation[] = [];
  private kernelRunning: Promise<void> | null = null;
  private kernelAgain: false | 'full' | 'light' = false;
  private lightChecks = 0;
  private lastKernelAt: number | null = null;
  private lastLaunchAt: number | null = null;
  /** When the heartbeat first saw the sentinel running (performance.now(); -1: not yet), and the
   *  wall time of its last tick as last seen (display only). */
  private readonly sentinelRuns = { firstSeen: -1, at: 0 };
  private started = false;
  /** When start() ran (performance.now()): the stall clock's origin until a pass makes progress.
   *  Every health age is monotonic (native ages on CLOCK_MONOTONIC, JS on performance.now()): a
   *  wall-clock step or a suspend is not a stalled checker. */
  private startedAt = 0;
  private stopped = false;
  private stalled = false;
  private current: Status;
  private sentinelInfo: SentinelInfo = { kind: 'none', verified: false, reason: 'the code monitor is not prepared' };

  constructor(options: GuardOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') throw new TypeError('Guard options must be an object');
    const period = options.periodMs ?? 10_000;
    if (!Number.isFinite(period) || period < 50) throw new RangeError('periodMs must be a number >= 50');
    const sentinel = options.sentinelMs ?? 200;
    if (!Number.isFinite(sentinel) || (sentinel !== 0 && sentinel < 10)) throw new RangeError('sentinelMs must be 0 (off) or a number >= 10');
    const budget = options.cpuBudget ?? 0.001;
    if (!(budget > 0 && budget <= 1)) throw new RangeError('cpuBudget must be a number in (0, 1]');
    const sentinelBudget = options.sentinelBudget ?? 0.001;
    if (!(sentinelBudget > 0 && sentinelBudget <= 1)) throw new RangeError('sentinelBudget must be a number in (0, 1]');
    const kernelTick = options.kernelTickMs ?? 200;
    if (!Number.isFinite(kernelTick) || (kernelTick !== 0 && kernelTick < 10)) throw new RangeError('kernelTickMs must be 0 (off) or a number >= 10');
    const cap = options.stallCapMs ?? 60_000;
    if (!Number.isFinite(cap) || cap < 100) throw new RangeError('stallCapMs must be a number >= 100');
    const pristine = options.pristineBytes ?? 32 * 1024 * 1024;
    if (!Number.isFinite(pristine) || pristine < 0) throw new RangeError('pristineBytes must be a number >= 0');
    this.opts = { ...options, periodMs: period, sentinelMs: sentinel, cpuBudget: budget, sentinelBudget, kernelTickMs: kernelTick, stallCapMs: cap, pristineBytes: pristine };
    if (options.debuggers !== false) this.debuggers = new DebuggerWatch(debuggerOptions(options), this.debuggerHooks());
    this.policy = options.policy ?? defaultPolicy();
    if (typeof this.policy?.classify !== 'function') throw new TypeError('policy must have a classify(observation, context) function');
    this.log = options.logger ? createFindingLogger(options.logger) : null;
    // A bad public key throws here (ManifestKeyError), before anything starts.
    this.manifest = options.manifest
      ? new ManifestRuntime(options.manifest, {
          publish: (observations) => {
            if (!this.stopped) this.report(observations, 'manifest');
          },
          error: (e) => this.recordError('code', e),
          code: () => (this.codeBaselined ? this.code : null),
          openCode: () => this.openCode,
          periodMs: period,
        })
      : null;
    this.current = this.buildStatus();
  }

  /**
   * Opens what hardening would lock away (the pagemap for the tamper sentinel). start() calls it;
   * call it yourself before harden() if you harden before starting the guard.
   */
  prepare(): void {
    if (this.opts.code === false || this.code) return;
    this.code = new CodeMonitor(this.opts);
    this.sentinelInfo = sentinelInfo(process.platform, this.code.prepare(), this.opts.sentinelMs!);
  }

  /** Records the hardening report so the Status shows it. */
  setHardening(report: HardenReport): void {
    this.hardening = report;
    this.publish();
  }

  /**
   * Linux desktops: asks xdg-desktop-portal on a new D-Bus connection whether it still accepts this
   * process (checkPortals()) and records the answer in Status.hardening.portals.check (with a
   * warning when new connections are refused). Call it after setHardening(); never rejects.
   */
  async checkPortals(options?: CheckPortalsOptions): Promise<PortalCheck> {
    const check = await checkPortals(options);
    if (this.hardening !== null && !this.stopped) {
      this.hardening = withPortalCheck(this.hardening, check);
      this.publish();
    }
    return check;
  }

  /**
   * Takes the baselines and starts every loop, each on its own cadence: the code sweep (periodMs,
   * paced by cpuBudget), the kernel checks (the native watch loop's tick, plus every periodMs), the
   * launch audit (every periodMs), file events (at once), the tamper sentinel (sentinelMs) and
   * checker health. A slow sweep never delays the others. Resolves with the first Status.
   */
  async start(): Promise<Status> {
    if (this.stopped) throw new GuardStateError('a stopped Guard cannot be restarted; create a new one');
    if (this.started) return this.current;
    this.started = true;
    this.startedAt = performance.now();
    this.prepare();
    const unref = (t: NodeJS.Timeout) => {
      if (!this.opts.keepAlive) t.unref();
      this.timers.push(t);
    };
    if (this.opts.kernel !== false) this.kernel = new KernelMonitor(typeof this.opts.kernel === 'object' ? this.opts.kernel : {});
    const wantFiles = this.code !== null && this.opts.watchFiles !== false;
    if ((this.kernel || wantFiles) && this.opts.kernelTickMs) {
      // One native loop serves both: the kernel signature every tick, file events at once.
      this.watcherTickMs = this.kernel ? this.opts.kernelTickMs : 60_000;
      const { loop, reason } = startFastLoop(this.watcherTickMs, {
        onKernel: () => this.kernelSoon(true),
        onFiles: (events) => this.onFileEvents(events),
        onError: (msg) => this.recordError('kernel', new Error(`watch loop: ${msg}`)),
      });
      this.watcher = loop;
      this.watcherReason = reason;
    } else {
      this.watcherReason = this.opts.kernelTickMs ? 'off: kernel checks disabled' : 'off by option (kernelTickMs: 0)';
    }
    if (wantFiles) this.files = new CodeFileWatch(this.watcher, this.watcherReason, this.opts.pristineBytes!);
    this.launchCheck();
    await this.kernelCheck();
    if (this.opts.processTree) {
      try {
        const treeOpts = typeof this.opts.processTree === 'object' ? this.opts.processTree : {};
        this.tree = process.platform === 'win32' ? new WindowsTreeMonitor(treeOpts) : new TreeMonitor(treeOpts);
      } catch (e) {
        this.recordError('kernel', e); // UnsupportedPlatformError off Linux: a checker error in the Status, not a crash
      }
      await this.treePass();
      this.tree?.start((u) => this.treeUpdate(u), (e) => this.recordError('kernel', e), this.opts.keepAlive);
    }
    await this.debuggers?.start(this.opts.keepAlive === true);
    // The manifest is verified on its own native thread while the first code pass runs.
    const manifestReady = this.startManifest();
    const passed = await this.runPass(true);
    await manifestReady;
    const status = this.manifest ? this.publish() : passed;
    unref(setInterval(() => void this.runPass(false).catch(() => undefined), this.opts.periodMs));
    // Fields outside the native signature, and every OS without the loop: checked every period too.
    unref(
      setInterval(() => {
        this.kernelSoon(false);
        this.launchCheck();
      }, this.opts.periodMs),
    );
    if (this.code && this.opts.sentinelMs && this.sentinelInfo.kind !== 'none') {
      const running = this.code.startSentinel(this.opts.sentinelMs, this.opts.sentinelBudget!, (r) => {
        if (this.stopped) return;
        this.guarded('code', () => {
          this.openCode = this.refineCode(r.open);
          this.reconcile(r.events);
          this.publish();
        });
      });
      if (!running) this.sentinelInfo = { kind: 'none', verified: false, reason: 'the sentinel did not start' };
    }
    // Every wakeup of the event loop costs CPU; the heartbeat only needs the stall limit's resolution.
    unref(setInterval(() => this.heartbeat(), Math.min(5000, Math.max(50, this.opts.periodMs! / 2))));
    this.heartbeat();
    return status;
  }

  /** Stops every timer and the scanner thread. Idempotent; the process can exit afterwards. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t); // clears intervals too
    this.timers = [];
    this.kernel?.stop();
    this.watcher?.close();
    this.files?.close();
    this.tree?.stop();
    this.debuggers?.stop();
    this.manifest?.stop();
    this.code?.close();
  }

  private async startManifest(): Promise<void> {
    try {
      await this.manifest?.start(this.opts.keepAlive);
    } catch (e) {
      this.recordError('code', e);
    }
  }

  /** One full pass now (unpaced code sweep, kernel check, launch audit). Resolves with the new Status. */
  async check(): Promise<Status> {
    if (this.stopped) throw new GuardStateError('check() after stop()');
    if (!this.started) return this.start();
    this.launchCheck();
    await this.kernelCheck();
    await this.treePass();
    return this.runPass(true);
  }

  /** A full pass of the process tree (its own loops run on their own timers). */
  private async treePass(): Promise<void> {
    if (!this.tree) return;
    try {
      const u = await this.tree.check();
      this.openTree = u.open;
      this.reconcile(u.events);
    } catch (e) {
      this.recordError('kernel', e);
    }
  }

  private debuggerHooks(): ConstructorParameters<typeof DebuggerWatch>[1] {
    return {
      treePids: () => this.tree?.processes().map((p) => p.pid) ?? [],
      onChange: (open) => {
        if (this.stopped) return;
        this.openDebug = open;
        this.reconcile([]);
        this.publish();
      },
      onError: (e) => this.recordError('kernel', e),
    };
  }

  private treeUpdate(u: { open: Observation[]; events: Observation[] }): void {
    if (this.stopped) return;
    this.openTree = u.open;
    this.reconcile(u.events);
    this.publish();
  }

  /** The latest Status snapshot (JSON-serialisable). */
  status(): Status {
    return this.current;
  }

  /** Findings from outside the three monitors (e.g. the Electron window audit) join the status. */
  report(observations: Observation[], scope: string): void {
    for (const k of [...this.extra.keys()]) if (k.startsWith(`${scope}\u0000`)) this.extra.delete(k);
    for (const o of observations) this.extra.set(`${scope}\u0000${o.key}`, o);
    this.reconcile([]);
    this.publish();
  }

  private async runPass(unpaced: boolean): Promise<Status> {
    // Passes never overlap: a caller during a pass gets that pass's result.
    if (this.running) return this.running;
    this.running = this.pass(unpaced).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** One code sweep (the kernel and launch checks have their own cadences). */
  private async pass(unpaced: boolean): Promise<Status> {
    const t0 = performance.now();
    const events: Observation[] = [];
    let ok = true;
    if (this.code) {
      try {
        // The first SUCCESSFUL check is the baseline; until one succeeds, each pass retries it.
        const paced = this.codeBaselined && !unpaced;
        const r: CodeCheckResult = this.codeBaselined ? await this.code.check(unpaced ? 0 : this.opts.cpuBudget) : await this.code.baseline();
        this.codeBaselined = true;
        this.openCode = this.refineCode(r.open);
        events.push(...r.events);
        this.coverage = r.coverage;
        this.lastPassCpuMs = paced ? r.durationMs * this.opts.cpuBudget! : r.durationMs;
        this.files?.sync(this.code.mappedFiles());
        this.openCode = this.refineCode(r.open); // with the writable-file observations of new files
        this.manifest?.compareMemory();
      } catch (e) {
        ok = false;
        this.recordError('code', e);
        this.coverage = this.code.coverageNow(); // e.g. reader 'none': the status says nothing was read
      }
    }
    if (ok) this.lastPass = { at: Date.now(), mono: performance.now(), durationMs: performance.now() - t0 };
    this.reconcile(events);
    return this.publish();
  }

  /**
   * Runs a kernel check now, or once more after the running one (wakes coalesce; a full one wins).
   * `full`: the watch loop saw a change (or there is no loop); the periodic check is light while
   * the loop runs (see kernelCheck). Never rejects.
   */
  private kernelSoon(full: boolean): void {
    if (this.stopped) return;
    if (this.kernelRunning) {
      this.kernelAgain = this.kernelAgain === 'full' || full ? 'full' : 'light';
      return;
    }
    this.kernelRunning = this.kernelCheck(full).finally(() => {
      this.kernelRunning = null;
      const again = this.kernelAgain;
      this.kernelAgain = false;
      if (again) this.kernelSoon(again === 'full');
    });
  }

  /**
   * A kernel check. Light (the periodic one while the native watch loop ticks and has reported no
   * change): re-reads only what the loop does not watch (exec mappings, Yama, userns sysctls) and
   * skips the throttle scan of procguard's threads (the loop folds their scheduling in about once
   * a second). Every FULL_EVERY-th periodic check is full anyway.
   */
  private async kernelCheck(full = true): Promise<void> {
    const light = !full && this.loopVouches() && ++this.lightChecks % FULL_EVERY !== 0;
    if (this.kernel) {
      try {
        this.openKernel = await this.kernel.check({ light }); // takes the baseline on its first success
        this.lastKernelAt = Date.now();
      } catch (e) {
        this.recordError('kernel', e);
      }
    }
    if (!light) {
      this.guarded('code', () => {
        this.openHealth = this.throttle.check(ownThreads());
      });
    }
    if (this.stopped) return;
    this.reconcile([]);
    this.publish();
  }

  /** The native watch loop runs and ticked recently: its signature stands for the fields it folds in. */
  private loopVouches(): boolean {
    if (!this.watcher || !this.kernel) return false;
    const w = fastLoopState(this.watcher, this.watcherTickMs, this.watcherReason);
    return w.state === 'running' && w.lastTickAgeMs !== undefined && w.lastTickAgeMs < 2 * this.watcherTickMs + 1000;
  }

  private launchCheck(): void {
    if (this.opts.launch === false || this.stopped) return;
    try {
      const launch = typeof this.opts.launch === 'object' ? this.opts.launch : {};
      // The debugger watch owns the inspector (sooner, with the app's allowances): no second finding.
      this.openLaunch = auditLaunch(this.debuggers ? { inspectorUrl: null, ...launch } : launch);
      this.lastLaunchAt = Date.now();
    } catch (e) {
      this.recordError('launch', e);
    }
  }

  /** inotify events on code files: re-hash those files' mapped pages now (queued, never overlapping). */
  private onFileEvents(events: Map<number, number>): void {
    if (this.stopped || !this.files) return;
    for (const k of this.files.onEvents(events)) this.filesQueue.add(k);
    void this.drainFiles();
  }

  private async drainFiles(): Promise<void> {
    if (this.filesRunning || !this.code) return;
    this.filesRunning = true;
    try {
      while (this.filesQueue.size > 0 && !this.stopped) {
        const keys = [...this.filesQueue];
        this.filesQueue.clear();
        try {
          // One unpaced native pass over those files' pages, on the engine's priority thread.
          const r = await this.code.checkFiles(keys);
          if (this.stopped) return;
          this.openCode = this.refineCode(r.open);
          this.reconcile(r.events);
          this.publish();
        } catch (e) {
          this.recordError('code', e);
        }
      }
    } finally {
      this.filesRunning = false;
    }
  }

  /** Page-cache writes located to the byte, plus the writable-code-file observations. */
  private refineCode(open: Observation[]): Observation[] {
    if (!this.files) return open;
    const base = open.filter((o) => o.kind !== 'code-file-writable');
    return [...this.files.refine(base), ...this.files.observations()];
  }

  /** Runs `fn`; a throw (a listener, a logger, a policy) is recorded, never propagated. */
  private guarded(subsystem: Subsystem, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      try {
        this.recordError(subsystem, e);
      } catch {
        /* a logger that throws on checker errors too */
      }
    }
  }

  /** Checker health: sweep progress, the watch loop's and the sentinel's heartbeats. */
  private heartbeat(): void {
    if (this.stopped) return;
    this.guarded('code', () => {
      const before = this.healthKey();
      const v = this.sweepVerdict();
      this.stalled = v !== null && v.stalled;
      this.loopStalls = this.loopHealth();
      if (this.healthKey() !== before) {
        this.reconcile([]);
        this.publish();
      }
    });
  }

  private healthKey(): string {
    return `${this.stalled}|${this.loopStalls.map((o) => o.key).join()}`;
  }

  private sweepVerdict(): ReturnType<typeof stallVerdict> | null {
    if (!this.code) return null;
    const progress = this.code.progress();
    const now = performance.now();
    // Progress ages are monotonic; before any progress (the first pass failed before reading a
    // page) they count from the monitor's creation, which can precede start(): count from start().
    progress.lastProgressAt = now - Math.min(progress.lastProgressAgeMs, now - this.startedAt);
    return stallVerdict({
      progress,
      now,
      periodMs: this.opts.periodMs!,
      lastPassCpuMs: this.lastPassCpuMs,
      cpuBudget: this.opts.cpuBudget!,
      capMs: this.opts.stallCapMs!,
      fixedMs: this.opts.stallAfterMs,
    });
  }

  /** A native loop that stopped ticking (watch loop and sentinel: their native tick times). */
  private loopHealth(): Observation[] {
    const out: Observation[] = [];
    const now = performance.now();
    const w = fastLoopState(this.watcher, this.opts.kernelTickMs!, this.watcherReason);
    if (w.state === 'running' && w.lastTickAgeMs !== undefined) {
      const limit = Math.min(this.opts.stallCapMs!, 20 * this.watcherTickMs + 5000);
      if (w.lastTickAgeMs > limit) {
        out.push({
          key: 'guard:checker-stalled:watch',
          subsystem: 'kernel',
          kind: 'checker-stalled',
          detail: `the kernel watch loop has not ticked for ${(w.lastTickAgeMs / 1000).toFixed(1)} s (limit ${(limit / 1000).toFixed(1)} s)`,
        });
      }
    }
    const sentinel = this.code && this.opts.sentinelMs ? this.code.sentinelState() : null;
    if (sentinel && sentinel.state === 'running') {
      // The sentinel's own tick time (a native atomic, no /proc read): it runs on the shared native
      // ticker thread, so a stopped or starved ticker stops it advancing. Counted from when the
      // heartbeat first saw it running until its first tick.
      if (this.sentinelRuns.firstSeen === -1) this.sentinelRuns.firstSeen = now;
      if (sentinel.lastTickAt !== undefined) this.sentinelRuns.at = sentinel.lastTickAt;
      const age = sentinel.lastTickAgeMs ?? now - this.sentinelRuns.firstSeen;
      const limit = Math.min(this.opts.stallCapMs!, 20 * this.opts.sentinelMs! + 5000);
      if (age > limit) {
        out.push({
          key: 'guard:checker-stalled:sentinel',
          subsystem: 'code',
          kind: 'checker-stalled',
          detail: `the tamper sentinel has not ticked for ${(age / 1000).toFixed(1)} s (limit ${(limit / 1000).toFixed(1)} s)`,
        });
      }
    }
    return out;
  }

  private stallObservation(): Observation[] {
    const out = [...this.loopStalls];
    if (!this.stalled) return out;
    const v = this.sweepVerdict();
    out.push({
      key: 'guard:checker-stalled',
      subsystem: 'code',
      kind: 'checker-stalled',
      detail: v ? `no sweep progress for ${(v.sinceMs / 1000).toFixed(1)} s (limit ${(v.limitMs / 1000).toFixed(1)} s)` : 'no sweep progress',
    });
    return out;
  }

  /**
   * Applies the policy through policy.ts's classifyAll (the one classification path the policy
   * tests exercise): new keys become findings (emitted), vanished keys close. One-shot events are
   * classified with the open ones (so their subsystem counts as diverged). Listener, logger and
   * policy failures are contained: a background path never throws into the app.
   */
  private reconcile(rawEvents: Observation[]): void {
    // Page-level code findings bounded per (process, file): see integrity/aggregate.ts.
    const events = aggregatePages(rawEvents, { events: true });
    const all = aggregatePages([...this.openCode, ...this.openKernel, ...this.openLaunch, ...this.openTree, ...this.openDebug, ...this.extra.values(), ...this.openHealth, ...this.stallObservation()]);
    let classified: (Observation & { severity: Severity })[];
    try {
      classified = classifyAll(this.policy, [...all, ...events]);
    } catch (e) {
      this.recordError('code', e);
      return;
    }
    const keys = new Set(all.map((o) => o.key));
    for (const [k, f] of [...this.open]) {
      if (keys.has(k)) continue;
      this.open.delete(k);
      this.guarded(f.subsystem, () => this.log?.closed(f));
    }
    const fresh: Finding[] = [];
    for (let i = 0; i < all.length; i++) {
      const { severity, ...o } = classified[i];
      const prev = this.open.get(o.key);
      if (prev) {
        this.open.set(o.key, { ...prev, ...o, severity, id: prev.id, firstSeen: prev.firstSeen });
      } else {
        const f = this.toFinding(o, severity, false);
        this.open.set(o.key, f);
        fresh.push(f);
      }
    }
    for (let i = all.length; i < classified.length; i++) {
      const { severity, ...o } = classified[i];
      fresh.push(this.toFinding(o, severity, true));
    }
    for (const f of fresh) {
      this.guarded(f.subsystem, () => this.log?.finding(f));
      this.guarded(f.subsystem, () => this.emit('finding', f));
      if (this.opts.actions) void runAction(this.opts.actions, f, (e) => this.guarded(f.subsystem, () => this.recordError(f.subsystem, e))).catch(() => undefined);
    }
  }

  private toFinding(o: Observation, severity: Severity, transient: boolean): Finding {
    const f: Finding = { ...o, id: `${o.subsystem}:${o.kind}:${this.nextId++}`, severity, firstSeen: new Date().toISOString() };
    if (transient) f.transient = true;
    return f;
  }

  private recordError(subsystem: Subsystem, e: unknown): void {
    const err: CheckerError = {
      subsystem,
      code: e instanceof ProcguardError ? e.code : 'ERR_CHECKER',
      message: e instanceof Error ? e.message : String(e),
      at: new Date().toISOString(),
    };
    this.errors.push(err);
    if (this.errors.length > 20) this.errors.shift();
    try {
      this.log?.checkerError(subsystem, e);
    } catch {
      /* a logger that throws is not allowed to break the checker */
    }
  }

  private publish(): Status {
    this.current = this.buildStatus();
    const s = this.current;
    this.guarded('code', () => this.emit('status', s));
    return this.current;
  }

  /** Each loop's cadence and heartbeat, and what is off and why (the status element shows it). */
  private loopsStatus(): LoopsStatus {
    const iso = (t: number | null | undefined) => (t ? new Date(t).toISOString() : null);
    const p = this.code?.progress();
    const v = this.sweepVerdict();
    let sentinel: { state: 'running' | 'off'; reason?: string; lastTickAt?: number };
    if (!this.code) sentinel = { state: 'off', reason: this.opts.code === false ? 'off by option (code: false)' : 'not prepared' };
    else {
      sentinel = this.code.sentinelState();
      if (sentinel.state === 'off' && this.opts.sentinelMs === 0) sentinel = { state: 'off', reason: 'off by option (sentinelMs: 0)' };
    }
    const w: FastLoopState = fastLoopState(this.watcher, this.opts.kernelTickMs!, this.watcherReason);
    const files: CodeFilesStatus = this.files?.status() ?? {
      watched: 0,
      watchedPaths: [],
      unwatched: [{ path: '*', reason: this.code ? 'off by option (watchFiles: false)' : 'code checks off' }],
      unwatchedCount: 1,
      pristineBytes: 0,
    };
    return {
      sweep: {
        state: this.code ? 'running' : 'off',
        periodMs: this.opts.periodMs!,
        passActive: p?.passActive ?? false,
        pagesDone: p?.pagesDone ?? 0,
        pagesTotal: p?.pagesTotal ?? 0,
        lastProgressAt: iso(p?.lastProgressAt),
        stallLimitMs: v ? Math.round(v.limitMs) : null,
      },
      sentinel: {
        state: sentinel.state,
        ...(sentinel.reason ? { reason: sentinel.reason } : {}),
        lastReportAt: iso(sentinel.lastTickAt),
        lastRunSeenAt: iso(this.sentinelRuns.at),
      },
      kernel: {
        state: this.kernel ? w.state : 'off',
        ...(this.kernel ? (w.reason ? { reason: w.reason } : {}) : { reason: 'off by option (kernel: false)' }),
        tickMs: this.kernel && w.state === 'running' ? w.tickMs : null,
        lastTickAt: iso(w.lastTickAt),
        lastCheckAt: iso(this.lastKernelAt),
      },
      launch: { lastCheckAt: iso(this.lastLaunchAt) },
      files,
    };
  }

  private buildStatus(): Status {
    const findings = [...this.open.values()];
    const severity = overallSeverity(findings);
    let state: OverallState;
    if (this.lastPass === null) state = 'starting';
    else if (this.stalled || this.loopStalls.length > 0) state = 'stalled';
    else if (severity !== null && severityRank(severity) >= severityRank('restart')) state = 'compromised';
    else state = findings.length > 0 ? 'findings' : 'ok';
    const status: Status = {
      version: 1,
      sequence: ++this.sequence,
      pid: process.pid,
      platform: process.platform,
      state,
      severity,
      hardening: this.hardening,
      lastCheck: this.lastPass ? { at: new Date(this.lastPass.at).toISOString(), durationMs: Math.round(this.lastPass.durationMs * 100) / 100 } : null,
      coverage: { ...this.coverage },
      findings,
      heartbeatAgeMs: this.lastPass ? Math.round(performance.now() - this.lastPass.mono) : null,
      hashMode: this.code?.hashMode ?? this.opts.hashMode ?? 'blake3',
      checkerErrors: [...this.errors],
      loops: this.loopsStatus(),
      sentinel: { ...this.sentinelInfo },
    };
    if (this.tree) status.processes = this.tree.processes();
    if (this.manifest) status.manifest = this.manifest.status();
    // Status crosses IPC and goes into logs: make sure it is plain JSON data (no bigint, no class instances).
    return JSON.parse(JSON.stringify(status)) as Status;
  }
}

/** The debugger watch's options; an inspector the launch audit expects ('inspector', '--inspect*') is allowed too. */
function debuggerOptions(o: GuardOptions): DebuggerWatchOptions {
  const d = typeof o.debuggers === 'object' ? o.debuggers : {};
  const expected = typeof o.launch === 'object' ? (o.launch.expected ?? []) : [];
  const inspectorExpected = expected.some((e) => e === 'inspector' || (typeof e === 'string' && /^--inspect(-brk|-wait)?$/.test(e)));
  return inspectorExpected ? { ...d, allow: [...(d.allow ?? []), { kind: 'inspector', reason: 'expected by the launch audit options' }] } : d;
}

/**
 * Which tamper sentinel a Guard runs, from the platform and what CodeMonitor.prepare() found.
 * Only Linux's pagemap signal is verified by procguard's tests; the Windows working-set signal is
 * built from the documentation and cannot be shown under Wine (docs/platforms.md).
 */
export function sentinelInfo(platform: NodeJS.Platform, prepared: { sentinel: boolean; detail: string }, sentinelMs: number): SentinelInfo {
  if (sentinelMs === 0) return { kind: 'none', verified: false, reason: 'turned off (sentinelMs: 0)' };
  if (!prepared.sentinel) return { kind: 'none', verified: false, reason: prepared.detail };
  if (platform === 'linux') return { kind: 'pagemap', verified: true };
  if (platform === 'win32') {
    return {
      kind: 'working-set',
      verified: false,
      reason: 'QueryWorkingSetEx Shared bit: never run on Windows by the test suite (under Wine it cannot work)',
    };
  }
  return { kind: 'none', verified: false, reason: prepared.detail };
}
