/**
 * IPC channel names of the status bridge. They are namespaced so they cannot collide with an
 * app's own channels. The preload inlines copies of these strings (a sandboxed preload cannot
 * require this file); a test asserts that both sides agree.
 */
export const CHANNELS = Object.freeze({
  /** invoke: renderer asks for the current status; the reply is the serialised snapshot. */
  get: 'procguard:status:get',
  /** send: renderer asks to receive every new snapshot. */
  subscribe: 'procguard:status:subscribe',
  /** send: renderer stops receiving snapshots. */
  unsubscribe: 'procguard:status:unsubscribe',
  /** main -> renderer: a new serialised snapshot. */
  push: 'procguard:status:push',
} as const);

/** Name of the object the preload exposes on `window`. */
export const API_KEY = 'procguard';

/**
 * Replies the bridge sends instead of a snapshot when it refuses a request (as the reply to a get,
 * or on the push channel to a refused subscribe). The preload turns these into rejected promises
 * and onStatus error callbacks. A snapshot never has a `procguardError` field.
 */
export type RefusalReason = 'refused' | 'rate-limited' | 'malformed' | 'unavailable' | 'too-many-subscribers';
export const REFUSALS: Readonly<Record<RefusalReason, string>> = Object.freeze({
  refused: '{"procguardError":"refused"}',
  'rate-limited': '{"procguardError":"rate-limited"}',
  malformed: '{"procguardError":"malformed"}',
  unavailable: '{"procguardError":"unavailable"}',
  'too-many-subscribers': '{"procguardError":"too-many-subscribers"}',
});
