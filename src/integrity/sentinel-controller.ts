/**
 * The tamper sentinel's controller: starts and stops the native sentinel loop, follows the regions
 * each pass finds, and says whether it runs. The loop itself (page-table walk, re-hash, compare with
 * the baseline, confirm, locate) is native; reports arrive only when something changed.
 */
import type { HashMode, NativePassRegion, NativeScanner, NativeSentinelReport } from '../native';

export interface SentinelState {
  state: 'running' | 'off';
  reason?: string;
  /** Date.now() of the last tick, for display. */
  lastTickAt?: number;
  /** ms since the last tick on the monotonic clock (health decisions use this). */
  lastTickAgeMs?: number;
}

export class SentinelController {
  private running = false;
  private reason = 'not started';
  private key = '';
  private availableNow = false;

  constructor(
    private readonly scanner: NativeScanner,
    private readonly mode: HashMode,
  ) {}

  /** Why the sentinel cannot run (pagemap not opened, not Linux); cleared by prepare(). */
  unavailable(reason: string | null): void {
    if (!this.running) this.reason = reason ?? 'not started';
    this.availableNow = reason === null;
  }

  start(regions: NativePassRegion[], periodMs: number, budget: number, onReport: (r: NativeSentinelReport) => void): boolean {
    if (this.running || !this.availableNow) return false;
    this.scanner.startSentinel(regions, this.mode, periodMs, budget, onReport);
    this.key = keyOf(regions);
    this.running = true;
    this.reason = '';
    return true;
  }

  /** The regions of the latest pass; the running loop keeps its state when they are the same. */
  update(regions: NativePassRegion[]): void {
    if (!this.running) return;
    const key = keyOf(regions);
    if (key === this.key) return;
    this.key = key;
    this.scanner.updateSentinel(regions);
  }

  stop(reason: string): void {
    if (!this.running) return;
    this.running = false;
    this.reason = reason;
    this.scanner.stopSentinel();
  }

  state(): SentinelState {
    if (!this.running) return { state: 'off', reason: this.reason };
    const info = this.scanner.sentinelInfo();
    const age = info.lastTickAgeMs;
    return age !== undefined ? { state: 'running', lastTickAt: Date.now() - age, lastTickAgeMs: age } : { state: 'running' };
  }
}

function keyOf(regions: NativePassRegion[]): string {
  return regions.map((r) => `${r.start}-${r.end}@${r.fileKey}+${r.fileOffset}`).join();
}
