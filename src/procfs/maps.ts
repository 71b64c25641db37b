/**
 * Pure parser for /proc/<pid>/maps (Linux). Shared by the code monitor and the kernel monitor.
 *
 * Kernel format (fs/proc/task_mmu.c, show_vma_header_prefix + show_map_vma):
 *   "<start>-<end> <perms> <offset> <major>:<minor> <inode> " then, only when the mapping has a
 *   name, padding to a fixed column and the name. So a mapping without a name ends in "<inode> ",
 *   and the name is everything after the padding: it may contain spaces. The kernel escapes '\n'
 *   in file names as "\012" (seq_path with esc="\n"); we decode that so `path` is the real name.
 *   (A file literally named with the four characters "\012" is indistinguishable: kernel limitation.)
 * File names are bytes; the text is decoded as UTF-8, so a name that is not valid UTF-8 has its bad
 * bytes replaced by U+FFFD in `path` (dev and inode still identify the file exactly).
 *
 * " (deleted)": the kernel (d_path) appends it to the name of a file that was unlinked after it
 * was mapped (an update, `mv -f` over it, memfd and SysV shm, which never had a link). The text
 * alone cannot tell that from a live file whose name really ends in " (deleted)": both print
 * "x.so (deleted)". Where the caller can look at the file system (readMaps and friends), the
 * printed text is stat'ed: if it names a file with the mapping's inode, that file is the mapping
 * (its real name ends in the suffix, and it is not deleted); otherwise the suffix is the kernel's
 * mark and is removed once. A pure parse (parseMaps without `namesInode`) takes the kernel's reading.
 */
import * as fs from 'node:fs';
import { ProcfsParseError, ProcfsUnreadableError } from '../errors';

export interface MapsEntry {
  start: bigint;
  end: bigint;
  /** The four permission characters as printed, e.g. 'r-xp'. */
  perms: string;
  read: boolean;
  write: boolean;
  exec: boolean;
  /** 's' in perms[3] (MAP_SHARED); 'p' is private/copy-on-write. */
  shared: boolean;
  /** File offset of `start` (hex in the text). */
  offset: number;
  /** 'major:minor' in hex as printed, lowercase, e.g. 'fd:01'. */
  dev: string;
  /** Decimal as printed ('0' for anonymous mappings). */
  inode: string;
  /**
   * The mapped file's name: null when the name field is absent; '\012' decoded to '\n'; the
   * kernel's ' (deleted)' mark removed when `deleted` (a real name ending in ' (deleted)' is kept).
   */
  path: string | null;
  /** The name field exactly as printed (with '\012' decoded), kernel mark included; null when absent. */
  pathText: string | null;
  /** The file was unlinked after it was mapped (kernel mark; memfd and SysV shm always carry it). */
  deleted: boolean;
  /** A kernel pseudo-name such as '[heap]', '[stack]', '[vdso]', '[anon:name]'. */
  pseudo: boolean;
}

const HEX = /^[0-9a-fA-F]{1,16}$/;
const DEC = /^[0-9]{1,20}$/;
const DEV = /^[0-9a-fA-F]{1,8}:[0-9a-fA-F]{1,8}$/;
const PERMS = /^[r-][w-][x-][ps]$/;
const DELETED = ' (deleted)';
const MAX_U64 = (1n << 64n) - 1n;

/** Reads one space-delimited column starting at `pos`; returns [value, position after it]. */
function column(line: string, pos: number): [string, number] {
  let end = line.indexOf(' ', pos);
  if (end < 0) end = line.length;
  return [line.slice(pos, end), end];
}

/** Skips one or more spaces; returns the new position, or -1 when there is no space at `pos`. */
function skipSpaces(line: string, pos: number): number {
  if (line.charCodeAt(pos) !== 0x20) return -1;
  while (line.charCodeAt(pos) === 0x20) pos++;
  return pos;
}

/** Options of parseMaps. */
export interface ParseMapsOptions {
  /**
   * Whether the file at `path` is now the inode `inode` (decimal): used to tell a live file named
   * "x (deleted)" from the kernel's mark. Without it the suffix is always the kernel's mark.
   */
  namesInode?: (path: string, inode: string) => boolean;
}

function parseLine(line: string, lineNo: number, source: string, opts: ParseMapsOptions): MapsEntry {
  const fail = (reason: string): never => {
    throw new ProcfsParseError(source, lineNo, reason);
  };
  const names = ['address range', 'permissions', 'offset', 'device', 'inode'];
  const cols: string[] = [];
  let pos = 0;
  for (let i = 0; i < 5; i++) {
    if (i > 0) {
      const next = skipSpaces(line, pos);
      if (next < 0 || next >= line.length) fail(`missing ${names[i]} column`);
      pos = next;
    }
    const [value, after] = column(line, pos);
    if (value.length === 0) fail(`missing ${names[i]} column`);
    cols.push(value);
    pos = after;
  }
  const [range, perms, offsetText, devText, inode] = cols;

  const dash = range.indexOf('-');
  if (dash < 0) fail(`bad address range '${clip(range)}'`);
  const startText = range.slice(0, dash);
  const endText = range.slice(dash + 1);
  if (!HEX.test(startText) || !HEX.test(endText)) fail(`bad address range '${clip(range)}'`);
  const start = BigInt('0x' + startText);
  const end = BigInt('0x' + endText);
  if (start >= end) fail(`empty or inverted address range '${clip(range)}'`);
  if (end > MAX_U64) fail(`address out of range '${clip(range)}'`);

  if (!PERMS.test(perms)) fail(`bad permissions '${clip(perms)}'`);
  if (!HEX.test(offsetText)) fail(`bad offset '${clip(offsetText)}'`);
  const offsetBig = BigInt('0x' + offsetText);
  // Refuse rather than silently lose precision in a JS number.
  if (offsetBig > BigInt(Number.MAX_SAFE_INTEGER)) fail(`offset too large '${clip(offsetText)}'`);
  if (!DEV.test(devText)) fail(`bad device '${clip(devText)}'`);
  if (!DEC.test(inode) || BigInt(inode) > MAX_U64) fail(`bad inode '${clip(inode)}'`);

  // After the inode: either nothing / only spaces (no name), or padding then the name.
  let path: string | null = null;
  if (pos < line.length) {
    const namePos = skipSpaces(line, pos);
    if (namePos < 0) fail(`bad inode '${clip(inode + line.slice(pos, pos + 8))}'`);
    if (namePos < line.length) path = line.slice(namePos).replace(/\\012/g, '\n');
  }
  const pathText = path;
  let deleted = false;
  if (path !== null && path.endsWith(DELETED) && path.length > DELETED.length) {
    // Only a file name the kernel printed can carry its mark; inode 0 has no file to ask about.
    const live = opts.namesInode !== undefined && path.startsWith('/') && inode !== '0' && opts.namesInode(path, inode);
    if (!live) {
      deleted = true;
      path = path.slice(0, -DELETED.length);
    }
  }
  const pseudo = path !== null && path.length >= 2 && path.startsWith('[') && path.endsWith(']');
  return {
    start,
    end,
    perms,
    read: perms[0] === 'r',
    write: perms[1] === 'w',
    exec: perms[2] === 'x',
    shared: perms[3] === 's',
    offset: Number(offsetBig),
    dev: devText.toLowerCase(),
    inode: inode,
    path,
    pathText,
    deleted,
    pseudo,
  };
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + '...' : s;
}

/**
 * Parse the full text of a maps file. Lines are separated by '\n'; a final newline is optional.
 * Throws ProcfsParseError (with the 1-based line number) on any malformed line, including an
 * empty line in the middle of the text.
 */
export function parseMaps(text: string, source = '<maps>', opts: ParseMapsOptions = {}): MapsEntry[] {
  if (typeof text !== 'string') throw new TypeError('parseMaps: text must be a string');
  const out: MapsEntry[] = [];
  if (text.length === 0) return out;
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  let lineNo = 0;
  let pos = 0;
  while (pos <= body.length) {
    let nl = body.indexOf('\n', pos);
    if (nl < 0) nl = body.length;
    lineNo++;
    const line = body.slice(pos, nl);
    if (line.length === 0) throw new ProcfsParseError(source, lineNo, 'empty line');
    out.push(parseLine(line, lineNo, source, opts));
    pos = nl + 1;
  }
  return out;
}

/** Format one entry as the kernel prints it (64-bit column padding). Used by tests and tools. */
export function formatMapsLine(e: MapsEntry): string {
  const hex = (v: bigint | number, w: number) => v.toString(16).padStart(w, '0');
  let s = `${hex(e.start, 8)}-${hex(e.end, 8)} ${e.perms} ${hex(e.offset, 8)} ${e.dev} ${e.inode} `;
  if (e.path === null) return s;
  // seq_pad: pad to column 72 (25 + 6 * sizeof(void *) - 1), then one more space.
  s = s.padEnd(72, ' ') + ' ';
  return s + e.path.replace(/\n/g, '\\012') + (e.deleted ? DELETED : '');
}

function mapsPath(pid: number | 'self'): string {
  if (pid !== 'self' && (!Number.isSafeInteger(pid) || pid <= 0)) {
    throw new RangeError(`pid must be a positive integer or 'self', got ${String(pid)}`);
  }
  return `/proc/${pid}/maps`;
}

/**
 * Read and parse /proc/<pid>/maps. The whole file is read with one fs call (the kernel produces
 * it record by record; a line-by-line stream would interleave with our own allocations).
 * Throws ProcfsUnreadableError when the file cannot be read, ProcfsParseError on bad text.
 */
export async function readMaps(pid: number | 'self' = 'self'): Promise<MapsEntry[]> {
  return readMapsAt(mapsPath(pid));
}

/** readMaps() of a file at any path (captured text, or a maps file of another mount of procfs). */
export async function readMapsAt(p: string): Promise<MapsEntry[]> {
  // A synchronous read: procfs text comes from kernel memory (microseconds), and one read call
  // keeps the snapshot consistent; fs.promises.readFile would cost thread-pool round trips.
  return readMapsAtSync(p);
}

/**
 * st_dev as /proc/<pid>/maps prints it: "major:minor" in lower-case hex, at least two digits each
 * (glibc's gnu_dev_major/minor decoding of the new_encode_dev() value stat returns).
 */
export function mapsDev(stDev: bigint): string {
  const major = ((stDev >> 8n) & 0xfffn) | ((stDev >> 32n) & 0xfffff000n);
  const minor = (stDev & 0xffn) | ((stDev >> 12n) & 0xffffff00n);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

// Answers by (mapped inode, printed path). An answer cannot go stale while the mapping exists: the
// mapped inode stays allocated, so no other file on its file system gets its number; an unlinked
// inode cannot be linked again (only O_TMPFILE files can); and a rename or unlink of the mapped
// name changes the printed text. Bounded: cleared when it grows past NAMES_CACHE_MAX.
const namesCache = new Map<string, boolean>();
const NAMES_CACHE_MAX = 4096;

/**
 * Whether the file at `path` is now inode `inode`. Compares the inode only, not the device: the
 * device maps prints is the backing superblock's, which differs from stat()'s st_dev on overlayfs
 * and btrfs subvolumes, and the mapped inode's number is unique on its file system (see above).
 */
export function namesInode(path: string, inode: string): boolean {
  const key = `${inode}|${path}`;
  const hit = namesCache.get(key);
  if (hit !== undefined) return hit;
  let same = false;
  try {
    same = fs.statSync(path, { bigint: true }).ino.toString() === inode;
  } catch {
    same = false;
  }
  if (namesCache.size >= NAMES_CACHE_MAX) namesCache.clear();
  namesCache.set(key, same);
  return same;
}

function readMapsAtSync(p: string): MapsEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (cause) {
    throw new ProcfsUnreadableError(p, cause);
  }
  return parseMaps(text, p, { namesInode });
}

/** Synchronous readMaps. */
export function readMapsSync(pid: number | 'self' = 'self'): MapsEntry[] {
  return readMapsAtSync(mapsPath(pid));
}
