/**
 * procguard/preload: exposes `window.procguard` = { getStatus(), onStatus(cb) } through
 * contextBridge. Works in a sandboxed renderer (`sandbox: true`, `contextIsolation: true`),
 * where a preload can only `require('electron')`: this file must not require anything else at
 * run time (type-only imports are erased; channel names are inlined and a test checks them
 * against channels.ts and checks the emitted file's requires).
 *
 * The page never sees ipcRenderer or an IPC event: callbacks receive only the status, a
 * deep-frozen plain object decoded from the JSON the main process sends.
 */
import type { Status } from '../types';

// Copies of channels.ts (see the header comment for why they are not imported).
const CH_GET = 'procguard:status:get';
const CH_SUBSCRIBE = 'procguard:status:subscribe';
const CH_UNSUBSCRIBE = 'procguard:status:unsubscribe';
const CH_PUSH = 'procguard:status:push';
const API_KEY = 'procguard';

/** The object `window.procguard` holds in the page. */
export interface ProcguardApi {
  /** The current status snapshot; rejects when the main process refuses (origin, rate, ...). */
  getStatus(): Promise<Status>;
  /**
   * Calls `cb` with every new snapshot; returns a function that stops it. When the main process
   * refuses the subscription (origin, filter, too many subscribers, rate) `onError` gets the
   * reason as an Error and nothing more arrives; a later onStatus() call asks again.
   */
  onStatus(cb: (status: Status) => void, onError?: (err: Error) => void): () => void;
}

/** The part of Electron's `ipcRenderer` the API uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  send(channel: string, ...args: unknown[]): void;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/** A refusal from the main process (the `procguardError` reply), as opposed to a bad payload. */
class RefusalError extends Error {}

/** Parses a reply or push from the main process. Throws on a refusal or anything not a v1 Status. */
function decode(payload: unknown): Status {
  if (typeof payload !== 'string') throw new Error('procguard: malformed status reply');
  const parsed: unknown = JSON.parse(payload);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('procguard: malformed status reply');
  const refusal = (parsed as { procguardError?: unknown }).procguardError;
  if (typeof refusal === 'string') throw new RefusalError(`procguard: status request ${refusal === 'refused' ? 'refused by the main process' : refusal}`);
  if ((parsed as { version?: unknown }).version !== 1) throw new Error('procguard: unsupported status version');
  return deepFreeze(parsed as Status);
}

/** Builds the API over an ipcRenderer. Exported for tests; the page only sees the exposed copy. */
export function createProcguardApi(ipc: IpcRendererLike): ProcguardApi {
  const listeners = new Set<{ cb: (status: Status) => void; onError?: (err: Error) => void }>();
  let subscribed = false;

  // Receives (event, payload); only the decoded status is passed on, never the event.
  const onPush = (_event: unknown, payload: unknown): void => {
    let status: Status;
    try {
      status = decode(payload);
    } catch (err) {
      if (err instanceof RefusalError) refused(err);
      return;
    }
    for (const entry of [...listeners]) {
      try {
        entry.cb(status);
      } catch (err) {
        console.error('procguard: onStatus callback threw', err);
      }
    }
  };

  // The main process refused the subscription: it holds none for this frame. Tell every caller,
  // and let the next onStatus() subscribe again.
  function refused(err: RefusalError): void {
    if (!subscribed) return;
    subscribed = false;
    ipc.removeListener(CH_PUSH, onPush);
    for (const entry of [...listeners]) {
      try {
        entry.onError?.(new Error(err.message));
      } catch (e) {
        console.error('procguard: onStatus error callback threw', e);
      }
    }
  }

  const api: ProcguardApi = {
    getStatus(): Promise<Status> {
      return ipc.invoke(CH_GET).then(decode);
    },
    onStatus(cb: (status: Status) => void, onError?: (err: Error) => void): () => void {
      if (typeof cb !== 'function') throw new TypeError('procguard.onStatus: callback must be a function');
      if (onError !== undefined && typeof onError !== 'function') throw new TypeError('procguard.onStatus: onError must be a function');
      const entry = onError === undefined ? { cb } : { cb, onError };
      listeners.add(entry);
      if (!subscribed) {
        subscribed = true;
        ipc.on(CH_PUSH, onPush);
        ipc.send(CH_SUBSCRIBE);
      }
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        listeners.delete(entry);
        if (listeners.size === 0 && subscribed) {
          subscribed = false;
          ipc.removeListener(CH_PUSH, onPush);
          ipc.send(CH_UNSUBSCRIBE);
        }
      };
    },
  };
  return Object.freeze(api);
}

/** Test hook: the channel names this file uses, to compare with channels.ts. */
export const PRELOAD_CHANNELS = Object.freeze({ get: CH_GET, subscribe: CH_SUBSCRIBE, unsubscribe: CH_UNSUBSCRIBE, push: CH_PUSH, apiKey: API_KEY });

// Runs when Electron loads this file as a preload. `require` here is Electron's (in a sandboxed
// renderer, a shim that only knows 'electron' and a few builtins).
declare const require: (id: 'electron') => { contextBridge?: { exposeInMainWorld(key: string, api: unknown): void }; ipcRenderer?: IpcRendererLike };
declare const process: { type?: string } | undefined;
if (typeof process !== 'undefined' && process !== undefined && process.type === 'renderer') {
  const { contextBridge, ipcRenderer } = require('electron');
  if (contextBridge === undefined || ipcRenderer === undefined) {
    console.error('procguard/preload: contextBridge or ipcRenderer unavailable; window.procguard not exposed');
  } else {
    try {
      contextBridge.exposeInMainWorld(API_KEY, createProcguardApi(ipcRenderer));
    } catch (err) {
      // contextBridge throws when contextIsolation is off; the window audit reports that too.
      console.error('procguard/preload: window.procguard not exposed (contextIsolation must be enabled):', err);
    }
  }
}
