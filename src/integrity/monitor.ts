/**
 * The code monitor: keeps a per-page baseline of every executable file mapping, re-checks it on
 * the native scanner thread, and turns differences into observations located to the byte.
 * Findings are data (Observation); failures of the checker itself are thrown as typed errors.
 */
import * as fs from 'node:fs';
import type { CodeCoverage, Observation } from '../types';
import { isQemuSigtramp } from './qemu-sigtramp';
import { loadNative, type HashMode, type NativeBinding, type NativeScanner } from '../native';
import { readMapsAt, type MapsEntry } from '../procfs/maps';
import { ScannerError } from '../errors';
import { classifyRegions, hex, isHashable, pageCount, type CodeRegion, type JitSpan } from './regions';
import { discoverNativeRegions } from './regions-native';
import { DigestStore, DIGEST_SIZE, digestHex, isKnown } from './digest-store';
import { diffBytes } from './locate';

const PAGE = 4096;

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
  /** Share of one core a sweep may use (0 = unpaced). Default 0 for check(). */
  cpuFraction?: number;
  /** Address spans of the app's own JIT (anonymous exec memory inside them is expected). */
  jitSpans?: JitSpan[];
  /** Where to read the mappings from. Default /proc/self/maps (tests point it elsewhere). */
  mapsPath?: string;
}

export interface CodeCheckResult {
  /** Conditions open now (code-modified, differs-from-disk, anonymous-exec). */
  open: Observation[];
  /** One-shot events since the last check (code-restored, mapping-added, mapping-removed). */
  events: Observation[];
  coverage: CodeCoverage;
  durationMs: number;
}

interface Candidate {
  region: CodeRegion;
  page: number; // page index within the region
  expected: Buffer; // view of the baseline slot
}

interface FileHandle {
  fd: number | null;
  reason: string;
}

/** Linux reads /proc/self/maps; Windows, macOS and FreeBSD walk memory natively (regions-native.ts). */
const USE_PROCFS = process.platform === 'linux';

function mainExecutablePath(): string | null {
  if (!USE_PROCFS) return process.execPath;
  try {
    return fs.realpathSync('/proc/self/exe');
  } catch {
    return null;
  }
}

function pageKey(r: CodeRegion, page: number): string {
  return `${r.fileKey}@${r.fileOffset / PAGE + page}`;
}

export class CodeMonitor {
  private readonly native: NativeBinding;
  private readonly scanner: NativeScanner;
  private readonly opts: Required<Omit<CodeMonitorOptions, 'jitSpans' | 'mapsPath'>> & { jitSpans: JitSpan[]; mapsPath: string };
  private readonly store = new DigestStore();
  private readonly files = new Map<string, FileHandle>();
  /** Page keys whose baseline came from disk because memory differed at first sight. */
  private readonly preexisting = new Set<string>();
  private readonly open = new Map<string, Observation>();
  private readonly pendingEvents: Observation[] = [];
  private readonly mainExe = mainExecutablePath();
  /** Windows module identities by load address (regions-native.ts). */
  private readonly identityCache = new Map<string, string | null>();
  private regions: CodeRegion[] = [];
  private sentinelFor: CodeRegion[] | null = null;
  private sentinelTargets: CodeRegion[] = [];
  private sentinelRanges: { start: bigint; end: bigint }[] = [];
  private sentinelGeneration = 0;
  private sentinelAvailable = false;
  private sentinelKey = '';
  private sentinelRunning = false;
  private mappedFiles = new Map<string, string | null>();
  private coverage: CodeCoverage = { regions: 0, bytes: 0, hashedBytes: 0, residentBytes: 0 };
  private baselined = false;
  /** CPU the last sentinel tick cost on its thread, in ms. */
  lastSentinelCpuMs = 0;
  /** Sentinel ticks so far that walked the page tables, and that could skip the walk. */
  sentinelStats = { walks: 0, skipped: 0 };
  private closed = false;

  constructor(options: CodeMonitorOptions = {}, native: NativeBinding = loadNative()) {
    const mode = options.hashMode ?? 'blake3';
    if (mode !== 'blake3' && mode !== 'fast') throw new RangeError(`hashMode must be 'blake3' or 'fast', got '${String(mode)}'`);
    const cpu = options.cpuFraction ?? 0;
    if (typeof cpu !== 'number' || !(cpu >= 0 && cpu <= 1)) throw new RangeError('cpuFraction must be a number from 0 to 1');
    this.opts = {
      hashMode: mode,
      mainExecutableOnly: options.mainExecutableOnly ?? false,
      includeWritable: options.includeWritable ?? false,
      compareDisk: options.compareDisk ?? true,
      residentOnly: options.residentOnly ?? false,
      discoverOnce: options.discoverOnce ?? false,
      cpuFraction: cpu,
      jitSpans: options.jitSpans ?? [],
      mapsPath: options.mapsPath ?? '/proc/self/maps',
    };
    this.native = native;
    this.scanner = new native.Scanner();
    // Stop the native threads before Node tears the environment down (an app may exit without
    // close()): a thread must not call into a destroyed environment.
    process.once('exit', this.onExit);
  }

  private readonly onExit = (): void => this.close();

  /**
   * Opens what hardening would lock away (/proc/self/pagemap for the tamper sentinel). Call it
   * before harden(); Guard does. Returns whether the sentinel is available.
   */
  prepare(): { sentinel: boolean; detail: string } {
    // Linux: pagemap; Windows: the working-set "shared" bit (memory_win.cc); elsewhere none.
    if (process.platform !== 'linux' && process.platform !== 'win32') return { sentinel: false, detail: `no tamper sentinel on ${process.platform}` };
    const r = this.native.openPagemap();
    this.sentinelAvailable = r.ok;
    return { sentinel: r.ok, detail: r.detail };
  }

  get hashMode(): HashMode {
    return this.opts.hashMode;
  }

  /** Bytes of baseline digests held (16 per page). */
  baselineBytes(): number {
    return this.store.bytes();
  }

  baselinePages(): number {
    return this.store.pages();
  }

  /** Takes the baseline: the first full pass. Later passes compare with it. */
  async baseline(): Promise<CodeCheckResult> {
    const r = await this.check();
    this.baselined = true;
    return r;
  }

  /** One full pass: re-read the mappings, sweep every page, compare with the baseline. */
  async check(cpuFraction = this.opts.cpuFraction): Promise<CodeCheckResult> {
    this.assertOpen();
    const t0 = performance.now();
    if (!this.opts.discoverOnce || this.regions.length === 0) this.regions = await this.discover();
    if (this.sentinelRunning) this.refreshSentinelTargets();
    const hashable = this.regions.filter(isHashable);
    let sweep;
    try {
      sweep = await this.scanner.sweep(
        hashable.map((r) => ({ start: r.start, end: r.end })),
        { mode: this.opts.hashMode, residentOnly: this.opts.residentOnly, cpuFraction },
      );
    } catch (e) {
      throw new ScannerError(`sweep failed: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    const reader = this.readerAfterSweep();
    const candidates: Candidate[] = [];
    const seenModified = new Set<string>();
    let hashedBytes = 0;
    let residentBytes = 0;
    for (let i = 0; i < hashable.length; i++) {
      const region = hashable[i];
      const res = sweep.regions[i];
      const pages = pageCount(region);
      const expected = this.store.view(region.fileKey!, region.fileOffset / PAGE, pages);
      if (this.opts.compareDisk && region.klass !== 'vdso' && region.offsetKind !== 'rva') await this.compareWithDisk(region, res.digests, res.unread, expected);
      const cmp = this.native.compareDigests(expected, res.digests, res.unread);
      // First sight of a page (new library, or newly resident): it becomes the baseline.
      for (const p of cmp.unknown) res.digests.copy(expected, p * DIGEST_SIZE, p * DIGEST_SIZE, (p + 1) * DIGEST_SIZE);
      for (const p of cmp.mismatch) candidates.push({ region, page: p, expected: expected.subarray(p * DIGEST_SIZE, (p + 1) * DIGEST_SIZE) });
      const unreadSet = new Set(res.unread);
      for (const key of this.openKeysFor(region)) {
        const page = this.pageInRegion(region, key);
        if (page !== null && !unreadSet.has(page) && !cmp.mismatch.includes(page)) seenModified.add(key);
      }
      hashedBytes += (pages - res.unread.length) * PAGE;
      residentBytes += res.residentPages * PAGE;
    }
    await this.confirm(candidates);
    this.closeRestored(seenModified);
    this.coverage = {
      regions: this.regions.length,
      bytes: hashable.reduce((n, r) => n + pageCount(r) * PAGE, 0),
      hashedBytes,
      residentBytes,
      ...(reader ? { reader } : {}),
    };
    return this.result(t0);
  }

  /**
   * The safe reader the sweep used (Linux). When neither process_vm_readv nor /proc/self/mem works,
   * nothing was read: a checker error, never a pass over 0 bytes.
   */
  private readerAfterSweep(): CodeCoverage['reader'] | undefined {
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
   * The cheap tamper sentinel, once: pages of code that pagemap shows as anonymous (copied on write
   * by a write) are re-hashed and compared, without a full sweep.
   */
  async sentinelCheck(budget = 0.001): Promise<CodeCheckResult | null> {
    this.assertOpen();
    const t0 = performance.now();
    this.refreshSentinelTargets();
    if (this.sentinelTargets.length === 0) return null;
    const res = await this.scanner.sentinel(this.sentinelRanges, this.opts.hashMode, budget);
    this.lastSentinelCpuMs = res.cpuNs / 1e6;
    this.sentinelStats = { walks: res.walks, skipped: res.skipped };
    if (!res.ok) return null;
    return this.applySentinelHits(res.hits, this.sentinelTargets, t0);
  }

  /**
   * Runs the sentinel continuously on its native thread; `onResult` is called (on the JS thread)
   * only when it found something new: a written page that differs, or one that was restored.
   * The loop follows the regions each full pass finds. Linux only; returns false elsewhere.
   */
  startSentinel(periodMs: number, budget: number, onResult: (r: CodeCheckResult) => void): boolean {
    this.assertOpen();
    if (this.sentinelRunning || !this.sentinelAvailable) return false;
    this.refreshSentinelTargets();
    this.sentinelRunning = true;
    this.scanner.startSentinel(this.sentinelRanges, this.opts.hashMode, periodMs, budget, (generation, hits) => {
      if (this.closed || generation !== this.sentinelGeneration) return; // regions changed since
      void this.applySentinelHits(hits, this.sentinelTargets, performance.now()).then((r) => {
        if (r && !this.closed) onResult(r);
      });
    });
    this.scanner.updateSentinel(this.sentinelRanges, this.sentinelGeneration); // tag the first regions
    return true;
  }

  stopSentinel(): void {
    if (!this.sentinelRunning) return;
    this.sentinelRunning = false;
    this.scanner.stopSentinel();
  }

  private refreshSentinelTargets(): void {
    if (this.sentinelFor === this.regions) return;
    this.sentinelFor = this.regions;
    const targets = this.regions.filter((r) => isHashable(r) && r.klass !== 'vdso' && !r.perms.includes('s'));
    const key = targets.map((r) => `${r.start}-${r.end}@${r.fileKey}+${r.fileOffset}`).join();
    if (key === this.sentinelKey) return; // the same mappings: the running loop keeps its state
    this.sentinelKey = key;
    this.sentinelTargets = targets;
    this.sentinelRanges = targets.map((r) => ({ start: r.start, end: r.end }));
    this.sentinelGeneration++;
    if (this.sentinelRunning) this.scanner.updateSentinel(this.sentinelRanges, this.sentinelGeneration);
  }

  /** Compares the sentinel's hashed written pages with the baseline; reports and closes as a pass does. */
  private async applySentinelHits(
    hits: { region: number; page: number; read: boolean; digest: Buffer }[],
    targets: CodeRegion[],
    t0: number,
  ): Promise<CodeCheckResult | null> {
    const candidates: Candidate[] = [];
    const matched = new Set<string>();
    for (const hit of hits) {
      if (!hit.read) continue;
      const region = targets[hit.region];
      if (!region) continue;
      const expected = this.store.view(region.fileKey!, region.fileOffset / PAGE + hit.page, 1);
      if (!isKnown(expected, 0)) continue;
      // A written page stays anonymous after it is restored, so the sentinel also sees restores.
      if (hit.digest.equals(expected)) matched.add(`code:page:${pageKey(region, hit.page)}`);
      else candidates.push({ region, page: hit.page, expected });
    }
    const before = [...this.open.keys()].join();
    await this.confirm(candidates);
    this.closeRestored(matched);
    if ([...this.open.keys()].join() === before && this.pendingEvents.length === 0) return null;
    return this.result(t0);
  }

  /** Current coverage (from the last pass). */
  coverageNow(): CodeCoverage {
    return { ...this.coverage };
  }

  close(): void {
    if (this.closed) return;
    process.off('exit', this.onExit);
    this.stopSentinel();
    this.closed = true;
    this.scanner.close();
    for (const h of this.files.values()) if (h.fd !== null) fs.closeSync(h.fd);
    this.files.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new ScannerError('the code monitor is closed');
  }

  private result(t0: number): CodeCheckResult {
    return {
      open: [...this.open.values()],
      events: this.pendingEvents.splice(0),
      coverage: { ...this.coverage },
      durationMs: performance.now() - t0,
    };
  }

  /** The current mappings; ProcfsUnreadableError / ProcfsParseError when they cannot be had. */
  private readMappings(): Promise<MapsEntry[]> {
    return readMapsAt(this.opts.mapsPath);
  }

  /** Reads the mappings, classifies them, and records mapping and anonymous-exec changes. */
  private async discover(): Promise<CodeRegion[]> {
    const classify = {
      mainExecutable: this.mainExe,
      mainExecutableOnly: this.opts.mainExecutableOnly,
      includeWritable: this.opts.includeWritable,
      jitSpans: this.opts.jitSpans,
    };
    const regions = USE_PROCFS
      ? classifyRegions(await this.readMappings(), classify)
      : discoverNativeRegions(this.native, { ...classify, identityCache: this.identityCache });
    const nowFiles = new Map<string, string | null>();
    for (const r of regions) if (r.fileKey !== null) nowFiles.set(r.fileKey, r.path);
    for (const [key, path] of nowFiles) {
      if (this.mappedFiles.has(key)) continue;
      // Code that was not there at baseline: an injected library looks like this.
      if (this.baselined && !this.store.has(key)) {
        this.pendingEvents.push({ key: `code:mapping-added:${key}`, subsystem: 'code', kind: 'mapping-added', path: path ?? undefined, detail: `new executable file mapping: ${path ?? key}` });
      }
    }
    for (const [key, path] of this.mappedFiles) {
      if (nowFiles.has(key)) continue;
      this.pendingEvents.push({ key: `code:mapping-removed:${key}`, subsystem: 'code', kind: 'mapping-removed', path: path ?? undefined, detail: `executable mapping removed: ${path ?? key}` });
      // Open findings about code that is no longer mapped cannot be re-checked: close them.
      for (const k of [...this.open.keys()]) if (k.startsWith(`code:page:${key}@`)) this.open.delete(k);
    }
    this.mappedFiles = nowFiles;
    this.updateAnonymousExec(regions);
    return regions;
  }

  private updateAnonymousExec(regions: CodeRegion[]): void {
    const current = new Set<string>();
    for (const r of regions) {
      if (r.klass !== 'anonymous-exec') continue;
      if (isQemuSigtramp(r, (a, n) => this.native.readMemory(a, n))) continue; // see qemu-sigtramp.ts
      const key = `code:anonymous-exec:${hex(r.start)}`;
      current.add(key);
      if (!this.open.has(key)) {
        this.open.set(key, {
          key,
          subsystem: 'code',
          kind: 'anonymous-exec',
          address: hex(r.start),
          detail: `anonymous executable memory outside any JIT reservation: ${hex(r.start)}-${hex(r.end)} ${r.perms} (${(Number(r.end - r.start) / 1024).toFixed(0)} KiB)`,
          evidence: { start: hex(r.start), end: hex(r.end), perms: r.perms },
        });
      }
    }
    for (const k of [...this.open.keys()]) if (k.startsWith('code:anonymous-exec:') && !current.has(k)) this.open.delete(k);
  }

  /** An fd on the mapped file, checked to be the very inode that is mapped (not an updated file at the same path). */
  private fileFor(region: CodeRegion): FileHandle {
    const key = region.fileKey!;
    let h = this.files.get(key);
    if (h) return h;
    h = { fd: null, reason: '' };
    const cut = key.lastIndexOf(':');
    const dev = key.slice(0, cut);
    const ino = key.slice(cut + 1);
    if (region.offsetKind === 'rva') {
      // Windows images are keyed by offset from the module base, not file offset: comparing with the
      // file needs the PE section table and relocations, which is not implemented.
      h.reason = 'on-disk comparison of PE images is not implemented';
      this.files.set(key, h);
      return h;
    }
    const candidates = !region.path ? [] : USE_PROCFS ? [region.path, `/proc/self/map_files/${region.start.toString(16)}-${region.end.toString(16)}`] : [region.path];
    for (const p of candidates) {
      try {
        const fd = fs.openSync(p, 'r');
        const st = fs.fstatSync(fd, { bigint: true });
        // maps prints dev as major:minor in hex; the native walks report `${dev}:${ino}` in decimal.
        const stDev = USE_PROCFS
          ? `${(st.dev >> 8n & 0xfffn).toString(16).padStart(2, '0')}:${((st.dev & 0xffn) | ((st.dev >> 12n) & 0xfff00n)).toString(16).padStart(2, '0')}`
          : st.dev.toString();
        if (st.ino.toString() === ino && stDev === dev) {
          h.fd = fd;
          break;
        }
        fs.closeSync(fd);
        h.reason = `${p} is not the mapped file (inode ${st.ino} on ${stDev}, mapped ${ino} on ${dev}): updated or replaced`;
      } catch (e) {
        h.reason = `${p}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
      }
    }
    if (h.fd !== null) h.reason = '';
    this.files.set(key, h);
    return h;
  }

  /**
   * First sight of a region's pages: compare memory with the file. A page that differs was changed
   * before the monitor started; its baseline becomes the file's bytes (the truth), so it stays
   * reported until memory matches the file again. Non-resident pages take the file's digest.
   */
  private async compareWithDisk(region: CodeRegion, memory: Buffer, unread: number[], expected: Buffer): Promise<void> {
    // Which pages have no baseline yet: native, a memcmp per page (this runs on every pass).
    const fresh = this.native.compareDigests(expected, memory, []).missing;
    if (fresh.length === 0) return;
    const h = this.fileFor(region);
    if (h.fd === null) return;
    const pages = pageCount(region);
    let disk: Buffer;
    try {
      disk = await this.scanner.hashFile(h.fd, region.fileOffset, pages * PAGE, this.opts.hashMode);
    } catch {
      return;
    }
    // Memory against the file: pages known in both that differ were changed before we started.
    for (const p of this.native.compareDigests(disk, memory, unread).mismatch) {
      if (!isKnown(expected, p)) this.preexisting.add(pageKey(region, p));
    }
    if (fresh.length === pages) disk.copy(expected);
    else for (const p of fresh) disk.copy(expected, p * DIGEST_SIZE, p * DIGEST_SIZE, (p + 1) * DIGEST_SIZE);
  }


  /**
   * A digest mismatch is only reported after it survives a re-check: the mapping at that address
   * must still be the same file page (a library unloaded and another mapped at the same address
   * mid-sweep is a mapping change, not a code change), and a fresh read must still differ.
   */
  private async confirm(candidates: Candidate[]): Promise<void> {
    if (candidates.length === 0) return;
    let stillMapped: (addr: bigint, fileKey: string, fileOffset: number) => boolean;
    try {
      stillMapped = await this.mappingProbe();
    } catch {
      return;
    }
    for (const c of candidates) {
      const addr = c.region.start + BigInt(c.page * PAGE);
      if (!stillMapped(addr, c.region.fileKey!, c.region.fileOffset + c.page * PAGE)) continue;
      const bytes = this.native.readMemory(addr, PAGE);
      if (!bytes || bytes.length !== PAGE) continue;
      const digest = this.native.hashPages(bytes, this.opts.hashMode);
      if (this.opts.hashMode === 'fast') digest[DIGEST_SIZE - 1] = 1; // the "known" marker the scanner sets
      if (digest.equals(c.expected)) continue;
      this.report(c, addr, bytes, digest);
    }
  }

  /** A fresh view of the mappings: does `addr` still show page `fileOffset` of `fileKey`, executable? */
  private async mappingProbe(): Promise<(addr: bigint, fileKey: string, fileOffset: number) => boolean> {
    if (USE_PROCFS) {
      const maps: MapsEntry[] = await this.readMappings();
      return (addr, fileKey, fileOffset) => {
        const e = maps.find((m) => m.start <= addr && addr < m.end);
        return !!e && e.exec && `${e.dev}:${e.inode}` === fileKey && e.offset + Number(addr - e.start) === fileOffset;
      };
    }
    const regions = discoverNativeRegions(this.native, { mainExecutable: this.mainExe, identityCache: this.identityCache });
    return (addr, fileKey, fileOffset) => {
      const r = regions.find((x) => x.start <= addr && addr < x.end);
      return !!r && r.fileKey === fileKey && r.fileOffset + Number(addr - r.start) === fileOffset;
    };
  }

  private report(c: Candidate, addr: bigint, bytes: Buffer, digest: Buffer): void {
    const key = `code:page:${pageKey(c.region, c.page)}`;
    const filePage = c.region.fileOffset / PAGE + c.page;
    const pageOffset = filePage * PAGE;
    const h = c.region.klass === 'vdso' ? { fd: null, reason: 'vDSO has no file' } : this.fileFor(c.region);
    let located = { offset: pageOffset, exact: false, evidence: {} as Record<string, unknown> };
    if (h.fd !== null) {
      const ref = Buffer.alloc(PAGE);
      const n = fs.readSync(h.fd, ref, 0, PAGE, pageOffset);
      const diff = diffBytes(bytes, ref.subarray(0, Math.max(n, 0)));
      if (diff.count > 0) {
        located = {
          offset: pageOffset + diff.offsets[0],
          exact: true,
          evidence: { differingBytes: diff.count, pageOffsets: diff.offsets, firstXor: `0x${diff.firstXor.toString(16)}` },
        };
      }
    } else {
      located.evidence = { locateUnavailable: h.reason };
    }
    const kind = this.preexisting.has(pageKey(c.region, c.page)) ? 'differs-from-disk' : 'code-modified';
    const where = `${c.region.path ?? c.region.fileKey} page ${filePage} (file offset 0x${located.offset.toString(16)})`;
    const prev = this.open.get(key);
    this.open.set(key, {
      key,
      subsystem: 'code',
      kind,
      path: c.region.path ?? undefined,
      address: hex(addr + BigInt(located.offset - pageOffset)),
      offset: located.offset,
      page: filePage,
      before: digestHex(c.expected, 0),
      after: digest.subarray(0, DIGEST_SIZE).toString('hex'),
      detail:
        kind === 'differs-from-disk'
          ? `code differs from the file on disk at ${where}${located.exact ? '' : ' (byte unknown)'}`
          : `code modified at ${where}${located.exact ? '' : ' (byte unknown: no file to compare)'}`,
      evidence: { klass: c.region.klass, ...located.evidence, ...(prev ? { since: prev.evidence?.since } : {}) },
    });
  }

  /** Open page findings whose page was read and matched this pass are closed with code-restored. */
  private closeRestored(matched: Set<string>): void {
    for (const key of matched) {
      const o = this.open.get(key);
      if (!o) continue;
      this.open.delete(key);
      this.preexisting.delete(key.slice('code:page:'.length));
      this.pendingEvents.push({
        key: `code:restored:${key}:${Date.now()}`,
        subsystem: 'code',
        kind: 'code-restored',
        path: o.path,
        address: o.address,
        offset: o.offset,
        page: o.page,
        before: o.after,
        after: o.before,
        detail: `code restored: ${o.path ?? ''} page ${o.page} matches its baseline again`,
      });
    }
  }

  private openKeysFor(region: CodeRegion): string[] {
    const prefix = `code:page:${region.fileKey}@`;
    return [...this.open.keys()].filter((k) => k.startsWith(prefix));
  }

  private pageInRegion(region: CodeRegion, key: string): number | null {
    const filePage = Number(key.slice(key.lastIndexOf('@') + 1));
    const p = filePage - region.fileOffset / PAGE;
    return p >= 0 && p < pageCount(region) ? p : null;
  }
}
