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
  /** Null when the name field is absent; ' (deleted)' suffix stripped; '\012' decoded to '\n'. */
  path: string | null;
  /** The name ended with ' (deleted)' (file unlinked after mapping, memfd, SysV shm, ...). */
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

function parseLine(line: string, lineNo: number, source: string): MapsEntry {
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
  let deleted = false;
  if (path !== null && path.endsWith(DELETED) && path.length > DELETED.length) {
    deleted = true;
    path = path.slice(0, -DELETED.length);
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
export function parseMaps(text: string, source = '<maps>'): MapsEntry[] {
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
    out.push(parseLine(line, lineNo, source));
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
// eslint-disable-next-line @typescript-eslint/require-await -- a sync read on purpose (below); async keeps errors as rejections
export async function readMapsAt(p: string): Promise<MapsEntry[]> {
  // A synchronous read: procfs text comes from kernel memory (microseconds), and one read call
  // keeps the snapshot consistent; fs.promises.readFile would cost thread-pool round trips.
  return readMapsAtSync(p);
}

function readMapsAtSync(p: string): MapsEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (cause) {
    throw new ProcfsUnreadableError(p, cause);
  }
  return parseMaps(text, p);
}

/** Synchronous readMaps. */
export function readMapsSync(pid: number | 'self' = 'self'): MapsEntry[] {
  return readMapsAtSync(mapsPath(pid));
}
