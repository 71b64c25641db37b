/**
 * The code monitor: keeps a per-page baseline of every executable file mapping and re-checks it.
 * It composes four parts, each with one job:
 * - RegionSource (region-source.ts): where the regions come from;
 * - FileReference (file-reference.ts): the mapped files, handed to the engine for the disk reference;
 * - SentinelController (sentinel-controller.ts): the native tamper sentinel;
 * - FindingsBook (findings-book.ts): what a confirmed change means (findings and events);
 * - CodeFileWatch (code-files.ts, optional: watchFiles()): inotify on the mapped files through the
 *   fast loop; the monitor re-checks a written file itself and reports through one callback.
 * Each pass is one native job (scanner.pass: read each page once, compare, adopt first-seen pages,
 * confirm and locate); nothing is read or hashed on the event loop. Findings are data
 * (Observation); failures of the checker itself are thrown as typed errors.
 */
import type { CodeCoverage, Observation } from '../types';
import { loadNative, type HashMode, type NativeBinding, type NativeChange, type NativePassRegion, type NativeScanner } from '../native';
import { ScannerError } from '../errors';
import { isQemuSigtramp } from './qemu-sigtramp';
import { isHashable, pageCount, type CodeRegion, type JitSpan } from './regions';
import { RegionSource, USE_PROCFS } from './region-source';
import { FileReference } from './file-reference';
import { FindingsBook } from './findings-book';
import { SentinelController, type SentinelState } from './sentinel-controller';
import { DIGEST_SIZE, PAGE_SIZE } from './constants';
import { CodeFileWatch, type CodeFilesStatus } from './code-files';
import type { FastLoop } from '../fastloop/fast-loop';

export interface CodeMonitorOptions {
  /** 'blake3' (default): cryptographic, 128 bits kept per page. 'fast': CRC32C, for bit flips. */
  hashMode?: HashMode;
  /** Only the main executable (process_consistency's scope). Default false: every library too. */
  mainExecutableOnly?: boolean;
  /** Also hash file-backed code mapped writable+executable. Default false. */
  includeWritable?: boolean;
  /** Compare file-backed code with the file on disk when first seen. Default true. */
  compareDisk?: boolean;
  /** Hash only resident pages (mincore): no fault-in, no RSS growth. Default false. */
  residentOnly?: boolean;
  /** Discover regions once at baseline and never re-read the maps (process_consistency's option). */
  discoverOnce?: boolean;
  /** Share of one core a sweep may use (0 = unpaced). Default 0 for check(). The Guard's option of
   *  the same name reaches check() validated; the native pass takes it as its `cpuFraction`. */
  cpuBudget?: number;
  /** Address spans of the app's own JIT (anonymous exec memory inside them is expected). */
  jitSpans?: JitSpan[];
  /** Where to read the mappings from. Default /proc/self/maps (tests point it elsewhere). */
  mapsPath?: string;
  /** How a file's first pass reads its page-cache pages: 'auto' (default: in place or by copy,
   *  whichever the process measured cheaper; native/scanner/first_read.h), or one route (tests, benchmarks). */
  firstRead?: 'auto' | 'view' | 'copy';
}

export interface CodeCheckResult {
  /** Conditions open now (code-modified, differs-from-disk, anonymous-exec). */
  open: Observation[];
  /** One-shot events since the last check (code-restored, mapping-added, mapping-removed). */
  events: Observation[];
  coverage: CodeCoverage;
  durationMs: number;
}

export interface CodeProgress {
  passActive: boolean;
  pagesDone: number;
  pagesTotal: number;
  /** Date.now() of the last progress (a page batch done, a pass started or ended), for display; 0 when closed. */
  lastProgressAt: number;
  /** How long ago that was, on a monotonic clock (what health decisions use: a wall-clock step or a
   *  suspend does not change it). Before the first progress: since the monitor was created. */
  lastProgressAgeMs: number;
}

/** Where the file re-checks' results and failures go (see CodeMonitor.watchFiles). */
export interface FileResultHandlers {
  onResult(r: CodeCheckResult): void;
  onError(e: unknown): void;
}

export class CodeMonitor {
  private readonly native: NativeBinding;
  private readonly scanner: NativeScanner;
  private readonly opts: Required<Omit<CodeMonitorOptions, 'jitSpans' | 'mapsPath'>>;
  private readonly source: RegionSource;
  private readonly files: FileReference;
  private readonly book = new FindingsBook();
  private readonly sentinel: SentinelController;
  private regions: CodeRegion[] = [];
  private coverage: CodeCoverage = { regions: 0, bytes: 0, hashedBytes: 0, residentBytes: 0 };
  /** Set by the first successful check: later ones compare with it, and new files are mapping-added. */
  private baselined = false;
  private closed = false;
  /** performance.now() (monotonic) at construction. */
  private readonly createdAt = performance.now();
  /** The watch of the mapped files (watchFiles()), the files waiting for a re-check, and where results go. */
  private fileWatch: CodeFileWatch | null = null;
  private readonly fileQueue = new Set<string>();
  private fileRunning = false;
  private fileResult: FileResultHandlers | null = null;

  constructor(options: CodeMonitorOptions = {}, native: NativeBinding = loadNative()) {
    const mode = options.hashMode ?? 'blake3';
    if (mode !== 'blake3' && mode !== 'fast') throw new RangeError(`hashMode must be 'blake3' or 'fast', got '${String(mode)}'`);
    // CodeMonitor is public API of its own (procguard/internals): its constructor checks its input.
    const firstRead = options.firstRead ?? 'auto';
    if (firstRead !== 'auto' && firstRead !== 'view' && firstRead !== 'copy') throw new RangeError(`firstRead must be 'auto', 'view' or 'copy', got '${String(firstRead)}'`);
    const cpu = options.cpuBudget ?? 0;
    if (typeof cpu !== 'number' || !(cpu >= 0 && cpu <= 1)) throw new RangeError('cpuBudget must be a number from 0 to 1');
    this.opts = {
      hashMode: mode,
      mainExecutableOnly: options.mainExecutableOnly ?? false,
      includeWritable: options.includeWritable ?? false,
      compareDisk: options.compareDisk ?? true,
      residentOnly: options.residentOnly ?? false,
      discoverOnce: options.discoverOnce ?? false,
      cpuBudget: cpu,
      firstRead,
    };
    this.native = native;
    this.scanner = new native.Scanner();
    this.source = new RegionSource(native, options);
    this.files = new FileReference(this.scanner);
    this.sentinel = new SentinelController(this.scanner, mode);
    // Stop the native threads when the process exits without close(). (A terminated Worker or a
    // torn-down environment is covered natively, by an environment cleanup hook.)
    process.once('exit', this.onExit);
  }

  private readonly onExit = (): void => this.close();

  /**
   * Opens what hardening would lock away (/proc/self/pagemap: the tamper sentinel, and the read
   * path that hashes a page-cache page once for both checks). Call it before harden(); Guard does.
   */
  prepare(): { sentinel: boolean; detail: string } {
    // Linux: pagemap; Windows: the working-set "shared" bit (memory_win.cc); elsewhere none.
    if (process.platform !== 'linux' && process.platform !== 'win32') {
      const detail = `no tamper sentinel on ${process.platform}`;
      this.sentinel.unavailable(detail);
      return { sentinel: false, detail };
    }
    const r = this.native.openPagemap();
    this.sentinel.unavailable(r.ok ? null : r.detail);
    return { sentinel: r.ok, detail: r.detail };
  }

  get hashMode(): HashMode {
    return this.opts.hashMode;
  }

  /** Bytes of baseline digests held (16 per page). */
  baselineBytes(): number {
    return this.closed ? 0 : this.scanner.baselineBytes();
  }

  baselinePages(): number {
    return this.baselineBytes() / DIGEST_SIZE;
  }

  /** check() for callers that take the baseline explicitly: the first successful check is it. */
  async baseline(): Promise<CodeCheckResult> {
    return this.check();
  }

  /**
   * One full pass: re-read the mappings, read every page once, compare with the baseline. The
   * first pass that succeeds is the baseline; one that fails leaves none and the next retries.
   */
  async check(cpuBudget = this.opts.cpuBudget): Promise<CodeCheckResult> {
    this.assertOpen();
    const t0 = performance.now();
    if (!this.opts.discoverOnce || this.regions.length === 0) await this.discover();
    const hashable = this.regions.filter(isHashable);
    this.sentinel.update(this.sentinelTargets());
    const res = await this.runPass(hashable, { cpuBudget, priority: false, watch: this.book.watchList() });
    const reader = this.readerAfterPass();
    this.apply(res.changes);
    this.book.restored(res.matched.map((i) => res.watch[i]));
    const hashedBytes = res.bytesHashed;
    this.coverage = {
      regions: this.regions.length,
      bytes: hashable.reduce((n, r) => n + pageCount(r) * PAGE_SIZE, 0),
      hashedBytes,
      residentBytes: this.opts.residentOnly ? res.regions.reduce((n, r) => n + r.resident * PAGE_SIZE, 0) : hashedBytes,
      ...(reader ? { reader } : {}),
    };
    this.baselined = true;
    this.fileWatch?.sync(this.mappedFiles());
    return this.result(t0);
  }

  /**
   * The safe reader the pass used (Linux). When neither process_vm_readv nor /proc/self/mem works,
   * nothing was read from memory: a checker error, never a pass over 0 bytes.
   */
  private readerAfterPass(): CodeCoverage['reader'] | undefined {
    const r = this.native.memoryReader?.();
    if (!r || r.reader === 'unknown') return undefined;
    if (r.reader === 'none') {
      this.coverage = { ...this.coverage, hashedBytes: 0, reader: 'none' };
      throw new ScannerError(
        `no safe memory reader: ${r.detail ?? 'process_vm_readv refused'}, and /proc/self/mem is not open ` +
          '(it is opened by prepare(), which must run before harden(): a non-dumpable process cannot open it)',
      );
    }
    return r.reader;
  }

  /**
   * Unpaced re-check of only the pages of regions backed by these files ('dev:inode'): for a write
   * to a mapped code file (inotify). Runs on the engine's priority thread, so it does not wait for
   * a paced pass. Before the baseline exists it checks nothing.
   */
  async checkFiles(fileKeys: string[]): Promise<CodeCheckResult> {
    this.assertOpen();
    const t0 = performance.now();
    if (!this.baselined) return this.result(t0);
    const keys = new Set(fileKeys);
    const regions = (await this.source.read()).filter((r) => isHashable(r) && keys.has(r.fileKey!) && this.scanner.hasBaseline(r.fileKey!));
    if (regions.length > 0) {
      const watch = this.book.watchList().filter((p) => keys.has(p.fileKey));
      const res = await this.runPass(regions, { cpuBudget: 0, priority: true, watch });
      this.apply(res.changes, regions);
      this.book.restored(res.matched.map((i) => res.watch[i]));
    }
    return this.result(t0);
  }

  /**
   * Runs the sentinel continuously on its native thread; `onResult` is called (on the JS thread)
   * only when it found something new: a written page that differs, or one that was restored. The
   * loop follows the regions each full pass finds. Returns false where it cannot run.
   */
  startSentinel(periodMs: number, budget: number, onResult: (r: CodeCheckResult) => void): boolean {
    this.assertOpen();
    return this.sentinel.start(this.sentinelTargets(), periodMs, budget, (report) => {
      // Runs from a native callback: nothing may throw or reject out of here.
      try {
        if (this.closed) return;
        const t0 = performance.now();
        const before = this.book.signature();
        this.apply(report.changes);
        this.book.restored(report.matched);
        if (this.book.signature() !== before) onResult(this.result(t0));
      } catch {
        // A failing consumer callback must not take the sentinel (or the app) down.
      }
    });
  }

  /**
   * Owns the watch of the files behind executable mappings (inotify on the fast loop's thread):
   * a write to one re-checks that file's pages at once (checkFiles, queued, never overlapping) and
   * the result goes to `h.onResult`, the same shape as the sentinel's. Files this process's user
   * can write are `code-file-writable` observations, and with a pristine copy (up to
   * `pristineBytes` in all) a page-cache write is located to the byte. Without a loop (`loop` null,
   * or not running) nothing is watched and the status says why (`noLoopReason`).
   */
  watchFiles(loop: FastLoop | null, noLoopReason: string, pristineBytes: number, h: FileResultHandlers): void {
    this.assertOpen();
    this.fileWatch?.close();
    this.fileWatch = new CodeFileWatch(loop?.watcher ?? null, loop ? loop.reason : noLoopReason, pristineBytes);
    this.fileResult = h;
    loop?.onFiles((events) => this.onFileEvents(events));
    if (this.baselined) this.fileWatch.sync(this.mappedFiles());
  }

  /** The file watch's state (null: watchFiles() was not called). */
  filesStatus(): CodeFilesStatus | null {
    return this.fileWatch?.status() ?? null;
  }

  private onFileEvents(events: Map<number, number>): void {
    if (this.closed || !this.fileWatch) return;
    for (const k of this.fileWatch.onEvents(events)) this.fileQueue.add(k);
    void this.drainFiles();
  }

  private async drainFiles(): Promise<void> {
    if (this.fileRunning) return;
    this.fileRunning = true;
    try {
      while (this.fileQueue.size > 0 && !this.closed) {
        const keys = [...this.fileQueue];
        this.fileQueue.clear();
        try {
          // One unpaced native pass over those files' pages, on the engine's priority thread.
          const r = await this.checkFiles(keys);
          if (this.closed) return;
          this.fileResult?.onResult(r);
        } catch (e) {
          try {
            this.fileResult?.onError(e);
          } catch {
            /* contained: a consumer that throws must not stop the queue */
          }
        }
      }
    } finally {
      this.fileRunning = false;
    }
  }

  stopSentinel(): void {
    this.sentinel.stop('stopped');
  }

  sentinelState(): SentinelState {
    return this.closed ? { state: 'off', reason: 'closed' } : this.sentinel.state();
  }

  /** Pages done of the running full pass (native atomic counters; cheap and synchronous). */
  progress(): CodeProgress {
    if (this.closed) return { passActive: false, pagesDone: 0, pagesTotal: 0, lastProgressAt: 0, lastProgressAgeMs: 0 };
    const { lastProgressAgeMs: age, ...p } = this.scanner.progress();
    // Before the first pass starts there is no progress yet: the clock runs from the monitor's creation.
    const ageMs = age >= 0 ? age : performance.now() - this.createdAt;
    return { ...p, lastProgressAt: Date.now() - ageMs, lastProgressAgeMs: ageMs };
  }

  /** Files backing executable mappings at the last look ('dev:inode' and path). */
  mappedFiles(): { fileKey: string; path: string }[] {
    return this.book.mappedFiles().filter((f) => f.fileKey !== 'vdso');
  }

  /**
   * Baseline digests of pages of a mapped file (16 bytes per page, zero = not seen). With the
   * on-disk comparison on they are the file's page-cache digests by (dev, inode, offset): another
   * process mapping the same file can take them instead of hashing the file again.
   */
  pageCacheDigests(fileKey: string, fileOffset: number, pages: number): Buffer | null {
    if (this.closed || !this.opts.compareDisk || fileOffset % PAGE_SIZE !== 0) return null;
    return this.scanner.pageCacheDigests(fileKey, fileOffset / PAGE_SIZE, pages);
  }

  /** Current coverage (from the last pass). */
  coverageNow(): CodeCoverage {
    return { ...this.coverage };
  }

  close(): void {
    if (this.closed) return;
    process.off('exit', this.onExit);
    this.sentinel.stop('closed');
    this.closed = true;
    this.fileWatch?.close();
    this.scanner.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ScannerError('the code monitor is closed');
  }

  private result(t0: number): CodeCheckResult {
    return { open: this.withFileWatch(this.book.openNow()), events: this.book.takeEvents(), coverage: { ...this.coverage }, durationMs: performance.now() - t0 };
  }

  /** With a file watch: page-cache writes located to the byte, plus the writable-code-file observations. */
  private withFileWatch(open: Observation[]): Observation[] {
    if (!this.fileWatch) return open;
    const base = open.filter((o) => o.kind !== 'code-file-writable');
    return [...this.fileWatch.refine(base), ...this.fileWatch.observations()];
  }

  /** Reads the mappings; records mapping and anonymous-exec changes. */
  private async discover(): Promise<void> {
    // qemu-user's signal trampoline page is not injected code (see qemu-sigtramp.ts).
    const regions = (await this.source.read()).filter((r) => r.klass !== 'anonymous-exec' || !isQemuSigtramp(r, (a, n) => this.native.readMemory(a, n)));
    for (const key of this.book.mappings(regions, this.baselined, (k) => this.scanner.hasBaseline(k))) this.files.forget(key);
    this.regions = regions;
  }

  private passRegion(r: CodeRegion): NativePassRegion {
    const disk = this.opts.compareDisk && r.klass !== 'vdso' && r.offsetKind !== 'rva' && this.files.ensure(r) === '';
    return { start: r.start, end: r.end, fileKey: r.fileKey!, fileOffset: r.fileOffset, compareDisk: disk };
  }

  /** What the sentinel watches: file code that is privately mapped (a write copies it). */
  private sentinelTargets(): NativePassRegion[] {
    return this.regions.filter((r) => isHashable(r) && r.klass !== 'vdso' && !r.perms.includes('s')).map((r) => this.passRegion(r));
  }

  private async runPass(regions: CodeRegion[], o: { cpuBudget: number; priority: boolean; watch: { fileKey: string; filePage: number }[] }) {
    const passRegions = regions.map((r) => this.passRegion(r));
    try {
      const res = await this.scanner.pass(passRegions, { mode: this.opts.hashMode, residentOnly: this.opts.residentOnly, cpuFraction: o.cpuBudget, priority: o.priority, watch: o.watch, firstRead: this.opts.firstRead });
      return { ...res, watch: o.watch };
    } catch (e) {
      throw new ScannerError(`sweep failed: ${e instanceof Error ? e.message : String(e)}`, e);
    }
  }

  /** Confirmed changes into the book; where the engine could not re-check the mapping, check it here. */
  private apply(changes: NativeChange[], regions: CodeRegion[] = this.regions): void {
    for (const c of changes) {
      if (!c.mapsChecked && !USE_PROCFS) {
        try {
          if (!this.source.stillMapped(c.address, c.fileKey, c.filePage * PAGE_SIZE)) continue;
        } catch {
          continue;
        }
      }
      this.book.change(c, regions.find((r) => r.fileKey === c.fileKey) ?? this.regions.find((r) => r.fileKey === c.fileKey));
    }
  }
}
