/**
 * The one module that touches the native binding. Everything else goes through the typed
 * interface below. Loading is lazy so that pure parts of procguard (parsers, policy, the
 * renderer element) work without a native build.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { NativeLoadError } from './errors';
import type { WindowsSandboxFacts } from './types';

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

/** One executable region as reported by native/memory/memory_{win,posix}.cc. */
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

/** A region of a code-monitor pass: the range and the file page it shows. */
export interface NativePassRegion extends NativeRegion {
  /** Baseline key: 'dev:inode' (CodeRegion.fileKey) or 'vdso'. */
  fileKey: string;
  /** Byte offset of `start` in the file (4096-aligned). */
  fileOffset: number;
  /** First-seen pages take the file's digest (needs a file adopted with adoptFile). */
  compareDisk: boolean;
}

/** A page reference by file: page index `filePage` of `fileKey`. */
export interface NativePageRef {
  fileKey: string;
  filePage: number;
}

/** A confirmed change: re-read after the pass, mapping re-checked, located against the file. */
export interface NativeChange extends NativePageRef {
  /** Index of the region in the pass (or sentinel) region list, and page index within it. */
  region: number;
  page: number;
  /** Address of the page. */
  address: bigint;
  /** Baseline and current digests (hex, 16 bytes). */
  expected: string;
  actual: string;
  /** Memory already differed from the file when the page was first seen. */
  preexisting: boolean;
  /** False where the OS has no maps file: the caller must re-check the mapping itself. */
  mapsChecked: boolean;
  /** The file page was read and compared: `differingBytes`, `pageOffsets`, `firstXor` are valid. */
  located: boolean;
  locateUnavailable?: string;
  differingBytes: number;
  /** Offsets within the page of the first (up to 32) differing bytes. */
  pageOffsets: number[];
  firstXor: number;
}

export interface NativePassResult {
  changes: NativeChange[];
  /** Indices into `watch` of pages read this pass and equal to their baseline. */
  matched: number[];
  regions: { pages: number; hashed: number; resident: number; unread: number; fromFile: number }[];
  /** Bytes read and hashed once; extra file reads for the on-disk comparison; pages read from the file. */
  bytesHashed: number;
  secondReadBytes: number;
  fileReadBytes: number;
  /** Bytes hashed in place in the page cache (the zero-copy view), not copied. */
  viewBytes: number;
  elapsedNs: number;
  cpuNs: number;
  /** The scanner was closed mid-pass: nothing was confirmed. */
  cancelled: boolean;
}

export interface NativeSentinelReport {
  changes: NativeChange[];
  /** Written pages equal to their baseline again (restored). */
  matched: NativePageRef[];
}

export interface NativeScanner {
  /** Hash all pages of the regions on the scanner's background thread (plain sweep: scan, bench). */
  sweep(
    regions: NativeRegion[],
    opts: { mode: HashMode; residentOnly: boolean; cpuFraction?: number; batchPages?: number },
  ): Promise<NativeSweepResult>;
  /**
   * One code-monitor pass as one native job: reads each page once (memory, or the file for pages
   * not mapped in), compares with the baseline the scanner keeps, adopts first-seen pages, and
   * returns only confirmed changes. `priority` runs it on a second thread (not behind a paced pass)
   * and leaves progress() alone. `watch`: pages with open findings, reported in `matched` when read
   * and equal to their baseline.
   */
  pass(
    regions: NativePassRegion[],
    opts: {
      mode: HashMode;
      residentOnly: boolean;
      cpuFraction?: number;
      priority?: boolean;
      watch?: NativePageRef[];
      /** Hash present page-cache pages in place through a leased view of the file (default true). */
      zeroCopy?: boolean;
      /** A file's first pass: measure which read is cheaper ('auto', default) or force one. */
      firstRead?: 'auto' | 'view' | 'copy';
    },
  ): Promise<NativePassResult>;
  /** The engine keeps its own duplicate of `fd` (the file mapped as `fileKey`); close yours after. */
  adoptFile(fileKey: string, fd: number): { ok: boolean; errno?: number };
  dropFile(fileKey: string): void;
  /** Progress of the running full pass (atomic counters; cheap, synchronous). */
  progress(): { passActive: boolean; pagesDone: number; pagesTotal: number; /** ms since the last progress on the monotonic health clock; -1 before any. */ lastProgressAgeMs: number };
  baselineBytes(): number;
  hasBaseline(fileKey: string): boolean;
  /** Baseline digests of file pages [firstPage, firstPage + pages) (16 bytes each, zero = unknown). */
  pageCacheDigests(fileKey: string, firstPage: number, pages: number): Buffer;
  /**
   * The sentinel as a native loop (its own thread, a tick every `periodMs`): `onReport` runs on the
   * JS thread only when confirmed changes or restores differ from the last report. Never keeps the
   * process alive.
   */
  startSentinel(regions: NativePassRegion[], mode: HashMode, periodMs: number, budget: number, onReport: (r: NativeSentinelReport) => void): void;
  /** New regions for the running sentinel loop. */
  updateSentinel(regions: NativePassRegion[]): void;
  stopSentinel(): void;
  sentinelInfo(): { running: boolean; /** ms since the last tick (monotonic). */ lastTickAgeMs?: number };
  /** Per-page digests of `length` bytes of an open file at `offset` (at most 16 GiB). */
  hashFile(fd: number, offset: number, length: number, mode: HashMode): Promise<Buffer>;
  /** Stop the threads; pending calls reject. */
  close(): void;
}

/** What the fast watch loop (native/watch/watch_linux.cc) reports: a kernel-signature change and/or file events. */
export interface NativeWatchReport {
  kernel: boolean;
  wds: number[];
  /** inotify masks, one per wd (OR of the burst's events). */
  masks: number[];
  error?: string;
}

export interface NativeWatcher {
  /** inotify watch; the identity of the inode now at `path` (the caller checks it is the mapped one). */
  addWatch(path: string): { wd: number; devMajor: number; devMinor: number; ino: bigint } | { errno: number; error: string };
  removeWatch(wd: number): boolean;
  stats(): { running: boolean; ticks?: number; reports?: number; /** ms since the last tick (monotonic). */ lastTickAgeMs?: number; cpuMs?: number; tid?: number; watches?: number; inotify?: boolean; inotifyError?: string };
  /** Stops and joins the loop thread; idempotent. */
  close(): void;
}

/** One child's job for treeCodeScan: its file-backed executable mappings, with the identity maps showed. */
export interface NativeTreeJob {
  pid: number;
  /** The process's start time (/proc/<pid>/stat field 22): when given, a reused pid answers ok: false, errno 3 (ESRCH). */
  startTicks?: bigint;
  /** Linux: the file-backed code mappings to check. Windows: unused (the main module and DLLs are found natively). */
  regions: { start: bigint; end: bigint; fileOffset: number; path: string; devMajor: number; devMinor: number; ino: bigint }[];
  /** Windows: the creation time from treeProcesses(); a process with another one is refused (reused pid). */
  startTime?: bigint;
  /** Windows: compare the DLLs from the first loaded at or above this address on (the last pass's nextModuleCursor). */
  moduleCursor?: bigint;
  /** Windows: bytes of DLL executable sections compared per pass (default 32 MiB, native/tree/tree.h kTreeDllBudget). */
  moduleBudget?: number;
}

/** Windows: one image (the main module, or a DLL) compared in a treeCodeScan pass. */
export interface NativeTreeModule {
  path: string;
  base: bigint;
  relocationDelta: bigint;
  ok: boolean;
  errno?: number;
  detail?: string;
  unsupported?: boolean;
  pages: number;
  filePages: number;
}

/** Windows: one descendant from treeProcesses() (native/tree/tree_win.cc); a fact is null when unreadable. */
export interface NativeTreeProcess extends WindowsSandboxFacts {
  pid: number;
  ppid: number;
  /** Creation time (FILETIME: 100 ns units since 1601): with the pid, the identity. */
  startTime: bigint;
  exe: string | null;
  commandLine: string | null;
  /** What could not be read, and why. */
  detail?: string;
}

/** A page of a child's code mapping that pagemap showed written (present or swapped, not file-backed). */
export interface NativeTreeHit {
  region: number;
  address: bigint;
  fileOffset: number;
  /** 'modified' differs from the file; 'equal' written but equal to it; 'unreadable' see detail. */
  state: 'modified' | 'equal' | 'unreadable';
  firstDiff?: number;
  diffBytes?: number;
  fileByte?: number;
  memByte?: number;
  detail?: string;
}

export interface NativeTreeResult {
  pid: number;
  ok: boolean;
  errno?: number;
  detail?: string;
  pages: number;
  filePages: number;
  pagemapBytes: number;
  readBytes: number;
  /** The PAGEMAP_SCAN ioctl (Linux 6.7) found the written pages; false: pagemap entries were read (pagemapBytes). */
  pagemapScan: boolean;
  /** Written pages found; `hits` holds the first 4096 of them (native/tree/tree.h kTreeMaxHits). */
  writtenPages: number;
  /** Set when a read of a mapped file did not return in time (native/tree/tree_files.h): why. */
  fileStalled?: string;
  hits: NativeTreeHit[];
  /** Windows: the main module is of a kind not compared (a 32-bit image); `ok` is false, not a checker error. */
  unsupported?: boolean;
  /** Windows: the main module compared (hits' fileOffset is then an RVA), its load address and relocation delta. */
  module?: string;
  imageBase?: bigint;
  relocationDelta?: bigint;
  /** Windows: the images compared in this pass, the main module first; a hit's `region` indexes this. */
  modules?: NativeTreeModule[];
  /** Windows: the base of every DLL loaded in the process (the main module's is imageBase). */
  loadedBases?: bigint[];
  /** Windows: where the next pass goes on with the DLLs (moduleCursor); 0n: this pass compared them all. */
  nextModuleCursor?: bigint;
}

/** What the tree sentinel (native/tree/tree_sentinel_linux.cc) reports, only on a change. */
export type NativeTreeSentinelEvent =
  | { kind: 'exited'; pid: number; startTicks: bigint }
  /** leaderChanged: the leader's isolation lines changed (re-read its status); tracedTid 0: no thread traced. */
  | { kind: 'threads'; pid: number; startTicks: bigint; leaderChanged: boolean; tracedTid: number; tracerPid: number }
  /** Every written page of the child's code regions now (hit.region indexes the regions given to setRegions). */
  | { kind: 'code'; pid: number; startTicks: bigint; result: NativeTreeResult };

export interface NativeTreeSentinel {
  /** Watches the process with this pid and start time; { errno: 3 } when it exited or the pid is another process's. */
  add(pid: number, startTicks: bigint): true | { errno: number; error: string };
  setRegions(pid: number, startTicks: bigint, regions: NativeTreeJob['regions']): void;
  remove(pid: number, startTicks: bigint): void;
  stats(): { running: boolean; ticks?: number; walks?: number; rechecks?: number; threadReads?: number; relists?: number; reports?: number; processes?: number; threads?: number; walkCpuMs?: number; deferred?: number; tokensMs?: number };
  /** Stops (waits for a tick in progress) and closes every kept fd; idempotent. */
  close(): void;
}

export interface NativeBinding {
  // hardening (native/harden/harden_*.cc)
  harden(opts: NativeHardenOptions): NativeHardenStep[];
  queryTracer(): NativeTracer;
  processState(): NativeProcessState;

  // hashing (native/hash/)
  blake3(data: Uint8Array, opts?: { key?: Uint8Array; context?: string; outLen?: number; backend?: string }): Buffer;
  /** BLAKE3-256 of the parts' concatenation, without concatenating them. */
  blake3Parts(parts: readonly Uint8Array[]): Buffer;
  hashPages(data: Uint8Array, mode: HashMode, backend?: string): Buffer;
  crc32c(data: Uint8Array, backend?: string): number;
  hashBackends(): { blake3: string[]; blake3Active: string; crc32c: string[]; crc32cActive: string };
  /** Sets the process-wide kernels (benchmark routes, tests); same digests, other speed. RangeError for an unknown name. */
  setHashBackends(opts: { blake3?: string; crc32c?: string }): { blake3: string[]; blake3Active: string; crc32c: string[]; crc32cActive: string };

  // memory (native/memory/memory_*.cc)
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
   * How a file's first pass reads its page-cache pages in this process (native/scanner/first_read.h): the
   * first two eligible chunks time the in-place view and a copy; 'probing' until both are measured.
   * Costs are thread CPU per page, hashing included (-1: not measured yet).
   */
  firstReadChoice(): { route: 'probing' | 'view' | 'copy'; viewNsPerPage: number; copyNsPerPage: number };
  /** Linux only: the fast watch loop (kernel signature every `periodMs`, inotify on code files). */
  Watcher?: new (periodMs: number, onReport: (r: NativeWatchReport) => void) => NativeWatcher;
  /** Linux and Windows (absent elsewhere): the process tree's code check, one background job per pass (native/tree/tree_{linux,win}.cc). */
  treeCodeScan?(jobs: NativeTreeJob[]): Promise<NativeTreeResult[]>;
  /** Linux only: descendants of `root` from the /proc children files (parents first); null when the kernel has none. */
  treeDescendants?(root: number): number[] | null;
  /** Linux only: the process tree's fast loop on the shared ticker (native/tree/tree_sentinel_linux.cc). */
  TreeSentinel?: new (periodMs: number, threadSlices: number, budget: number, onReport: (events: NativeTreeSentinelEvent[]) => void) => NativeTreeSentinel;
  /** Windows only: descendants of `root` with command line and sandbox facts, parents first (native/tree/tree_win.cc). */
  treeProcesses?(root: number): NativeTreeProcess[];
  /** Windows mingw build only: the module Node-API was bound to (the executable that loaded the addon). */
  nodeApiHost?(): string;
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
  // Windows only: the mingw cross-build (scripts/windows/build-addon.mjs) writes its addon per
  // platform so it never collides with the host's build/Release; that is what runs under Wine.
  if (process.platform === 'win32') {
    out.splice(2, 0, path.join(root, 'build', `${process.platform}-${process.arch}`, 'Release', 'procguard.node'));
  }
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
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a native addon at a path found at run time
        binding = require(p);
      } else {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when a prebuilds/ directory exists
        const load = require('node-gyp-build') as { path(dir: string): string };
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the prebuild node-gyp-build picked
        binding = require(load.path(root));
      }
      if (!isBinding(binding)) throw new Error('the loaded module is not the procguard binding (missing exports)');
      if (root === packageRoot()) cached = binding;
      return binding;
    } catch (cause) {
      firstCause ??= cause;
      const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
      // Windows says only "Module not found." when a DLL the addon imports is missing.
      const hint = process.platform === 'win32' && /module not found|module could not be found/i.test(reason) ? ' (a DLL the addon imports was not found)' : '';
      outcome.push(`  - ${p} (exists, failed: ${reason}${hint})`);
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
