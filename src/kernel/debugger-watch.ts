/**
 * The runtime debugger watch's timers: the inspector check every `tickMs` (a binding call, no
 * I/O), the listening-socket scan of this process and the watched tree every `socketsMs` (Linux).
 * Reports the open observations whenever their keys change. Never throws into the app.
 */
import type { Observation } from '../types';
import { inspectorObservations, inspectorState, ListenerWatch, type AllowedDebugger, type DebuggerWatchOptions } from './debuggers';

export interface DebuggerWatchHooks {
  /** Pids of the watched descendants (the tree monitor's), besides this process. */
  treePids(): number[];
  onChange(open: Observation[]): void;
  onError(e: unknown): void;
}

export class DebuggerWatch {
  private readonly timers: NodeJS.Timeout[] = [];
  private inspector: Observation[] = [];
  private listeners: Observation[] = [];
  private lastKeys = '';
  private scanning = false;
  private stopped = false;
  private readonly allow: readonly AllowedDebugger[];
  private readonly sockets: ListenerWatch | null;

  constructor(
    private readonly opts: DebuggerWatchOptions,
    private readonly hooks: DebuggerWatchHooks,
  ) {
    const tick = opts.tickMs ?? 500;
    if (!Number.isFinite(tick) || (tick !== 0 && tick < 10)) throw new RangeError('debuggers.tickMs must be 0 (off) or a number >= 10');
    const socketsMs = opts.socketsMs ?? 1000;
    if (!Number.isFinite(socketsMs) || (socketsMs !== 0 && socketsMs < 50)) throw new RangeError('debuggers.socketsMs must be 0 (off) or a number >= 50');
    for (const a of opts.allow ?? []) {
      if (!a || (a.kind !== 'inspector' && a.kind !== 'remote-debugging') || typeof a.reason !== 'string' || a.reason === '') {
        throw new TypeError("debuggers.allow entries are { kind: 'inspector' | 'remote-debugging', port?: number, reason: string }");
      }
    }
    this.allow = opts.allow ?? [];
    this.sockets = process.platform === 'linux' && socketsMs > 0 ? new ListenerWatch(opts.probe !== false) : null;
  }

  /** Runs both checks once now, then on their timers. */
  async start(keepAlive: boolean): Promise<void> {
    const tick = this.opts.tickMs ?? 500;
    if (tick === 0) return;
    const keep = (t: NodeJS.Timeout) => {
      if (!keepAlive) t.unref();
      this.timers.push(t);
    };
    this.checkInspector();
    keep(setInterval(() => this.checkInspector(), tick));
    if (this.sockets) {
      await this.scan();
      keep(setInterval(() => void this.scan(), this.opts.socketsMs ?? 1000));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }

  open(): Observation[] {
    return [...this.inspector, ...this.listeners];
  }

  private checkInspector(): void {
    try {
      this.inspector = inspectorObservations(inspectorState(), this.allow);
      this.changed();
    } catch (e) {
      this.hooks.onError(e);
    }
  }

  private async scan(): Promise<void> {
    if (!this.sockets || this.scanning || this.stopped) return;
    this.scanning = true;
    try {
      const pids = [process.pid, ...this.hooks.treePids().filter((p) => p !== process.pid)];
      this.listeners = await this.sockets.scan(pids, this.allow, inspectorState()?.port ?? null);
      if (!this.stopped) this.changed();
    } catch (e) {
      this.hooks.onError(e);
    } finally {
      this.scanning = false;
    }
  }

  private changed(): void {
    const keys = this.open().map((o) => o.key).join();
    if (keys === this.lastKeys) return;
    this.lastKeys = keys;
    this.hooks.onChange(this.open());
  }
}
