/**
 * What the two tree monitors share (Linux monitor.ts, Windows windows.ts): the checks of the timing
 * options, the loop plumbing (TreeLoopBase), and the loops' timers (each on its own interval; an error of one run goes to onError and
 * never stops the loop; a timer keeps the process alive only when asked).
 */
import { GuardStateError } from '../errors';
import type { Observation } from '../types';
import type { ProcessClaim, ProcessTreeOptions, TreeUpdate } from './monitor';

export interface TreeTimings {
  rootPid: number;
  pollMs: number;
  discoveryMs: number;
  codeMs: number;
  settleMs: number;
  /** Bounds: descendants tracked at most, and bytes of one child's maps read at most. */
  maxProcesses: number;
  maxMapsBytes: number;
  /** The native fast loop (Linux, sentinel.ts): tick (0: off), every thread's period, walk budget. */
  sentinelMs: number;
  threadMs: number;
  sentinelBudget: number;
}

/** The validated root and timings of `options` (defaults filled in); throws TypeError / RangeError. */
export function treeTimings(options: ProcessTreeOptions): TreeTimings {
  if (options === null || typeof options !== 'object') throw new TypeError('processTree options must be an object');
  const rootPid = options.rootPid ?? process.pid;
  if (!Number.isSafeInteger(rootPid) || rootPid <= 0) throw new RangeError('processTree.rootPid must be a positive integer');
  const ms = (v: number | undefined, d: number, name: string, min: number, zeroOk = false): number => {
    const x = v ?? d;
    if (!Number.isFinite(x) || (x < min && !(zeroOk && x === 0))) throw new RangeError(`processTree.${name} must be a number >= ${min}${zeroOk ? ' or 0' : ''}`);
    return x;
  };
  const count = (v: number | undefined, d: number, name: string, max: number): number => {
    const x = v ?? d;
    if (!Number.isSafeInteger(x) || x < 1 || x > max) throw new RangeError(`processTree.${name} must be an integer from 1 to ${max}`);
    return x;
  };
  if (options.claims !== undefined && typeof options.claims !== 'function') throw new TypeError('processTree.claims must be a function');
  // The native loop's own limits (a tick up to an hour, a budget up to one core).
  if (options.sentinelMs !== undefined && options.sentinelMs > 3_600_000) throw new RangeError('processTree.sentinelMs must be at most 3600000');
  if (options.sentinelBudget !== undefined && options.sentinelBudget > 1) throw new RangeError('processTree.sentinelBudget must be at most 1 (one core)');
  return {
    rootPid,
    pollMs: ms(options.pollMs, 500, 'pollMs', 30),
    discoveryMs: ms(options.discoveryMs, 2000, 'discoveryMs', 50),
    codeMs: ms(options.codeMs, 10_000, 'codeMs', 100, true),
    settleMs: ms(options.settleMs, 2000, 'settleMs', 0),
    maxProcesses: count(options.maxProcesses, 1024, 'maxProcesses', 4096),
    maxMapsBytes: count(options.maxMapsBytes, 8 * 2 ** 20, 'maxMapsBytes', 2 ** 30),
    sentinelMs: ms(options.sentinelMs, 100, 'sentinelMs', 10, true),
    threadMs: ms(options.threadMs, 300, 'threadMs', 10),
    sentinelBudget: ms(options.sentinelBudget, 0.002, 'sentinelBudget', 0.00001),
  };
}

export class TreeTimers {
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    private readonly onError: (e: unknown) => void,
    private readonly keepAlive: boolean,
  ) {}

  /** Runs `fn` every `ms` until stop(). */
  every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      if (this.stopped) return;
      try {
        fn();
      } catch (e) {
        this.onError(e);
      }
    }, ms);
    if (!this.keepAlive) t.unref();
    this.timers.push(t);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}

/**
 * The loop plumbing of a tree monitor: timers, the one code pass in flight, the claims callback, and
 * the update callback, called only when the open set changed or events happened.
 */
export abstract class TreeLoopBase {
  protected onError: (e: unknown) => void = () => undefined;
  protected stopped = false;
  private timers: TreeTimers | null = null;
  private onUpdate: ((u: TreeUpdate) => void) | null = null;
  private lastOpenKeys = '';
  private codeRunning: Promise<Observation[]> | null = null;

  protected constructor(private readonly claimsFn: (() => ReadonlyMap<number, ProcessClaim> | null) | undefined) {}

  /** The observations open now. */
  abstract openObservations(): Observation[];
  /** One code pass; resolves with one-shot events (code-restored). */
  protected abstract runCode(): Promise<Observation[]>;

  /** Begins start(): throws when started or stopped; returns the loops' `every`. */
  protected startTimers(onUpdate: (u: TreeUpdate) => void, onError: (e: unknown) => void, keepAlive: boolean): (ms: number, fn: () => void) => void {
    if (this.timers) throw new GuardStateError('TreeMonitor already started');
    if (this.stopped) throw new GuardStateError('a stopped TreeMonitor cannot be restarted');
    this.onUpdate = onUpdate;
    this.onError = onError;
    const timers = (this.timers = new TreeTimers((e) => this.onError(e), keepAlive));
    return (ms, fn) => timers.every(ms, fn);
  }

  protected stopTimers(): void {
    this.stopped = true;
    this.timers?.stop();
    this.timers = null;
  }

  /** What the app says of each pid; an error of the callback is reported, never thrown. */
  protected claims(): ReadonlyMap<number, ProcessClaim> {
    try {
      return this.claimsFn?.() ?? new Map();
    } catch (e) {
      this.onError(e);
      return new Map();
    }
  }

  /** The code pass, never two at once: a caller during a pass gets that pass. */
  protected codePass(): Promise<Observation[]> {
    if (this.codeRunning) return this.codeRunning;
    this.codeRunning = this.runCode().finally(() => {
      this.codeRunning = null;
    });
    return this.codeRunning;
  }

  protected emitIfChanged(events: Observation[]): void {
    if (this.stopped || !this.onUpdate) return;
    const open = this.openObservations();
    const keys = open.map((o) => o.key + '\u0000' + o.detail).join('\n');
    if (keys === this.lastOpenKeys && events.length === 0) return;
    this.lastOpenKeys = keys;
    this.onUpdate({ open, events });
  }
}
