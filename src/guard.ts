/**
 * Guard: the lifecycle (prepare/start/check/stop) of the code monitor, the kernel isolation monitor,
 * the launch audit, the process tree, the debugger watch and the manifest check, each on its own
 * timer or native loop. What their observations mean is in src/guard/: options.ts (validated once),
 * ledger.ts (findings by the policy), status.ts (the one versioned Status), health.ts (stalls).
 * Events: 'finding' (each new finding, including one-shot events such as code-restored),
 * 'status' (each new snapshot), 'error' is never emitted (checker failures go into the Status
 * and the heartbeat), so an app that forgets a listener cannot be crashed by the guard.
 */
import { EventEmitter } from 'node:events';
import type { Finding, HardenReport, Observation, PortalCheck, SentinelInfo, Status, Subsystem } from './types';
import { checkPortals, withPortalCheck, type CheckPortalsOptions } from './portals/check';
import { CodeMonitor, type CodeCheckResult } from './integrity/monitor';
import { KernelMonitor } from './kernel/monitor';
import { auditLaunch } from './launch/audit';
import { runAction } from './policy';
import { buildStatus, loopsStatus, type LoopsInput } from './guard/status';
import { FindingsLedger, type Reconciled } from './guard/ledger';
import { FastLoop, fastLoopState, type FastLoopState } from './fastloop/fast-loop';
import { ownThreads, ThrottleWatch } from './guard/threads';
import { CheckerHealth } from './guard/health';
import { createFindingLogger, type FindingLogger } from './logging';
import { GuardStateError } from './errors';
import { TreeMonitor } from './tree/monitor';
import { DebuggerWatch } from './kernel/debugger-watch';
import { ManifestRuntime } from './manifest/runtime';
import { codeMonitorOptions, debuggerOptions, resolveGuardOptions, type GuardOptions, type ResolvedGuardOptions } from './guard/options';
import { WindowsTreeMonitor } from './tree/windows';

export type { GuardOptions } from './guard/options';

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
  private readonly opts: ResolvedGuardOptions;
  private readonly log: FindingLogger | null;
  private code: CodeMonitor | null = null;
  private kernel: KernelMonitor | null = null;
  private readonly ledger: FindingsLedger;
  private openCode: Observation[] = [];
  private openKernel: Observation[] = [];
  private openLaunch: Observation[] = [];
  private tree: TreeMonitor | WindowsTreeMonitor | null = null;
  private manifest: ManifestRuntime | null = null;
  private openTree: Observation[] = [];
  private debuggers: DebuggerWatch | null = null;
  private openDebug: Observation[] = [];
  private readonly extra = new Map<string, Observation>();
  private hardening: HardenReport | null = null;
  private sequence = 0;
  private lastPass: { at: number; mono: number; durationMs: number } | null = null;
  private coverage: Status['coverage'] = { regions: 0, bytes: 0, hashedBytes: 0, residentBytes: 0 };
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<Status> | null = null;
  private codeBaselined = false;
  /** The native fast loop (kernel signal; the code monitor subscribes to its file events), or why none. */
  private loop: FastLoop | null = null;
  private loopReason = 'not started';
  private readonly throttle = new ThrottleWatch();
  private openHealth: Observation[] = [];
  /** Sweep progress and the native loops' heartbeats (src/guard/health.ts). */
  private readonly health: CheckerHealth;
  private kernelRunning: Promise<void> | null = null;
  private kernelAgain: false | 'full' | 'light' = false;
  private lightChecks = 0;
  private lastKernelAt: number | null = null;
  private lastLaunchAt: number | null = null;
  private started = false;
  private stopped = false;
  private current: Status;
  private sentinelInfo: SentinelInfo = { kind: 'none', verified: false, reason: 'the code monitor is not prepared' };

  constructor(options: GuardOptions = {}) {
    super();
    this.opts = resolveGuardOptions(options);
    this.health = new CheckerHealth(this.opts);
    if (options.debuggers !== false) this.debuggers = new DebuggerWatch(debuggerOptions(options), this.debuggerHooks());
    this.ledger = new FindingsLedger(this.opts.policy);
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
          periodMs: this.opts.periodMs,
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
    this.code = new CodeMonitor(codeMonitorOptions(this.opts));
    this.sentinelInfo = sentinelInfo(process.platform, this.code.prepare(), this.opts.sentinelMs);
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
    this.health.startedAt = performance.now();
    this.prepare();
    const unref = (t: NodeJS.Timeout) => {
      if (!this.opts.keepAlive) t.unref();
      this.timers.push(t);
    };
    if (this.opts.kernel !== false) this.kernel = new KernelMonitor(typeof this.opts.kernel === 'object' ? this.opts.kernel : {});
    const wantFiles = this.code !== null && this.opts.watchFiles !== false;
    if ((this.kernel || wantFiles) && this.opts.kernelTickMs) {
      // One native loop serves both: the kernel signature every tick, file events at once.
      this.loop = new FastLoop(this.kernel ? this.opts.kernelTickMs : 60_000, (msg) => this.recordError('kernel', new Error(`watch loop: ${msg}`)));
      this.loop.onKernel(() => this.kernelSoon(true));
      this.loopReason = this.loop.reason;
    } else {
      this.loopReason = this.opts.kernelTickMs ? 'off: kernel checks disabled' : 'off by option (kernelTickMs: 0)';
    }
    // The code monitor owns its file watch and re-check; its results come back through onCode.
    if (wantFiles && this.code) this.code.watchFiles(this.loop, this.loopReason, this.opts.pristineBytes, { onResult: (r) => this.onCode(r), onError: (e) => this.recordError('code', e) });
    this.launchCheck();
    await this.kernelCheck();
    if (this.opts.processTree) {
      try {
        const treeOpts = typeof this.opts.processTree === 'object' ? this.opts.processTree : {};
        this.tree = process.platform === 'win32' ? new WindowsTreeMonitor(treeOpts) : new TreeMonitor(treeOpts);
      } catch (e) {
        this.recordError('tree', e); // UnsupportedPlatformError off Linux: a checker error in the Status, not a crash
      }
      await this.treePass();
      this.tree?.start((u) => this.treeUpdate(u), (e) => this.recordError('tree', e), this.opts.keepAlive);
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
      const running = this.code.startSentinel(this.opts.sentinelMs, this.opts.sentinelBudget, (r) => this.onCode(r));
      if (!running) this.sentinelInfo = { kind: 'none', verified: false, reason: 'the sentinel did not start' };
    }
    // Every wakeup of the event loop costs CPU; the heartbeat only needs the stall limit's resolution.
    unref(setInterval(() => this.heartbeat(), Math.min(5000, Math.max(50, this.opts.periodMs / 2))));
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
    this.loop?.close();
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
      this.recordError('tree', e);
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
        this.openCode = r.open;
        events.push(...r.events);
        this.coverage = r.coverage;
        this.health.lastPassCpuMs = paced ? r.durationMs * this.opts.cpuBudget : r.durationMs;
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
    if (!this.loop?.watcher || !this.kernel) return false;
    const w = this.loop.state();
    return w.state === 'running' && w.lastTickAgeMs !== undefined && w.lastTickAgeMs < 2 * this.loop.tickMs + 1000;
  }

  /** The fast loop as the Status and the health show it (the tick shown is the option's). */
  private loopState(): FastLoopState {
    return this.loop ? this.loop.state(this.opts.kernelTickMs) : fastLoopState(null, this.opts.kernelTickMs, this.loopReason);
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

  /** A result of the code monitor's own loops (the tamper sentinel, the file re-checks). */
  private onCode(r: CodeCheckResult): void {
    if (this.stopped) return;
    this.guarded('code', () => {
      this.openCode = r.open;
      this.reconcile(r.events);
      this.publish();
    });
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
      const changed = this.health.update({
        progress: this.code?.progress() ?? null,
        watchLoop: this.loopState(),
        watchTickMs: this.loop?.tickMs ?? 0,
        sentinel: this.code && this.opts.sentinelMs ? this.code.sentinelState() : null,
        tree: this.tree instanceof TreeMonitor ? this.tree.sentinelHeartbeat() : null,
        now: performance.now(),
      });
      if (changed) {
        this.reconcile([]);
        this.publish();
      }
    });
  }

  /** The ledger's reconcile over every open observation; the side effects of each new and closed finding. */
  private reconcile(rawEvents: Observation[]): void {
    let r: Reconciled;
    try {
      r = this.ledger.reconcile(this.openObservations(), rawEvents);
    } catch (e) {
      this.recordError('code', e);
      return;
    }
    for (const f of r.closed) this.guarded(f.subsystem, () => this.log?.closed(f));
    for (const f of r.fresh) {
      this.guarded(f.subsystem, () => this.log?.finding(f));
      this.guarded(f.subsystem, () => this.emit('finding', f));
      if (this.opts.actions) void runAction(this.opts.actions, f, (e) => this.guarded(f.subsystem, () => this.recordError(f.subsystem, e))).catch(() => undefined);
    }
  }

  /** Every condition open now, from each monitor, the reported extras and checker health. */
  private openObservations(): Observation[] {
    return [...this.openCode, ...this.openKernel, ...this.openLaunch, ...this.openTree, ...this.openDebug, ...this.extra.values(), ...this.openHealth, ...this.health.observations(this.code?.progress() ?? null, performance.now())];
  }

  private recordError(subsystem: Subsystem, e: unknown): void {
    this.ledger.checkerError(subsystem, e);
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

  /** What the Status shows, gathered from each part (src/guard/status.ts builds it). */
  private buildStatus(): Status {
    const v = this.health.sweepVerdict(this.code?.progress() ?? null, performance.now());
    const code: LoopsInput['code'] = this.code
      ? { progress: this.code.progress(), stallLimitMs: v ? Math.round(v.limitMs) : null, sentinel: this.code.sentinelState(), files: this.code.filesStatus() }
      : { off: this.opts.code === false ? 'off by option (code: false)' : 'not prepared' };
    const loops = loopsStatus({
      periodMs: this.opts.periodMs,
      code,
      sentinelOffByOption: this.opts.sentinelMs === 0,
      sentinelRunSeenAt: this.health.sentinelRunSeenAt,
      kernelOn: this.kernel !== null,
      watchLoop: this.loopState(),
      lastKernelAt: this.lastKernelAt,
      lastLaunchAt: this.lastLaunchAt,
    });
    return buildStatus({
      sequence: ++this.sequence,
      findings: this.ledger.findings(),
      hardening: this.hardening,
      lastPass: this.lastPass,
      stalled: this.health.stalled,
      coverage: this.coverage,
      hashMode: this.code?.hashMode ?? this.opts.hashMode ?? 'blake3',
      checkerErrors: this.ledger.checkerErrors(),
      loops,
      sentinel: this.sentinelInfo,
      ...(this.tree ? { processes: this.tree.processes() } : {}),
      ...(this.manifest ? { manifest: this.manifest.status() } : {}),
      now: performance.now(),
    });
  }
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
