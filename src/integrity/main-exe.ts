/**
 * Identity of the main executable, for the region classifier (Linux).
 *
 * The main executable is the file behind /proc/self/exe, not a path: after an update or a
 * same-user `mv -f` over the binary, its mappings print "<path> (deleted)" and the path names
 * another file (or none), but the code still running is the mapped inode. So it is identified
 * once, at start, by inode (stat('/proc/self/exe') follows the kernel's link to the very file that
 * was exec'd, deleted or not) and then recognised in the maps by the `dev:inode` key the maps print.
 *
 * The device number maps print (the backing superblock's) can differ from stat()'s st_dev
 * (overlayfs, btrfs subvolumes), so the key is taken from the maps entry: the one with the exe's
 * inode and stat's device; else the one whose printed name is readlink('/proc/self/exe') (both are
 * the kernel's d_path of the same file); else the only device that inode appears on.
 */
import * as fs from 'node:fs';
import { mapsDev, readMapsSync, type MapsEntry } from '../procfs/maps';

/** `dev:inode` (maps format, e.g. 'fe:00:260689') of the main executable, or null when it cannot be had. */
export function mainExecutableKey(maps?: readonly MapsEntry[]): string | null {
  if (process.platform !== 'linux') return null;
  let ino: string;
  let dev: string;
  let linkText: string | null = null;
  try {
    const st = fs.statSync('/proc/self/exe', { bigint: true });
    ino = st.ino.toString();
    dev = mapsDev(st.dev);
  } catch {
    return null;
  }
  try {
    linkText = fs.readlinkSync('/proc/self/exe');
  } catch {
    linkText = null;
  }
  let entries: readonly MapsEntry[];
  try {
    entries = maps ?? readMapsSync('self');
  } catch {
    return `${dev}:${ino}`;
  }
  const same = entries.filter((e) => e.inode === ino && e.path !== null && !e.pseudo);
  const byDev = same.find((e) => e.dev === dev);
  if (byDev !== undefined) return `${byDev.dev}:${ino}`;
  const byName = linkText === null ? undefined : same.find((e) => e.pathText === linkText);
  if (byName !== undefined) return `${byName.dev}:${ino}`;
  const devs = new Set(same.map((e) => e.dev));
  if (devs.size === 1) return `${[...devs][0]}:${ino}`;
  return `${dev}:${ino}`;
}
