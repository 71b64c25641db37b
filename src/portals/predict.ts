/**
 * Predict, without any D-Bus traffic, whether xdg-desktop-portal is reachable from this process.
 * harden() is synchronous, so this must be too, and it must cost nothing measurable when there is
 * no session bus: environment variables first, then at most one stat of $XDG_RUNTIME_DIR/bus; the
 * service-file lookups happen only when a session bus exists.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PortalPrediction } from '../types';

/** The D-Bus activation file every xdg-desktop-portal installs (the frontend's well-known name). */
export const PORTAL_SERVICE_FILE = 'org.freedesktop.portal.Desktop.service';

/** What predictPortals() reads; tests pass their own. */
export interface PortalEnvironment {
  env: NodeJS.ProcessEnv;
  exists(file: string): boolean;
}

const realEnvironment = (): PortalEnvironment => ({ env: process.env, exists: (f) => fs.existsSync(f) });

/**
 * The session bus address as a D-Bus client would pick it: DBUS_SESSION_BUS_ADDRESS, else the
 * systemd/dbus-user-session socket $XDG_RUNTIME_DIR/bus. null when there is none ('disabled:' too).
 */
export function sessionBusAddress(e: PortalEnvironment = realEnvironment()): string | null {
  const fromEnv = e.env.DBUS_SESSION_BUS_ADDRESS;
  if (typeof fromEnv === 'string' && fromEnv !== '') return fromEnv.startsWith('disabled:') ? null : fromEnv;
  const runtime = e.env.XDG_RUNTIME_DIR;
  if (typeof runtime === 'string' && path.isAbsolute(runtime)) {
    const socket = path.join(runtime, 'bus');
    if (e.exists(socket)) return `unix:path=${socket}`;
  }
  return null;
}

/** The directories a session bus looks in for activatable services (D-Bus specification, "Message Bus Starting Services"). */
function serviceDirs(env: NodeJS.ProcessEnv): string[] {
  const abs = (list: string | undefined, fallback: string[]) => {
    const dirs = (list ?? '').split(':').filter((d) => path.isAbsolute(d));
    return dirs.length > 0 ? dirs : fallback;
  };
  const dataHome = abs(env.XDG_DATA_HOME, env.HOME && path.isAbsolute(env.HOME) ? [path.join(env.HOME, '.local/share')] : []);
  const dataDirs = abs(env.XDG_DATA_DIRS, ['/usr/local/share', '/usr/share']);
  const runtime = env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR) ? [env.XDG_RUNTIME_DIR] : [];
  const dirs = [...runtime, ...dataHome, ...dataDirs, '/usr/share'].map((d) => path.join(d, 'dbus-1/services'));
  return [...new Set(dirs)];
}

/** Whether a portal is likely reachable from this process, and through what. */
export function predictPortals(e: PortalEnvironment = realEnvironment()): PortalPrediction {
  if (process.platform !== 'linux') {
    return { via: 'none', likely: false, busAddress: null, detail: `xdg-desktop-portal is a Linux desktop service (platform ${process.platform})` };
  }
  const busAddress = sessionBusAddress(e);
  if (busAddress === null) {
    const why = e.env.DBUS_SESSION_BUS_ADDRESS?.startsWith('disabled:') ? 'DBUS_SESSION_BUS_ADDRESS is disabled:' : 'DBUS_SESSION_BUS_ADDRESS unset, no $XDG_RUNTIME_DIR/bus';
    return { via: 'none', likely: false, busAddress: null, detail: `no session bus (${why})` };
  }
  if ((typeof e.env.FLATPAK_ID === 'string' && e.env.FLATPAK_ID !== '') || e.exists('/.flatpak-info')) {
    return { via: 'flatpak', likely: true, busAddress, detail: `Flatpak sandbox${e.env.FLATPAK_ID ? ` (${e.env.FLATPAK_ID})` : ''}: every file dialog goes through the portal` };
  }
  if (typeof e.env.SNAP === 'string' && e.env.SNAP !== '') {
    return { via: 'snap', likely: true, busAddress, detail: `snap confinement (${e.env.SNAP_NAME ?? e.env.SNAP}): dialogs go through the portal` };
  }
  const file = serviceDirs(e.env)
    .map((d) => path.join(d, PORTAL_SERVICE_FILE))
    .find((f) => e.exists(f));
  if (file !== undefined) return { via: 'session-bus', likely: true, busAddress, detail: `session bus ${busAddress}; portal service ${file}` };
  return { via: 'session-bus', likely: false, busAddress, detail: `session bus ${busAddress}, but no ${PORTAL_SERVICE_FILE} in its service directories` };
}
