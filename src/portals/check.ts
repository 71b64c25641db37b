/**
 * checkPortals(): does xdg-desktop-portal accept a NEW D-Bus connection of this process now?
 * The portal identifies the caller on the first method call of each connection (it opens
 * /proc/<pid>/root, which fails for a non-dumpable process) and caches the answer per connection,
 * so only a fresh connection tells what a file dialog opened from now on would get.
 *
 * Uses dbus-next (an optional dependency), loaded on the first call only. The check opens one
 * connection, makes one harmless call (NetworkMonitor.GetAvailable, answered by the portal frontend
 * itself, no backend or dialog involved), and closes the connection.
 */
import type { HardenReport, PortalCheck, PortalCheckResult } from '../types';
import { sessionBusAddress } from './predict';

export const PORTAL_BUS_NAME = 'org.freedesktop.portal.Desktop';
export const PORTAL_OBJECT_PATH = '/org/freedesktop/portal/desktop';
/** Every portal warning of a HardenReport starts with this (harden() and withPortalCheck() write them). */
export const PORTAL_WARNING_PREFIX = 'desktop portals:';

export interface CheckPortalsOptions {
  /** The session bus to use; defaults to DBUS_SESSION_BUS_ADDRESS or unix:path=$XDG_RUNTIME_DIR/bus. Only unix: addresses are used. */
  busAddress?: string;
  /** Give up after this long (the portal may be D-Bus activated on first use). Default 5000 ms. */
  timeoutMs?: number;
}

/** The calls tried, in order: the first the portal knows decides. Settings.Read is the fallback for portals without NetworkMonitor. */
const PROBES: readonly { iface: string; member: string; signature?: string; body?: unknown[] }[] = [
  { iface: 'org.freedesktop.portal.NetworkMonitor', member: 'GetAvailable' },
  { iface: 'org.freedesktop.portal.Settings', member: 'Read', signature: 'ss', body: ['org.freedesktop.appearance', 'color-scheme'] },
];

/** Errors GDBus returns before the portal's authorization step: they say nothing about the caller. */
const NOT_THERE = new Set(['org.freedesktop.DBus.Error.UnknownMethod', 'org.freedesktop.DBus.Error.UnknownInterface', 'org.freedesktop.DBus.Error.UnknownObject']);
const NO_PORTAL = new Set(['org.freedesktop.DBus.Error.ServiceUnknown', 'org.freedesktop.DBus.Error.NameHasNoOwner']);

/** The subset of dbus-next this module uses (so the build does not need dbus-next's types). */
interface DbusNext {
  sessionBus(opts: { busAddress: string }): DbusBus;
  Message: new (fields: { destination: string; path: string; interface: string; member: string; signature?: string; body?: unknown[] }) => unknown;
}
interface DbusBus {
  on(event: 'error', cb: (err: Error) => void): void;
  call(msg: unknown): Promise<{ body: unknown[] }>;
  disconnect(): void;
}

function loadDbusNext(): DbusNext | Error {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional dependency, loaded only when a check runs
    return require('dbus-next') as DbusNext;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

class Timeout extends Error {}

/** Classify one D-Bus error reply of a portal method (null: the interface is not there; try the next probe). */
export function classifyPortalError(name: string): PortalCheckResult | null {
  if (NOT_THERE.has(name)) return null;
  if (NO_PORTAL.has(name) || name.startsWith('org.freedesktop.DBus.Error.Spawn.')) return 'none';
  if (name === 'org.freedesktop.DBus.Error.AccessDenied') return 'primed-connections-only';
  // org.freedesktop.portal.Error.* (NotFound, NotAllowed, ...) come from the portal's method after it identified the caller.
  if (name.startsWith('org.freedesktop.portal.Error.')) return 'ok';
  return 'unknown';
}

/**
 * Ask the portal, on a new connection, whether it accepts this process. Never throws: every
 * failure is a result ('unknown' with the reason, or 'none' when there is no bus or no portal).
 * @throws RangeError only for a bad timeoutMs (before anything happens).
 */
export async function checkPortals(options: CheckPortalsOptions = {}): Promise<PortalCheck> {
  if (options === null || typeof options !== 'object') throw new TypeError('checkPortals: options must be an object');
  const timeoutMs = options.timeoutMs ?? 5000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError('checkPortals: options.timeoutMs must be a number > 0');
  if (options.busAddress !== undefined && typeof options.busAddress !== 'string') throw new TypeError('checkPortals: options.busAddress must be a string');
  const t0 = performance.now();
  const done = (result: PortalCheckResult, detail: string, method: string | null = null, errorName?: string): PortalCheck => ({
    result,
    detail,
    method,
    ...(errorName !== undefined ? { errorName } : {}),
    at: new Date().toISOString(),
    durationMs: Math.round((performance.now() - t0) * 100) / 100,
  });

  if (process.platform !== 'linux') return done('none', `xdg-desktop-portal is a Linux desktop service (platform ${process.platform})`);
  const address = options.busAddress ?? sessionBusAddress();
  if (address === null) return done('none', 'no session bus (DBUS_SESSION_BUS_ADDRESS unset, no $XDG_RUNTIME_DIR/bus)');
  // Only unix sockets: an address like unixexec: would make this check start a program.
  if (!address.split(';').every((a) => a.startsWith('unix:'))) return done('unknown', `session bus address is not a unix: address (${address}); not connecting`);
  const dbus = loadDbusNext();
  if (dbus instanceof Error) return done('unknown', `the optional dependency dbus-next cannot be loaded (${dbus.message}); install it to check portals`);

  let bus: DbusBus;
  try {
    bus = dbus.sessionBus({ busAddress: address });
  } catch (err) {
    return done('unknown', `cannot connect to the session bus ${address}: ${(err as Error).message}`);
  }
  let failed: ((err: Error) => void) | null = null;
  const connectionError = new Promise<never>((_, reject) => {
    failed = reject;
  });
  connectionError.catch(() => {}); // raced below; never an unhandled rejection
  bus.on('error', (err) => failed?.(err));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout()), timeoutMs);
  });
  timeout.catch(() => {});
  try {
    for (const p of PROBES) {
      const method = `${p.iface}.${p.member}`;
      const msg = new dbus.Message({ destination: PORTAL_BUS_NAME, path: PORTAL_OBJECT_PATH, interface: p.iface, member: p.member, signature: p.signature, body: p.body });
      try {
        await Promise.race([bus.call(msg), connectionError, timeout]);
        return done('ok', `${method} answered on a new connection: the portal accepts this process`, method);
      } catch (err) {
        if (err instanceof Timeout) return done('unknown', `no reply from the portal within ${timeoutMs} ms (${method})`, method);
        const e = err as Error & { type?: string; text?: string; code?: string };
        if (typeof e.type !== 'string') {
          const noBus = e.code === 'ENOENT' || e.code === 'ECONNREFUSED';
          return done(noBus ? 'none' : 'unknown', `session bus ${address}: ${e.message}`, method);
        }
        const result = classifyPortalError(e.type);
        if (result === null) continue;
        const text = e.text ?? e.message;
        const detail =
          result === 'primed-connections-only'
            ? `${method} on a new connection: ${e.type}: ${text}. The portal refuses connections opened from now on (file dialogs, screen cast, settings, ...); connections that made a portal call before hardening keep working`
            : result === 'ok'
              ? `${method} answered (${e.type}: ${text}) after the portal identified this process`
              : `${method}: ${e.type}: ${text}`;
        return done(result, detail, method, e.type);
      }
    }
    return done('unknown', `the portal implements none of ${PROBES.map((p) => `${p.iface}.${p.member}`).join(', ')}`);
  } finally {
    clearTimeout(timer);
    try {
      bus.disconnect();
    } catch {
      // a connection that never opened has nothing to close
    }
  }
}

/**
 * A copy of `report` carrying `check` in `report.portals.check`. When the check found new
 * connections refused and the report did not already warn about portals, a warning is added.
 */
export function withPortalCheck(report: HardenReport, check: PortalCheck): HardenReport {
  if (!report.portals) return report;
  const warnings = [...report.warnings];
  if (check.result === 'primed-connections-only' && !warnings.some((w) => w.startsWith(PORTAL_WARNING_PREFIX))) {
    warnings.push(`${PORTAL_WARNING_PREFIX} checked after harden(): ${check.detail}`);
  }
  return { ...report, warnings, portals: { ...report.portals, check } };
}
