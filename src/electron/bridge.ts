/**
 * The main-process side of the read-only status bridge, free of Electron so it runs under plain
 * Node: it takes an `ipcMain`-like object. `main.ts` wires it to the real `ipcMain`.
 *
 * Threat model: any renderer may be compromised and may send anything on any channel, as often
 * as it likes. The bridge therefore (1) registers only read channels, so nothing a renderer
 * sends can change the guard; (2) checks every sender's frame origin against an allowlist and
 * rejects subframes unless allowed, and runs the same whole check again before every push; (3)
 * rate-limits and caps subscriptions per webContents, so one renderer cannot starve another; (4)
 * answers from a cached serialised snapshot, so a request costs a few property reads and never a
 * deep copy; (5) sends the renderer view of the status (renderer-view.ts), never the full record. A subscription ends when its frame navigates or commits an error page, its renderer
 * dies or its webContents is destroyed: a new document must subscribe (and pass the check) itself.
 */
import type { Status } from '../types';
import { CHANNELS, REFUSALS } from './channels';
import { RateLimiter } from './rate-limit';
import { createRendererView } from './renderer-view';
import {
  checkSender,
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
  /** Most frames of one webContents subscribed at once (default 32). Other webContents are not affected. */
  maxSubscribersPerWebContents?: number;
  /** Deprecated alias of `maxSubscribersPerWebContents` (it was one global cap before 0.2). */
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
  processId: number;
  frameId: number;
  isMainFrame: boolean;
}

/** The listeners the bridge holds on one webContents while any of its frames is subscribed. */
interface WebContentsHooks {
  wc: WebContentsLike;
  /** Keys of this webContents' subscriptions. */
  keys: Set<string>;
  destroyed: () => void;
  gone: () => void;
  /** 'did-frame-navigate' (event, url, httpResponseCode, httpStatusText, isMainFrame, frameProcessId, frameRoutingId). */
  navigated: (event: unknown, url: unknown, code: unknown, text: unknown, isMainFrame: unknown, processId: unknown, routingId: unknown) => void;
  /** 'did-fail-provisional-load' (event, errorCode, errorDescription, validatedURL, isMainFrame, frameProcessId, frameRoutingId): an error page committed. */
  errorPage: (event: unknown, code: unknown, text: unknown, url: unknown, isMainFrame: unknown, processId: unknown, routingId: unknown) => void;
}

/**
 * Whether subscription `s` is of the frame that (processId, routingId) names now. Electron's
 * navigation events carry the ids of the frame's *new* host, while the WebFrameMain kept at
 * subscribe time follows its frame to that host (WebFrameMain::UpdateRenderFrameHost): so compare
 * both the ids the subscription was made with and the frame object's current ids. A frame object
 * whose ids can no longer be read was disposed: its document is gone too.
 */
function isFrame(s: Subscription, processId: number, routingId: number): boolean {
  if (s.processId === processId && s.frameId === routingId) return true;
  try {
    const f = s.frame as { processId?: unknown; routingId?: unknown };
    return f.processId === processId && f.routingId === routingId;
  } catch {
    return true;
  }
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
  // Answers to refused subscribes cost an IPC send each: a flood of refused subscribes gets at
  // most this many answers per webContents (30, then 20 per second), the rest only counted.
  const answers = new RateLimiter({ burst: 30, perSecond: 20, now });
  const maxPerWebContents = options.maxSubscribersPerWebContents !== undefined
    ? positive(options.maxSubscribersPerWebContents, 'maxSubscribersPerWebContents', 32)
    : positive(options.maxSubscribers, 'maxSubscribers', 32);
  const maxCacheAgeMs = positive(options.maxCacheAgeMs, 'maxCacheAgeMs', 1000);

  const stats: BridgeStats = {
    received: 0, served: 0, pushed: 0, subscribers: 0, serialised: 0, serialiseErrors: 0, pushDropped: 0,
    rejected: { 'no-sender': 0, 'no-frame': 0, origin: 0, subframe: 0, filtered: 0, malformed: 0, 'rate-limited': 0, 'too-many-subscribers': 0 },
  };

  let cache: string | null = null;
  let cacheAt = 0;
  // Renderers get the element's view, never other windows' titles/URLs or argv/env values.
  const view = createRendererView();
  function serialise(status: unknown): string | null {
    try {
      if (typeof status !== 'object' || status === null) throw new TypeError('status is not an object');
      const json = JSON.stringify(view(status as Status));
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
  // One set of listeners per webContents, however many of its frames subscribed.
  const hooks = new Map<number, WebContentsHooks>();

  function listen(h: WebContentsHooks, on: boolean): void {
    const wc = h.wc;
    const pairs: [Parameters<NonNullable<WebContentsLike['on']>>[0], (...args: never[]) => void][] = [
      ['destroyed', h.destroyed], ['render-process-gone', h.gone], ['did-frame-navigate', h.navigated],
      ['did-fail-provisional-load', h.errorPage],
    ];
    for (const [event, fn] of pairs) {
      // A webContents without events only loses its subscriptions at the next push's check.
      try {
        if (!on) wc.removeListener?.(event, fn);
        else if (event === 'destroyed') wc.once?.(event, fn);
        else wc.on?.(event, fn);
      } catch { /* already gone */ }
    }
  }

  function removeSub(key: string): void {
    const s = subs.get(key);
    if (s === undefined) return;
    subs.delete(key);
    const h = hooks.get(s.wc.id);
    if (h !== undefined) {
      h.keys.delete(key);
      if (h.keys.size === 0) {
        hooks.delete(s.wc.id);
        listen(h, false);
      }
    }
    stats.subscribers = subs.size;
  }

  /** Ends every subscription of webContents `id`; `destroyed`: it is gone for good, forget its buckets too. */
  function dropAll(id: number, destroyed: boolean): void {
    const h = hooks.get(id);
    if (h !== undefined) for (const key of [...h.keys]) removeSub(key);
    // Only a destroyed webContents resets its rate buckets: a navigation must not refill them.
    if (destroyed) {
      limiter.forget(id);
      answers.forget(id);
    }
  }

  /**
   * A new document committed in a frame of webContents `id` (a navigation or an error page): the
   * document that subscribed there is gone. A main frame's new document also ends every subframe
   * of the old one. A subframe is found by frame identity (isFrame), whatever ids the event carries.
   */
  function frameReplaced(id: number, isMainFrame: unknown, processId: unknown, routingId: unknown): void {
    if (isMainFrame === true) return dropAll(id, false);
    const h = hooks.get(id);
    if (h === undefined) return;
    // An event we cannot place: fail closed.
    if (typeof processId !== 'number' || typeof routingId !== 'number') return dropAll(id, false);
    for (const key of [...h.keys]) {
      const s = subs.get(key);
      if (s !== undefined && isFrame(s, processId, routingId)) removeSub(key);
    }
  }

  function addSub(s: Subscription): void {
    // Electron never reuses a webContents id, so the id names the webContents.
    let h = hooks.get(s.wc.id);
    if (h === undefined) {
      const id = s.wc.id;
      const created: WebContentsHooks = {
        wc: s.wc,
        keys: new Set(),
        destroyed: () => dropAll(id, true),
        // The renderer process died: every document of this webContents is gone.
        gone: () => dropAll(id, false),
        // A committed cross-document navigation. In-page navigations (anchors, pushState) keep the
        // document and emit 'did-navigate-in-page' instead; the push check covers their new URL.
        navigated: (_event, _url, _code, _text, isMainFrame, processId, routingId) => frameReplaced(id, isMainFrame, processId, routingId),
        // An error page committed: Electron emits no 'did-frame-navigate' for it. ('did-fail-load'
        // follows for the same navigation, and also fires for a document whose load merely stopped,
        // which keeps its document: it is not listened to.)
        errorPage: (_event, _code, _text, _url, isMainFrame, processId, routingId) => frameReplaced(id, isMainFrame, processId, routingId),
      };
      h = created;
      hooks.set(id, h);
      listen(h, true);
    }
    h.keys.add(s.key);
    subs.set(s.key, s);
    stats.subscribers = subs.size;
  }

  function countFor(wc: WebContentsLike): number {
    return hooks.get(wc.id)?.keys.size ?? 0;
  }

  function deliver(s: Subscription, json: string): boolean {
    try {
      // The whole sender check again (destroyed, detached, origin, subframe, the app's filter): the
      // frame may show another page now, of another origin or one the filter refuses.
      const v = checkSender({ sender: s.wc, senderFrame: s.frame, processId: s.processId, frameId: s.frameId }, policy);
      if (!v.ok || v.frameKey !== s.key) return false;
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
    for (const [key, s] of [...subs]) {
      if (!subs.has(key)) continue; // dropped by a listener the app's filter triggered
      if (!deliver(s, json)) {
        stats.pushDropped++;
        removeSub(key);
      }
    }
    stats.subscribers = subs.size;
  }

  /** Answers a refused subscribe on the push channel (the preload reports it to the page). */
  function answer(event: SenderEventLike, reason: BridgeRejectReason): void {
    const reply = typeof event === 'object' && event !== null ? event.reply : undefined;
    if (typeof reply !== 'function') return;
    const sender = event.sender as { id?: unknown } | null | undefined;
    const id = typeof sender === 'object' && sender !== null && typeof sender.id === 'number' ? sender.id : -1;
    if (!answers.take(id)) return;
    const refusal = reason === 'malformed' || reason === 'rate-limited' || reason === 'too-many-subscribers' ? REFUSALS[reason] : REFUSALS.refused;
    try {
      (reply as (channel: string, payload: string) => void).call(event, CHANNELS.push, refusal);
    } catch { /* the frame is gone: nobody to answer */ }
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
      answer(event, v);
      return;
    }
    const existing = subs.get(v.frameKey);
    if (existing !== undefined) {
      // Same frame again: keep one subscription, on the frame object this event brings.
      existing.frame = v.frame;
      existing.isMainFrame = v.isMainFrame;
      return;
    }
    // The same WebFrameMain under other ids: the frame moved to a new document (in another process)
    // and that document subscribes; the old subscription is of a document that is gone.
    for (const key of [...(hooks.get(v.webContents.id)?.keys ?? [])]) {
      if (subs.get(key)?.frame === v.frame) removeSub(key);
    }
    if (countFor(v.webContents) >= maxPerWebContents) {
      stats.rejected['too-many-subscribers']++;
      answer(event, 'too-many-subscribers');
      return;
    }
    const s: Subscription = { key: v.frameKey, wc: v.webContents, frame: v.frame, processId: v.processId, frameId: v.frameId, isMainFrame: v.isMainFrame };
    addSub(s);
    // Give the new subscriber the current snapshot at once.
    const json = current();
    if (json !== REFUSALS.unavailable && !deliver(s, json)) {
      stats.pushDropped++;
      removeSub(s.key);
    }
  };

  const onUnsubscribe: Listener = (event, ...args) => {
    const v = admit(event, args);
    if (typeof v === 'string') {
      stats.rejected[v]++;
      return;
    }
    removeSub(v.frameKey);
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
      for (const key of [...subs.keys()]) removeSub(key);
      stats.subscribers = 0;
      cache = null;
    },
    stats(): BridgeStats {
      return { ...stats, subscribers: subs.size, rejected: { ...stats.rejected } };
    },
  };
}
