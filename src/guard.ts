/**
 * Guard: owns the code monitor, the kernel isolation monitor and the launch audit, turns their
 * observations into findings with a severity (by the policy), and keeps one versioned Status.
 * Events: 'finding' (each new finding, including one-shot events such as code-restored),
 * 'status' (each new snapshot), 'error' is never emitted (checker failures go into the Status
 * and the heartbeat), so an app that forgets a listener cannot be crashed by the guard.
 */
import { EventEmitter } from 'node:events';
import type { Finding, HardenReport, Observation, OverallState, Severity, Status, Subsystem } from './types';
import { CodeMonitor, type CodeMonitorOptions, type CodeCheckResult } from './integrity/monitor';
import { KernelMonitor, type KernelMonitorOptions } from './kernel/monitor';
import { auditLaunch, type LaunchAuditOptions } from './launch/audit';
import { countBySubsystem, defaultPolicy, overallSeverity, runAction, severityRank, type Policy, type PolicyActions } from './policy';
import { createFindingLogger, type FindingLogger, type LoggerLike } from './logging';
import { GuardStateError, ProcguardError } from './errors';

export interface GuardOptions extends CodeMonitorOptions {
  /** Period of the full sweep in ms. Default 10 000. */
  periodMs?: number;
  /** Tick of the tamper sentinel in ms (Linux; a native loop that wakes JS only on a change). Default 150; 0 turns it off. */
  sentinelMs?: number;
  /** Share of one core the periodic sweeps may use. Default 0.002 (0.2 %): with large code the sweep
   *  is paced by this, so a pass can take longer than `periodMs`. */
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
  /** A pass that has not completed for this long is a stalled checker. Default 3 x periodMs + 5 s. */
  stallAfterMs?: number;
  /** Keep the process alive while started (CLI watch). Default false: timers are unref'd. */
  keepAlive?: boolean;
}

type CheckerError = Status['checkerErrors'][number];

export declare interface Guard {
  on(event: 'finding', listener: (f: Finding) => void): this;
  on(event: 'status', listener: (s: Status) => void): this;
  off(event: 'finding', listener: (f: Finding) => void): this;
  off(event: 'status', listener: (s: Status) => void): this;
}

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
  private readonly extra = new Map<string, Observation>();
  private readonly errors: CheckerError[] = [];
  private hardening: HardenReport | null = null;
  private sequence = 0;
  private nextId = 1;
  private lastPass: { at: number; durationMs: number } | null = null;
  private coverage: Status['coverage'] = { regions: 0, bytes: 0, hashedBytes: 0, residentBytes: 0 };
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<Status> | null = null;
  private slowestPassMs = 0;
  private started = false;
  private stopped = false;
  private stalled = false;
  private current: Status;

  constructor(options: GuardOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') throw new TypeError('Guard options must be an object');
    const period = options.periodMs ?? 10_000;
    if (!Number.isFinite(period) || period < 50) throw new RangeError('periodMs must be a number >= 50');
    const sentinel = options.sentinelMs ?? 150;
    if (!Number.isFinite(sentinel) || (sentinel !== 0 && sentinel < 10)) throw new RangeError('sentinelMs must be 0 (off) or a number >= 10');
    const budget = options.cpuBudget ?? 0.002;
    if (!(budget > 0 && budget <= 1)) throw new RangeError('cpuBudget must be a number in (0, 1]');
    const sentinelBudget = options.sentinelBudget ?? 0.001;
    if (!(sentinelBudget > 0 && sentinelBudget <= 1)) throw new RangeError('sentinelBudget must be a number in (0, 1]');
    this.opts = { ...options, periodMs: period, sentinelMs: sentinel, cpuBudget: budget, sentinelBudget };
    this.policy = options.policy ?? defaultPolicy();
    if (typeof this.policy?.classify !== 'function') throw new TypeError('policy must have a classify(observation, context) function');
    this.log = options.logger ? createFindingLogger(options.logger) : null;
    this.current = this.buildStatus();
  }

  /**
   * Opens what hardening would lock away (the pagemap for the tamper sentinel). start() calls it;
   * call it yourself before harden() if you harden before starting the guard.
   */
  prepare(): void {
    if (this.opts.code === false || this.code) return;
    this.code = new CodeMonitor(this.opts);
    this.code.prepare();
  }

  /** Records the hardening report so the Status shows it. */
  setHardening(report: HardenReport): void {
    this.hardening = report;
    this.publish();
  }

  /** Takes the baselines and starts the periodic checks. Resolves with the first Status. */
  async start(): Promise<Status> {
    if (this.stopped) throw new GuardStateError('a stopped Guard cannot be restarted; create a new one');
    if (this.started) return this.current;
    this.started = true;
    this.prepare();
    if (this.opts.kernel !== false) {
      this.kernel = new KernelMonitor(typeof this.opts.kernel === 'object' ? this.opts.kernel : {});
      await this.kernel.baseline().catch((e) => this.recordError('kernel', e));
    }
    const status = await this.runPass(true);
    const unref = (t: NodeJS.Timeout) => {
      if (!this.opts.keepAlive) t.unref();
      this.timers.push(t);
    };
    unref(setInterval(() => void this.runPass(false).catch(() => undefined), this.opts.periodMs!));
    if (this.code && this.opts.sentinelMs) {
      this.code.startSentinel(this.opts.sentinelMs, this.opts.sentinelBudget!, (r) => {
        if (this.stopped) return;
        this.openCode = r.open;
        this.reconcile(r.events);
        this.publish();
      });
    }
    // Every wakeup of the event loop costs CPU; the heartbeat only needs the stall limit's resolution.
    unref(setInterval(() => this.heartbeat(), Math.min(5000, Math.max(50, this.opts.periodMs! / 2))));
    return status;
  }

  /** Stops every timer and the scanner thread. Idempotent; the process can exit afterwards. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t); // clears intervals too
    this.timers = [];
    this.kernel?.stop();
    this.code?.close();
  }

  /** One full pass now (unpaced). Resolves with the new Status. */
  async check(): Promise<Status> {
    if (this.stopped) throw new GuardStateError('check() after stop()');
    if (!this.started) return this.start();
    return this.runPass(true);
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

  private async pass(unpaced: boolean): Promise<Status> {
    const t0 = performance.now();
    const events: Observation[] = [];
    let ok = true;
    if (this.code) {
      try {
        const r: CodeCheckResult = this.lastPass === null ? await this.code.baseline() : await this.code.check(unpaced ? 0 : this.opts.cpuBudget);
        this.openCode = r.open;
        events.push(...r.events);
        this.coverage = r.coverage;
      } catch (e) {
        ok = false;
        this.recordError('code', e);
        this.coverage = this.code.coverageNow(); // e.g. reader 'none': the status says nothing was read
      }
    }
    if (this.kernel) {
      try {
        this.openKernel = await this.kernel.check();
      } catch (e) {
        ok = false;
        this.recordError('kernel', e);
      }
    }
    if (this.opts.launch !== false) {
      try {
        this.openLaunch = auditLaunch(typeof this.opts.launch === 'object' ? this.opts.launch : {});
      } catch (e) {
        ok = false;
        this.recordError('launch', e);
      }
    }
    if (ok || this.lastPass === null) {
      this.lastPass = { at: Date.now(), durationMs: performance.now() - t0 };
      this.slowestPassMs = Math.max(this.slowestPassMs, this.lastPass.durationMs);
      if (ok) this.stalled = false;
    }
    this.reconcile(events);
    return this.publish();
  }

  /** A checker that stops completing passes becomes a finding of its own. */
  private heartbeat(): void {
    if (this.stopped || this.lastPass === null) return;
    const limit = this.stallLimitMs();
    const stale = Date.now() - this.lastPass.at > limit;
    if (stale !== this.stalled) {
      this.stalled = stale;
      this.reconcile([]);
      this.publish();
    }
  }

  /**
   * How long without a completed pass is a stall. A paced sweep of a large process can take longer
   * than the period (CPU time / cpuBudget), so the default follows the slowest pass seen.
   */
  private stallLimitMs(): number {
    if (this.opts.stallAfterMs !== undefined) return this.opts.stallAfterMs;
    return 3 * Math.max(this.opts.periodMs!, this.slowestPassMs) + 5000;
  }

  private stallObservation(): Observation[] {
    if (!this.stalled || !this.lastPass) return [];
    return [
      {
        key: 'guard:checker-stalled',
        subsystem: 'code',
        kind: 'checker-stalled',
        detail: `no completed check for ${((Date.now() - this.lastPass.at) / 1000).toFixed(1)} s (limit ${(this.stallLimitMs() / 1000).toFixed(1)} s)`,
      },
    ];
  }

  /** Applies the policy: new keys become findings (emitted), vanished keys close. */
  private reconcile(events: Observation[]): void {
    const all = [...this.openCode, ...this.openKernel, ...this.openLaunch, ...this.extra.values(), ...this.stallObservation()];
    const counts = countBySubsystem(all);
    for (const o of events) if (counts[o.subsystem] === 0) counts[o.subsystem] = 1;
    const ctx = { openBySubsystem: counts };
    const keys = new Set(all.map((o) => o.key));
    for (const [k, f] of [...this.open]) {
      if (keys.has(k)) continue;
      this.open.delete(k);
      this.log?.closed(f);
    }
    const fresh: Finding[] = [];
    for (const o of all) {
      const prev = this.open.get(o.key);
      const severity = this.policy.classify(o, ctx);
      severityRank(severity); // a replaced policy must answer with a known severity
      if (prev) {
        this.open.set(o.key, { ...prev, ...o, severity, id: prev.id, firstSeen: prev.firstSeen });
      } else {
        const f = this.toFinding(o, severity, false);
        this.open.set(o.key, f);
        fresh.push(f);
      }
    }
    for (const o of events) fresh.push(this.toFinding(o, this.policy.classify(o, ctx), true));
    for (const f of fresh) {
      this.log?.finding(f);
      this.emit('finding', f);
      if (this.opts.actions) void runAction(this.opts.actions, f, (e) => this.recordError(f.subsystem, e));
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
    this.log?.checkerError(subsystem, e);
    if (this.errors.length > 20) this.errors.shift();
  }

  private publish(): Status {
    this.current = this.buildStatus();
    this.emit('status', this.current);
    return this.current;
  }

  private buildStatus(): Status {
    const findings = [...this.open.values()];
    const severity = overallSeverity(findings);
    let state: OverallState;
    if (this.lastPass === null) state = 'starting';
    else if (this.stalled) state = 'stalled';
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
      heartbeatAgeMs: this.lastPass ? Date.now() - this.lastPass.at : null,
      hashMode: this.code?.hashMode ?? this.opts.hashMode ?? 'blake3',
      checkerErrors: [...this.errors],
    };
    // Status crosses IPC and goes into logs: make sure it is plain JSON data (no bigint, no class instances).
    return JSON.parse(JSON.stringify(status)) as Status;
  }
}
