/**
 * The main-process side of the read-only status bridge, free of Electron so it runs under plain
 * Node: it takes an `ipcMain`-like object. `main.ts` wires it to the real `ipcMain`.
 *
 * Threat model: any renderer may be compromised and may send anything on any channel, as often
 * as it likes. The bridge therefore (1) registers only read channels, so nothing a renderer
 * sends can change the guard; (2) checks every sender's frame origin against an allowlist and
 * rejects subframes unless allowed; (3) rate-limits per webContents; (4) answers from a cached
 * serialised snapshot, so a request costs a few property reads and never a deep copy.
 */
import type { Status } from '../types';
import { CHANNELS, REFUSALS } from './channels';
import { RateLimiter } from './rate-limit';
import {
  checkSender,
  frameOrigin,
  normaliseOrigin,
  type AcceptedSender,
  type RejectReason,
  type SenderEventLike,
  type SenderPolicy,
  type WebContentsLike,
} from './sender-policy';

/** What the bridge needs from a Guard: read the status and hear about new snapshots. */
export interface StatusSource {
  status(): Status;
  on(event: 'status', listener: (status: Status) => void): unknown;
  off(event: 'status', listener: (status: Status) => void): unknown;
}

type Listener = (event: SenderEventLike, ...args: unknown[]) => unknown;

/** The part of Electron's `ipcMain` the bridge uses. */
export interface IpcMainLike {
  handle(channel: string, listener: Listener): void;
  removeHandler(channel: string): void;
  on(channel: string, listener: Listener): unknown;
  removeListener(channel: string, listener: Listener): unknown;
}

export interface StatusBridgeOptions {
  /** Exact origins allowed to read the status: "file://", "app://main", "https://example.com". Required. */
  allowedOrigins: readonly string[];
  /** Accept requests from frames other than the main frame (default false). */
  allowSubframes?: boolean;
  /** An extra predicate after the origin check (e.g. only your status window). Exceptions count as "no". */
  filter?: SenderPolicy['filter'];
  /** Per-webContents token bucket (default burst 30, 20 per second). */
  rateLimit?: { burst?: number; perSecond?: number };
  /** Most frames subscribed at once (default 256). */
  maxSubscribers?: number;
  /** A cached snapshot older than this is re-read from the source on the next request (default 1000 ms). */
  maxCacheAgeMs?: number;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

export type BridgeRejectReason = RejectReason | 'malformed' | 'rate-limited' | 'too-many-subscribers';

export interface BridgeStats {
  /** Every message received on the bridge's channels. */
  received: number;
  /** Status requests answered with a snapshot. */
  served: number;
  /** Snapshots delivered to subscribed frames. */
  pushed: number;
  /** Frames subscribed now. */
  subscribers: number;
  /** Times a snapshot was serialised (at most once per snapshot or per cache age). */
  serialised: number;
  serialiseErrors: number;
  /** Pushes that failed or were dropped because the frame left (navigated, destroyed). */
  pushDropped: number;
  /** Rejected messages by reason. */
  rejected: Record<BridgeRejectReason, number>;
}

/** A running bridge. `dispose()` unregisters everything; it is idempotent. */
export interface StatusBridge {
  dispose(): void;
  stats(): BridgeStats;
}

interface Subscription {
  key: string;
  wc: WebContentsLike;
  frame: AcceptedSender['frame'];
  isMainFrame: boolean;
}

function positive(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number`);
  return v;
}

/**
 * Registers the status channels on `ipcMain` and returns the running bridge. Throws TypeError
 * for a source without status()/on()/off() or a missing/invalid allowlist.
 */
export function createStatusBridge(source: StatusSource, ipcMain: IpcMainLike, options: StatusBridgeOptions): StatusBridge {
  if (typeof source !== 'object' || source === null || typeof source.status !== 'function'
    || typeof source.on !== 'function' || typeof source.off !== 'function') {
    throw new TypeError('exposeStatus: guard must have status(), on() and off()');
  }
  if (typeof options !== 'object' || options === null || !Array.isArray(options.allowedOrigins) || options.allowedOrigins.length === 0) {
    throw new TypeError('exposeStatus: options.allowedOrigins must be a non-empty array of origins');
  }
  const policy: SenderPolicy = {
    origins: new Set(options.allowedOrigins.map(normaliseOrigin)),
    allowSubframes: options.allowSubframes === true,
    filter: options.filter,
  };
  const now = options.now ?? Date.now;
  const limiter = new RateLimiter({
    burst: positive(options.rateLimit?.burst, 'rateLimit.burst', 30),
    perSecond: positive(options.rateLimit?.perSecond, 'rateLimit.perSecond', 20),
    now,
  });
  const maxSubscribers = positive(options.maxSubscribers, 'maxSubscribers', 256);
  const maxCacheAgeMs = positive(options.maxCacheAgeMs, 'maxCacheAgeMs', 1000);

  const stats: BridgeStats = {
    received: 0, served: 0, pushed: 0, subscribers: 0, serialised: 0, serialiseErrors: 0, pushDropped: 0,
    rejected: { 'no-sender': 0, 'no-frame': 0, origin: 0, subframe: 0, filtered: 0, malformed: 0, 'rate-limited': 0, 'too-many-subscribers': 0 },
  };

  let cache: string | null = null;
  let cacheAt = 0;
  function serialise(status: unknown): string | null {
    try {
      if (typeof status !== 'object' || status === null) throw new TypeError('status is not an object');
      const json = JSON.stringify(status);
      stats.serialised++;
      return json;
    } catch {
      stats.serialiseErrors++;
      return null;
    }
  }
  function current(): string {
    if (cache === null || now() - cacheAt >= maxCacheAgeMs) {
      let fresh: string | null = null;
      try {
        fresh = serialise(source.status());
      } catch {
        stats.serialiseErrors++;
      }
      if (fresh !== null) {
        cache = fresh;
        cacheAt = now();
      }
    }
    return cache ?? REFUSALS.unavailable;
  }

  const subs = new Map<string, Subscription>();
  // One 'destroyed' listener per webContents, however many of its frames subscribed.
  const destroyHooks = new Map<number, () => void>();

  function dropWebContents(id: number): void {
    // The webContents emitted 'destroyed' (its once-listener is already gone).
    for (const [key, s] of subs) if (s.wc.id === id) subs.delete(key);
    destroyHooks.delete(id);
    limiter.forget(id);
    stats.subscribers = subs.size;
  }

  function unhook(wc: WebContentsLike): void {
    for (const s of subs.values()) if (s.wc === wc) return;
    const hook = destroyHooks.get(wc.id);
    if (hook !== undefined) {
      destroyHooks.delete(wc.id);
      try { wc.removeListener?.('destroyed', hook); } catch { /* already gone */ }
    }
  }

  function deliver(s: Subscription, json: string): boolean {
    try {
      if (s.wc.isDestroyed() || s.frame.detached === true) return false;
      // The frame may have navigated to another origin since it subscribed: check again.
      const origin = frameOrigin(s.frame);
      if (origin === null || !policy.origins.has(origin)) return false;
      if (typeof s.frame.send === 'function') s.frame.send(CHANNELS.push, json);
      else if (s.isMainFrame && typeof s.wc.send === 'function') s.wc.send(CHANNELS.push, json);
      else return false;
      stats.pushed++;
      return true;
    } catch {
      return false;
    }
  }

  function pushAll(json: string): void {
    for (const [key, s] of subs) {
      if (!deliver(s, json)) {
        stats.pushDropped++;
        subs.delete(key);
        unhook(s.wc);
      }
    }
    stats.subscribers = subs.size;
  }

  // Common gate for every message: arity, sender, rate. Returns the sender or a refusal.
  function admit(event: SenderEventLike, args: unknown[]): AcceptedSender | BridgeRejectReason {
    stats.received++;
    if (args.length !== 0) return 'malformed';
    if (typeof event !== 'object' || event === null) return 'no-sender';
    const v = checkSender(event, policy);
    if (!v.ok) return v.reason;
    if (!limiter.take(v.webContents.id)) return 'rate-limited';
    return v;
  }

  const onGet: Listener = (event, ...args) => {
    const v = admit(event, args);
    if (typeof v === 'string') {
      stats.rejected[v]++;
      return v === 'malformed' ? REFUSALS.malformed : v === 'rate-limited' ? REFUSALS['rate-limited'] : REFUSALS.refused;
    }
    const reply = current();
    if (reply !== REFUSALS.unavailable) stats.served++;
    return reply;
  };

  const onSubscribe: Listener = (event, ...args) => {
    const v = admit(event, args);
    if (typeof v === 'string') {
      stats.rejected[v]++;
      return;
    }
    if (subs.has(v.frameKey)) return;
    if (subs.size >= maxSubscribers) {
      stats.rejected['too-many-subscribers']++;
      return;
    }
    const s: Subscription = { key: v.frameKey, wc: v.webContents, frame: v.frame, isMainFrame: v.isMainFrame };
    subs.set(s.key, s);
    if (!destroyHooks.has(s.wc.id)) {
      const id = s.wc.id;
      const hook = (): void => dropWebContents(id);
      destroyHooks.set(id, hook);
      try { s.wc.once?.('destroyed', hook); } catch { /* a webContents without events just ages out on push */ }
    }
    stats.subscribers = subs.size;
    // Give the new subscriber the current snapshot at once.
    const json = current();
    if (json !== REFUSALS.unavailable && !deliver(s, json)) {
      stats.pushDropped++;
      subs.delete(s.key);
      unhook(s.wc);
      stats.subscribers = subs.size;
    }
  };

  const onUnsubscribe: Listener = (event, ...args) => {
    const v = admit(event, args);
    if (typeof v === 'string') {
      stats.rejected[v]++;
      return;
    }
    const s = subs.get(v.frameKey);
    if (s !== undefined) {
      subs.delete(v.frameKey);
      unhook(s.wc);
      stats.subscribers = subs.size;
    }
  };

  const onStatus = (status: Status): void => {
    // Never throw into the Guard's emit().
    const json = serialise(status);
    if (json === null) return;
    cache = json;
    cacheAt = now();
    if (subs.size > 0) pushAll(json);
  };

  ipcMain.handle(CHANNELS.get, onGet);
  ipcMain.on(CHANNELS.subscribe, onSubscribe);
  ipcMain.on(CHANNELS.unsubscribe, onUnsubscribe);
  source.on('status', onStatus);

  let disposed = false;
  return {
    dispose(): void {
      if (disposed) return;
      disposed = true;
      source.off('status', onStatus);
      ipcMain.removeHandler(CHANNELS.get);
      ipcMain.removeListener(CHANNELS.subscribe, onSubscribe);
      ipcMain.removeListener(CHANNELS.unsubscribe, onUnsubscribe);
      const wcs = new Set([...subs.values()].map((s) => s.wc));
      subs.clear();
      for (const wc of wcs) unhook(wc);
      stats.subscribers = 0;
      cache = null;
    },
    stats(): BridgeStats {
      return { ...stats, subscribers: subs.size, rejected: { ...stats.rejected } };
    },
  };
}
