/**
 * Per-sender token buckets. O(1) per request and bounded memory, so a renderer flooding the
 * bridge costs the main process a map lookup per message and nothing more.
 */
export interface RateLimitOptions {
  /** Requests a sender may make at once. */
  burst: number;
  /** Tokens regained per second. */
  perSecond: number;
  /** Most senders tracked; the oldest entry is forgotten beyond this. */
  maxSenders?: number;
  /** Clock in milliseconds (injectable for tests). */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<number, Bucket>();
  private readonly burst: number;
  private readonly perMs: number;
  private readonly maxSenders: number;
  private readonly now: () => number;

  constructor(options: RateLimitOptions) {
    if (!(Number.isFinite(options.burst) && options.burst >= 1)) throw new RangeError('rateLimit.burst must be a number >= 1');
    if (!(Number.isFinite(options.perSecond) && options.perSecond > 0)) throw new RangeError('rateLimit.perSecond must be a number > 0');
    this.burst = options.burst;
    this.perMs = options.perSecond / 1000;
    this.maxSenders = options.maxSenders ?? 4096;
    this.now = options.now ?? Date.now;
  }

  /** Takes one token for `key`; false when the sender is over its rate. */
  take(key: number): boolean {
    const now = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.maxSenders) {
        const oldest = this.buckets.keys().next();
        if (oldest.done !== true) this.buckets.delete(oldest.value);
      }
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    } else if (now > b.at) {
      b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.perMs);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  forget(key: number): void {
    this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}
