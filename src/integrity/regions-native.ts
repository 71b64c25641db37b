/**
 * Executable regions on Windows, macOS and FreeBSD: turns the native region walk
 * (`loadNative().executableRegions()`, native/memory/memory_win.cc and memory_posix.cc) into the same
 * CodeRegion shape the Linux /proc/self/maps classifier produces (regions.ts).
 *
 * Keys. Linux keys file code by `dev:inode` from maps. Here:
 * - macOS and FreeBSD report the vnode identity with each mapping: the key is `${dev}:${ino}`
 *   (decimal), the same numbers Node's fs.fstat gives for the file, so an fd can be checked
 *   against the mapping the way Linux does it.
 * - Windows reports only a path. The key is the identity of the file at that path,
 *   `${dev}:${ino}` from fs.statSync (volume serial number : file index). A loaded image cannot be
 *   written or deleted while mapped, but it can be renamed and replaced; the identity is therefore
 *   taken once per (load address, path) and cached, so a replacement on disk does not re-key code
 *   that is still mapped. When the file cannot be stat'ed the key falls back to `path:<path>`.
 * Offsets. macOS/FreeBSD give the file offset of each mapping. A Windows image is mapped section by
 * section at its RVAs (and relocated), so its offset is `start - allocationBase`, an RVA, marked
 * with `offsetKind: 'rva'`; page keys stay stable across a split or a remap either way.
 * JIT. Private executable memory inside a large reservation (V8 reserves its code range as one
 * block of 128 MiB or more and commits pieces inside it) is 'jit'; elsewhere it is
 * 'anonymous-exec' (a trampoline, or injected code). The reservation is the Windows allocation
 * (AllocationBase) or, on macOS/FreeBSD, the run of adjacent anonymous mappings around it.
 */
import * as fs from 'node:fs';
import type { NativeBinding, NativeExecRegion } from '../native';
import { ScannerError, UnsupportedPlatformError } from '../errors';
import type { ClassifyOptions, CodeRegion, JitSpan, RegionClass } from './regions';

/** Same threshold as the Linux classifier: V8 code ranges are 128-512 MiB; a trampoline page is not. */
const JIT_RESERVATION_MIN = 64n * 1024n * 1024n;

export interface NativeClassifyOptions extends ClassifyOptions {
  /** Platform whose path rules apply (Windows paths compare case-insensitively). Default process.platform. */
  platform?: NodeJS.Platform;
  /**
   * File identity of a module path, `${dev}:${ino}`, or null when it cannot be had. Used only for
   * regions the OS reports without an identity (Windows). Default: fs.statSync with bigint.
   */
  identify?: (path: string) => string | null;
  /**
   * Identities already taken, by `${allocationBase}|${path}`; pass the same Map to every call so a
   * module keeps its key for as long as it stays mapped at the same address.
   */
  identityCache?: Map<string, string | null>;
}

/** `${dev}:${ino}` of the file at `path` (Windows: volume serial : file index), null if unavailable. */
export function statIdentity(path: string): string | null {
  try {
    const st = fs.statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

function samePath(a: string, b: string, platform: NodeJS.Platform): boolean {
  if (platform !== 'win32') return a === b;
  const norm = (p: string) => p.replace(/\//g, '\\').toLowerCase();
  return norm(a) === norm(b);
}

function inSpans(start: bigint, end: bigint, spans: readonly JitSpan[]): boolean {
  return spans.some((s) => start >= s.start && end <= s.end);
}

function fileClass(path: string, opts: NativeClassifyOptions, platform: NodeJS.Platform): RegionClass {
  if (opts.mainExecutable !== null && samePath(path, opts.mainExecutable, platform)) return 'main-executable';
  if (path.toLowerCase().endsWith('.node')) return 'native-addon';
  return 'shared-library';
}

function checkRegion(r: NativeExecRegion, i: number): void {
  if (typeof r.start !== 'bigint' || typeof r.end !== 'bigint' || r.end <= r.start)
    throw new ScannerError(`executableRegions()[${i}] is not a valid address range`);
}

/**
 * Classifies the native region walk into CodeRegions (pure apart from `identify`, which tests
 * inject). Regions are returned in the input order; filtering follows classifyRegions():
 * `mainExecutableOnly` keeps only the main executable, and file code mapped writable is dropped
 * unless `includeWritable`.
 */
export function classifyNativeRegions(regions: readonly NativeExecRegion[], opts: NativeClassifyOptions): CodeRegion[] {
  const platform = opts.platform ?? process.platform;
  const spans = opts.jitSpans ?? [];
  const identify = opts.identify ?? statIdentity;
  const cache = opts.identityCache ?? new Map<string, string | null>();
  const out: CodeRegion[] = [];
  regions.forEach((r, i) => {
    checkRegion(r, i);
    const writable = r.protect.length > 1 && r.protect[1] === 'w';
    const fileBacked = (r.type === 'image' || r.type === 'mapped') && r.path !== null && r.path !== '';
    let klass: RegionClass;
    let fileKey: string | null = null;
    let fileOffset = 0;
    let offsetKind: 'file' | 'rva' | undefined;
    if (fileBacked) {
      const path = r.path as string;
      klass = fileClass(path, opts, platform);
      if (r.dev !== undefined && r.ino !== undefined) {
        fileKey = `${r.dev}:${r.ino}`;
      } else {
        const ck = `${r.allocationBase}|${path}`;
        let id = cache.get(ck);
        if (id === undefined) {
          id = identify(path);
          cache.set(ck, id);
        }
        fileKey = id ?? `path:${platform === 'win32' ? path.toLowerCase() : path}`;
      }
      if (r.fileOffset !== null) {
        fileOffset = r.fileOffset;
        offsetKind = 'file';
      } else {
        fileOffset = Number(r.start - r.allocationBase);
        offsetKind = 'rva';
      }
    } else if (r.type === 'image' || r.type === 'mapped') {
      // A file mapping whose file has no name any more: FreeBSD/macOS report no path for a
      // deleted vnode. Without a name or identity it cannot be keyed or compared.
      klass = r.dev !== undefined && r.ino !== undefined ? 'deleted-file' : 'anonymous-exec';
      if (klass === 'deleted-file') {
        fileKey = `${r.dev}:${r.ino}`;
        fileOffset = r.fileOffset ?? Number(r.start - r.allocationBase);
        offsetKind = r.fileOffset !== null ? 'file' : 'rva';
      }
    } else {
      const jit = inSpans(r.start, r.end, spans) || r.allocationEnd - r.allocationBase >= JIT_RESERVATION_MIN;
      klass = jit ? 'jit' : 'anonymous-exec';
    }
    if (opts.mainExecutableOnly && klass !== 'main-executable') return;
    if (fileKey !== null && writable && !opts.includeWritable) return;
    const region: CodeRegion = { start: r.start, end: r.end, klass, perms: r.protect, path: r.path, fileKey, fileOffset, writable };
    if (offsetKind !== undefined) region.offsetKind = offsetKind;
    out.push(region);
  });
  return out;
}

/**
 * The executable regions of this process on Windows, macOS or FreeBSD, classified: what
 * CodeMonitor.discover() needs in place of readMaps + classifyRegions on those systems.
 * Throws UnsupportedPlatformError where the native walk does not exist (Linux: use the maps
 * parser, or an addon without the export) and ScannerError when the walk itself fails.
 */
export function discoverNativeRegions(native: NativeBinding, opts: NativeClassifyOptions): CodeRegion[] {
  if (typeof native.executableRegions !== 'function') throw new UnsupportedPlatformError('the native executable-region walk');
  let regions: NativeExecRegion[] | null;
  try {
    regions = native.executableRegions();
  } catch (e) {
    throw new ScannerError(`executable-region walk failed: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  if (regions === null) {
    // The addon returns null both where the walk does not exist (Linux) and where it failed.
    const platform = opts.platform ?? process.platform;
    if (platform === 'linux') throw new UnsupportedPlatformError('the native executable-region walk', platform);
    throw new ScannerError(`executable-region walk failed on ${platform}`);
  }
  return classifyNativeRegions(regions, opts);
}
