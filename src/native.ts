/**
 * The one module that touches the native binding. Everything else goes through the typed
 * interface below. Loading is lazy so that pure parts of procguard (parsers, policy, the
 * renderer element) work without a native build.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { NativeLoadError } from './errors';

export type HashMode = 'blake3' | 'fast';

export interface NativeHardenOptions {
  dryRun: boolean;
  /** Step ids not to run. */
  skip: string[];
  /** Windows only: custom DACL entries (already validated and ordered by the TS layer). */
  dacl?: { allow: boolean; sid: string; mask: number }[];
}

export interface NativeHardenStep {
  id: string;
  status: 'applied' | 'already' | 'failed' | 'unsupported' | 'skipped';
  detail: string;
  errno?: number;
  verified?: boolean;
}

export interface NativeTracer {
  state: 'none' | 'attached' | 'unsupported';
  tracerPid?: number;
  detail: string;
}

export interface NativeProcessState {
  /** PR_GET_DUMPABLE value, or -1 when unsupported. */
  dumpable: number;
  /** RLIMIT_CORE soft/hard; -1 means RLIM_INFINITY; null when unsupported. */
  coreSoft: number | null;
  coreHard: number | null;
}

/** A page-aligned address range to sweep. */
export interface NativeRegion {
  start: bigint;
  end: bigint;
}

export interface NativeRegionDigests {
  /** 'ok' all pages read; 'partial' some pages unreadable (unmapped mid-sweep) or skipped; 'gone' none read. */
  state: 'ok' | 'partial' | 'gone';
  /** 16 bytes per 4 KiB page; all-zero for pages listed in `unread`. */
  digests: Buffer;
  /** Pages not read: unmapped mid-sweep, or skipped as non-resident in resident-only mode. */
  unread: number[];
  residentPages: number;
  hashNs: number;
}

/** One executable region as reported by native/memory_{win,posix}.cc. */
export interface NativeExecRegion {
  start: bigint;
  end: bigint;
  /** 'r-x', 'rwx', '--x', ... */
  protect: string;
  /** Module or mapped file path (UTF-8), null when anonymous or unknown. */
  path: string | null;
  /** 'image' (a loaded module), 'mapped' (a mapped file), 'private' (anonymous memory). */
  type: string;
  /** The reservation around the region (Windows allocation; POSIX: run of adjacent anonymous mappings). */
  allocationBase: bigint;
  allocationEnd: bigint;
  /** Byte offset of `start` in the mapped file; null when unknown (Windows images are laid out by RVA). */
  fileOffset: number | null;
  /** File identity reported with the mapping (FreeBSD, macOS); absent on Windows. */
  dev?: bigint;
  ino?: bigint;
}

export interface NativeSweepResult {
  regions: NativeRegionDigests[];
  digestSize: number;
  bytesHashed: number;
  elapsedNs: number;
  cpuNs: number;
}

export interface NativeSentinelResult {
  /** False when /proc/self/pagemap was never opened. */
  ok: boolean;
  errno?: number;
  /** CPU time the sentinel took on the scanner thread (ns). */
  cpuNs: number;
  /** Pagemap walks so far by this scanner, and ticks that skipped the walk (statm counters unchanged). */
  walks: number;
  skipped: number;
  /** Present-and-anonymous pages of the given regions (private file pages that were written), hashed. */
  hits: { region: number; page: number; read: boolean; digest: Buffer }[];
}

export interface NativeScanner {
  /** Hash all pages of the regions on the scanner's background thread. */
  sweep(
    regions: NativeRegion[],
    opts: { mode: HashMode; residentOnly: boolean; cpuFraction?: number; batchPages?: number },
  ): Promise<NativeSweepResult>;
  /** The pagemap tamper sentinel, on its own thread; `budget` is the share of a core its walks may use. */
  sentinel(regions: NativeRegion[], mode: HashMode, budget?: number): Promise<NativeSentinelResult>;
  /**
   * The sentinel as a native loop (its own thread, a tick every `periodMs`): `onHits` runs on the JS
   * thread only when the written pages or their digests changed. Never keeps the process alive.
   */
  startSentinel(
    regions: NativeRegion[],
    mode: HashMode,
    periodMs: number,
    budget: number,
    onHits: (generation: number, hits: NativeSentinelResult['hits']) => void,
  ): void;
  /** New regions for the running sentinel loop, tagged with a generation its reports carry. */
  updateSentinel(regions: NativeRegion[], generation: number): void;
  stopSentinel(): void;
  /** Per-page digests of `length` bytes of an open file at `offset` (the on-disk comparison). */
  hashFile(fd: number, offset: number, length: number, mode: HashMode): Promise<Buffer>;
  /** Stop the worker thread; pending calls reject. */
  close(): void;
}

export interface NativeBinding {
  // hardening (native/harden_*.cc)
  harden(opts: NativeHardenOptions): NativeHardenStep[];
  queryTracer(): NativeTracer;
  processState(): NativeProcessState;

  // hashing (native/hash/)
  blake3(data: Uint8Array, opts?: { key?: Uint8Array; context?: string; outLen?: number; backend?: string }): Buffer;
  hashPages(data: Uint8Array, mode: HashMode, backend?: string): Buffer;
  crc32c(data: Uint8Array, backend?: string): number;
  hashBackends(): { blake3: string[]; blake3Active: string; crc32c: string[]; crc32cActive: string };

  // memory (native/memory_*.cc)
  /** Safe read (process_vm_readv / ReadProcessMemory). Returns the bytes read (may be short), or null if none. */
  readMemory(address: bigint, length: number): Buffer | null;
  /** One byte per page: 1 resident, 0 not, from mincore. Null when unsupported. */
  residency(address: bigint, length: number): Uint8Array | null;
  /** Opens /proc/self/pagemap and keeps the fd (must happen before harden()). */
  openPagemap(): { ok: boolean; errno?: number; detail: string };
  /** For each page in the range: 0 not present, 1 present file-backed, 2 present anonymous (COW-written). Null if pagemap is not open. */
  pagemapStates(address: bigint, length: number): Uint8Array | null;
  /**
   * Windows/macOS/FreeBSD: every executable region (VirtualQuery / mach_vm_region / KERN_PROC_VMMAP
   * walk). Null on Linux, where /proc/self/maps is parsed in TS (src/integrity/regions-native.ts
   * converts this shape).
   */
  executableRegions?(): NativeExecRegion[] | null;
  pageSize(): number;
  /**
   * Linux: the kernel path safe reads use, decided by the first read: 'process_vm_readv', 'proc-mem'
   * (/proc/self/mem, opened by openPagemap(), when process_vm_readv is refused: qemu-user, seccomp),
   * 'none' (neither: every read fails), 'unknown' (nothing read yet). Null on other OSes.
   */
  memoryReader?(): { reader: 'unknown' | 'process_vm_readv' | 'proc-mem' | 'none'; errno?: number; detail?: string; memFdOpen: boolean } | null;
  /** The addon's never-executed canary code page (selftest target); null where not built in. */
  selftestCanary(): { start: bigint; size: number } | null;

  Scanner: new () => NativeScanner;
  /**
   * Pages whose digests differ (both known), pages known only in `actual` (`skip` pages are ignored
   * for those two), and every page not known in `expected`.
   */
  compareDigests(expected: Uint8Array, actual: Uint8Array, skip?: number[]): { mismatch: number[]; unknown: number[]; missing: number[] };
}

let cached: NativeBinding | null = null;
let cachedError: NativeLoadError | null = null;

/** Candidate directories for the build, in the order node-gyp-build looks at them. */
export function packageRoot(): string {
  // dist/native.js -> package root
  return path.resolve(__dirname, '..');
}

function candidatePaths(root: string): string[] {
  const out = [
    path.join(root, 'build', 'Release', 'procguard.node'),
    path.join(root, 'build', 'Debug', 'procguard.node'),
    // A cross-build kept beside the host's (scripts/arm64/build.sh writes build/linux-arm64/Release);
    // reached when build/Release is for another architecture and fails to load.
    path.join(root, 'build', `${process.platform}-${process.arch}`, 'Release', 'procguard.node'),
    path.join(root, 'prebuilds', `${process.platform}-${process.arch}`),
  ];
  return out;
}

function isBinding(b: unknown): b is NativeBinding {
  const o = b as Partial<NativeBinding> | null;
  return typeof o?.harden === 'function' && typeof o?.Scanner === 'function';
}

/**
 * Load the native binding or throw NativeLoadError naming every path tried and the fix.
 * `root` is for tests that point at a directory without a build.
 *
 * The exact file build/<config>/procguard.node is required first: node-gyp-build alone would
 * take the first *.node in build/Release, which is a test-only addon when those are built too.
 * node-gyp-build is used for the prebuilds/ directory, where it picks the best-matching file.
 */
export function loadNative(root: string = packageRoot()): NativeBinding {
  if (root === packageRoot()) {
    if (cached) return cached;
    if (cachedError) throw cachedError;
  }
  const tried = candidatePaths(root);
  const outcome: string[] = [];
  let firstCause: unknown = null;
  for (const p of tried) {
    if (!fs.existsSync(p)) {
      outcome.push(`  - ${p} (missing)`);
      continue;
    }
    try {
      let binding: unknown;
      if (p.endsWith('.node')) {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        binding = require(p);
      } else {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const load = require('node-gyp-build') as { path(dir: string): string };
        binding = require(load.path(root));
      }
      if (!isBinding(binding)) throw new Error('the loaded module is not the procguard binding (missing exports)');
      if (root === packageRoot()) cached = binding;
      return binding;
    } catch (cause) {
      firstCause ??= cause;
      const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
      outcome.push(`  - ${p} (exists, failed: ${reason})`);
    }
  }
  const err = new NativeLoadError(
    [
      `procguard: cannot load the native addon (${firstCause ? 'a build exists but failed to load' : 'no build found'}).`,
      `Paths tried:`,
      ...outcome,
      `Remedy: install a C++ toolchain (Linux: g++ make python3; macOS: Xcode command line tools;`,
      `Windows: Visual Studio Build Tools) and run \`npm rebuild procguard\` (in Electron apps:`,
      `\`npx @electron/rebuild\` is not needed, the addon uses Node-API and one build serves every Electron).`,
    ].join('\n'),
    tried,
    firstCause ?? undefined,
  );
  if (root === packageRoot()) cachedError = err;
  throw err;
}

/** True when the native addon loads; never throws. */
export function nativeAvailable(): boolean {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
}
