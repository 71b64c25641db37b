/**
 * Executable regions of the process, classified, from the parsed /proc/self/maps.
 * Pure: takes MapsEntry[] and returns plain data, so it is tested on captured text.
 */
import type { MapsEntry } from '../procfs/maps';
import { PAGE_SIZE } from './constants';

export type RegionClass =
  | 'main-executable'
  | 'shared-library'
  | 'native-addon'
  | 'deleted-file'
  | 'memfd'
  | 'vdso'
  | 'jit'
  | 'anonymous-exec';

export interface CodeRegion {
  start: bigint;
  end: bigint;
  klass: RegionClass;
  perms: string;
  /** The mapped file's real name (a name that really ends in " (deleted)" keeps it); null for anonymous memory. */
  path: string | null;
  /**
   * The file was unlinked after it was mapped (an update or `mv -f` replaced it; memfd). Set by the
   * Linux classifier; the main executable keeps klass 'main-executable' and says so here.
   */
  deleted?: boolean;
  /** `dev:inode` for file-backed code (the key that survives a split or a remap), null otherwise. */
  fileKey: string | null;
  /** Byte offset of `start` in the mapped file (0 for anonymous memory). */
  fileOffset: number;
  writable: boolean;
  /**
   * What `fileOffset` measures. Absent or 'file': a byte offset in the file (Linux, macOS, FreeBSD).
   * 'rva': the offset from the module's load address (Windows images: a PE file is mapped section
   * by section at its RVAs, and relocated), so reading the file at `fileOffset` does not give the
   * mapped bytes; the on-disk comparison and byte location need the PE section table first.
   */
  offsetKind?: 'file' | 'rva';
}

/** Address spans V8 (or another JIT) owns: anonymous exec memory inside them is expected to change. */
export interface JitSpan {
  start: bigint;
  end: bigint;
}

export interface ClassifyOptions {
  /** Real path of the main executable (e.g. fs.realpathSync('/proc/self/exe')); used only without `mainExecutableKey`. */
  mainExecutable: string | null;
  /**
   * `dev:inode` of the main executable as maps prints it (mainExecutableKey() from main-exe.ts,
   * taken at start). When given, the main executable is recognised by it, also once its file was
   * deleted or replaced; the path is then not used. Linux maps only.
   */
  mainExecutableKey?: string | null;
  /** Only the main executable's code (process_consistency's default scope). */
  mainExecutableOnly?: boolean;
  /** Include file-backed code mapped writable as well as executable (rwx). */
  includeWritable?: boolean;
  /** Address spans the app declares as its own JIT's; anonymous exec memory inside them is 'jit'. */
  jitSpans?: readonly JitSpan[];
}

const PAGE = BigInt(PAGE_SIZE);

function isAnonymous(e: MapsEntry): boolean {
  return e.inode === '0' && (e.path === null || (e.pseudo && e.path.startsWith('[anon')));
}

function fileClass(e: MapsEntry, opts: ClassifyOptions): RegionClass {
  const p = e.path ?? '';
  // Identity first: the running binary stays the main executable when its file is deleted or
  // replaced (and a memfd that was exec'd is the main executable too).
  if (opts.mainExecutableKey !== undefined) {
    if (opts.mainExecutableKey !== null && `${e.dev}:${e.inode}` === opts.mainExecutableKey) return 'main-executable';
  } else if (opts.mainExecutable !== null && !e.deleted && p === opts.mainExecutable) {
    return 'main-executable';
  }
  if (e.deleted && p.startsWith('/memfd:')) return 'memfd';
  if (e.deleted) return 'deleted-file';
  if (p.endsWith('.node')) return 'native-addon';
  return 'shared-library';
}

/** Bounds of the run of adjacent anonymous mappings around maps[i]. */
function anonRun(maps: readonly MapsEntry[], i: number): JitSpan {
  let lo = i;
  while (lo > 0 && isAnonymous(maps[lo - 1]) && maps[lo - 1].end === maps[lo].start) lo--;
  let hi = i;
  while (hi + 1 < maps.length && isAnonymous(maps[hi + 1]) && maps[hi + 1].start === maps[hi].end) hi++;
  return { start: maps[lo].start, end: maps[hi].end };
}

/**
 * V8 reserves each isolate's code range as one large PROT_NONE block (128-512 MiB) and commits
 * rwx pieces inside it; a Worker thread creates a new one at run time. Anonymous exec memory
 * inside such a reservation is JIT code; a small standalone read-only exec mapping is not.
 */
const JIT_RESERVATION_MIN = 64n * 1024n * 1024n;

function inSpans(start: bigint, end: bigint, spans: readonly JitSpan[]): boolean {
  return spans.some((s) => start >= s.start && end <= s.end);
}

/** Classifies every executable mapping. Non-executable mappings are dropped. */
export function classifyRegions(maps: readonly MapsEntry[], opts: ClassifyOptions): CodeRegion[] {
  const spans = opts.jitSpans ?? [];
  const out: CodeRegion[] = [];
  for (let i = 0; i < maps.length; i++) {
    const e = maps[i];
    if (!e.exec) continue;
    if (e.path === '[vsyscall]') continue; // fixed kernel page above the user address space: not readable
    let klass: RegionClass;
    if (e.path === '[vdso]') klass = 'vdso';
    else if (isAnonymous(e) || (e.pseudo && e.inode === '0')) {
      const run = isAnonymous(e) ? anonRun(maps, i) : { start: e.start, end: e.end };
      // V8 keeps JIT and WebAssembly code writable+executable on x64 (no W^X by default), and
      // its wasm code spaces are small standalone rwx mappings at random addresses: rwx anonymous
      // memory is the JIT's. Code that was written and then sealed r-x outside a code range is not.
      const jit = inSpans(e.start, e.end, spans) || run.end - run.start >= JIT_RESERVATION_MIN || e.write;
      klass = jit ? 'jit' : 'anonymous-exec';
    }
    else klass = fileClass(e, opts);
    if (opts.mainExecutableOnly && klass !== 'main-executable') continue;
    const fileBacked = klass !== 'vdso' && klass !== 'jit' && klass !== 'anonymous-exec';
    if (fileBacked && e.write && !opts.includeWritable) continue;
    out.push({
      start: e.start,
      end: e.end,
      klass,
      perms: e.perms,
      path: e.path,
      deleted: e.deleted,
      fileKey: fileBacked ? `${e.dev}:${e.inode}` : klass === 'vdso' ? 'vdso' : null,
      fileOffset: fileBacked ? e.offset : 0,
      writable: e.write,
    });
  }
  return out;
}

/** Whether a region's code is hashed (file-backed code and the vDSO; never JIT or anonymous memory). */
export function isHashable(r: CodeRegion): boolean {
  return r.fileKey !== null;
}

/** Number of 4 KiB pages in a region. */
export function pageCount(r: { start: bigint; end: bigint }): number {
  return Number((r.end - r.start) / PAGE);
}

/** Hex address string as used in findings. */
export function hex(a: bigint): string {
  return `0x${a.toString(16)}`;
}
