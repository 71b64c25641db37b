/**
 * Who may talk to the status bridge. Pure functions over the plain fields of an Electron IPC
 * event (`sender`, `senderFrame`), so they run and are tested under plain Node.
 */

/** The fields of Electron's `WebFrameMain` the policy reads. */
export interface FrameLike {
  readonly origin?: unknown;
  readonly url?: unknown;
  readonly parent?: unknown;
  readonly detached?: unknown;
}

/**
 * The webContents events the bridge listens to, with Electron's listener signatures:
 * 'destroyed' (), 'render-process-gone' (event, details), 'did-frame-navigate' (event, url,
 * httpResponseCode, httpStatusText, isMainFrame, frameProcessId, frameRoutingId), which Electron
 * emits for every committed cross-document navigation of any frame, the main frame included, and
 * 'did-fail-provisional-load' (event, errorCode, errorDescription, validatedURL, isMainFrame,
 * frameProcessId, frameRoutingId), emitted instead when the committed document is an error page.
 */
export type WebContentsEventName = 'destroyed' | 'render-process-gone' | 'did-frame-navigate' | 'did-fail-provisional-load';

/** The fields of Electron's `WebContents` the bridge uses. */
export interface WebContentsLike {
  readonly id: number;
  isDestroyed(): boolean;
  send?(channel: string, ...args: unknown[]): void;
  on?(event: WebContentsEventName, listener: (...args: never[]) => void): unknown;
  once?(event: WebContentsEventName, listener: (...args: never[]) => void): unknown;
  removeListener?(event: WebContentsEventName, listener: (...args: never[]) => void): unknown;
}

/** The fields of Electron's `IpcMainEvent` / `IpcMainInvokeEvent` the bridge reads. */
export interface SenderEventLike {
  readonly sender?: unknown;
  readonly senderFrame?: unknown;
  readonly processId?: unknown;
  readonly frameId?: unknown;
  /** IpcMainEvent only: sends to the frame that sent the message. */
  readonly reply?: unknown;
}

export type RejectReason = 'no-sender' | 'no-frame' | 'origin' | 'subframe' | 'filtered';

export interface AcceptedSender {
  ok: true;
  webContents: WebContentsLike;
  frame: FrameLike & { send?(channel: string, ...args: unknown[]): void };
  origin: string;
  isMainFrame: boolean;
  /** Stable per frame while it lives: `<webContentsId>:<processId>:<frameId>`. */
  frameKey: string;
  processId: number;
  frameId: number;
}
export type SenderVerdict = AcceptedSender | { ok: false; reason: RejectReason };

/** The key of one frame of one webContents, as IPC events (processId, frameId) and navigation events (frameProcessId, frameRoutingId) give it. */
export function frameKeyOf(webContentsId: number, processId: number, frameId: number): string {
  return `${webContentsId}:${processId}:${frameId}`;
}

const SPECIAL = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:']);
const ORIGIN_RE = /^([a-z][a-z0-9+.-]*):\/\/([^/?#@\s\\]*)$/i;

/**
 * Normalises one allowlist entry to the form Chromium serialises origins in (RFC 6454:
 * lower-case scheme and host, default port omitted). Throws TypeError for anything that is not
 * an exact origin: paths, wildcards and the opaque origin "null" (which every sandboxed iframe
 * and data: URL shares, so allowing it would allow them all).
 */
export function normaliseOrigin(entry: unknown): string {
  if (typeof entry !== 'string') throw new TypeError('allowedOrigins entries must be strings');
  const trimmed = entry.trim();
  if (trimmed === 'file://' || trimmed === 'file:///') return 'file://';
  const m = ORIGIN_RE.exec(trimmed);
  if (m === null || m[2] === '' || trimmed.includes('*')) {
    throw new TypeError(`allowedOrigins entry ${JSON.stringify(entry)} is not an exact origin like "app://main", "https://example.com" or "file://"`);
  }
  const scheme = m[1].toLowerCase() + ':';
  if (SPECIAL.has(scheme)) return new URL(trimmed).origin;
  return `${scheme}//${m[2].toLowerCase()}`;
}

/**
 * The serialised origin of a frame (WebFrameMain.origin, Electron 21+, backported to 19 and 20), or
 * null. Fails closed where the field is missing: a URL does not give the origin. A sandboxed
 * iframe or a CSP-sandboxed document at an allowed URL has the opaque origin "null", and every
 * local page has a file: URL, so an origin derived from the URL would admit both.
 */
export function frameOrigin(frame: FrameLike): string | null {
  return typeof frame.origin === 'string' && frame.origin !== '' ? frame.origin : null;
}

export interface SenderPolicy {
  readonly origins: ReadonlySet<string>;
  readonly allowSubframes: boolean;
  readonly filter?: (info: { origin: string; url: string; webContentsId: number; isMainFrame: boolean }) => boolean;
}

function isWebContents(v: unknown): v is WebContentsLike {
  return typeof v === 'object' && v !== null && typeof (v as WebContentsLike).id === 'number'
    && typeof (v as WebContentsLike).isDestroyed === 'function';
}

/**
 * Decides whether an IPC event comes from a frame allowed to read the status. Constant work:
 * a few property reads and one set lookup, so rejecting a flood stays cheap.
 */
export function checkSender(event: SenderEventLike, policy: SenderPolicy): SenderVerdict {
  const wc = event.sender;
  if (!isWebContents(wc) || wc.isDestroyed()) return { ok: false, reason: 'no-sender' };
  const frame = event.senderFrame;
  // senderFrame is null once the frame navigated away or was destroyed.
  if (typeof frame !== 'object' || frame === null) return { ok: false, reason: 'no-frame' };
  const f = frame as FrameLike;
  if (f.detached === true) return { ok: false, reason: 'no-frame' };
  const origin = frameOrigin(f);
  if (origin === null || !policy.origins.has(origin)) return { ok: false, reason: 'origin' };
  // Fail closed: a frame whose parent we cannot read is not known to be a main frame.
  const isMainFrame = f.parent === null;
  if (!isMainFrame && !policy.allowSubframes) return { ok: false, reason: 'subframe' };
  if (policy.filter !== undefined) {
    const url = typeof f.url === 'string' ? f.url : '';
    let allowed: boolean;
    try {
      allowed = policy.filter({ origin, url, webContentsId: wc.id, isMainFrame }) === true;
    } catch {
      allowed = false;
    }
    if (!allowed) return { ok: false, reason: 'filtered' };
  }
  const processId = typeof event.processId === 'number' ? event.processId : -1;
  const frameId = typeof event.frameId === 'number' ? event.frameId : -1;
  return { ok: true, webContents: wc, frame: f, origin, isMainFrame, frameKey: frameKeyOf(wc.id, processId, frameId), processId, frameId };
}
