/**
 * The manifest at run time (Guard option `manifest`): the signature first, then every listed file
 * checked on the engine's native threads, the app's own executable mappings compared with the
 * vendor's page digests after the Guard's code pass, and every listed file (and the manifest
 * itself) watched with inotify: a change is re-verified at once. Findings are Observations the
 * Guard classifies like any other (subsystem 'code').
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Observation, ManifestStatus } from '../types';
import type { NativeWatcher } from '../native';
import { startFastLoop } from '../fastloop/fast-loop';
import { DIGEST_SIZE, PAGE_SIZE } from '../integrity/constants';
import { MANIFEST_NAME, RUN_PAGES, type Manifest, type ManifestFile } from './format';
import { ManifestInputError, ManifestInvalidError } from './errors';
import { decodeKey } from './keys';
import { loadSigned } from './io';
import { PageHasher } from './page-hasher';
import { unlistedCode, verifyApp, verifyFile } from './verify';
import { describeDifference, type Difference } from './differences';

export interface ManifestGuardOptions {
  /** The manifest file. Default: <resources folder>/procguard-manifest.json (Electron: process.resourcesPath). */
  path?: string;
  /** Ed25519 public key: PEM text or 32 raw bytes. */
  publicKey: string | Uint8Array;
  /** The app folder the manifest describes. Default: derived from where the manifest sits in it. */
  appDir?: string;
}

/** What the runtime needs from the Guard. */
export interface ManifestHost {
  publish(observations: Observation[]): void;
  error(e: unknown): void;
  /** The code monitor's baseline page digests of a mapped file, and its mapped files. */
  code(): { mappedFiles(): { fileKey: string; path: string }[]; pageCacheDigests(fileKey: string, fileOffset: number, pages: number): Buffer | null } | null;
  /** The code monitor's open findings (differs-from-disk, code-modified, ...). */
  openCode(): Observation[];
  /** Period of the listing check (new or removed files; content changes come through inotify). */
  periodMs: number;
}

const ZERO_DIGEST = Buffer.alloc(DIGEST_SIZE);

/** What changes when a file is written, replaced or removed: inode, size, mtime, ctime. */
async function stamp(abs: string): Promise<string> {
  try {
    const st = await fs.lstat(abs, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (e) {
    return `missing:${(e as NodeJS.ErrnoException).code ?? ''}`;
  }
}

function defaultPath(): string {
  const resources = (process as { resourcesPath?: string }).resourcesPath ?? path.join(path.dirname(process.execPath), 'resources');
  return path.join(resources, MANIFEST_NAME);
}

/** The app folder: the manifest path less the relative path the manifest gives itself in `excluded`. */
function appDirOf(manifestPath: string, m: Manifest): string | null {
  const parts = manifestPath.split(path.sep);
  for (const rel of m.excluded) {
    const r = rel.split('/');
    if (r.length < parts.length && r.every((x, i) => parts[parts.length - r.length + i] === x)) return parts.slice(0, parts.length - r.length).join(path.sep) || path.sep;
  }
  return null;
}

function observe(d: Difference, appDir: string): Observation {
  const abs = path.join(appDir, ...d.path.split('/'));
  const o: Observation = { key: `manifest:${d.kind}:${d.path}`, subsystem: 'code', kind: d.kind, detail: describeDifference(d), path: abs, evidence: { relativePath: d.path } };
  if (d.kind === 'file-differs-from-manifest') {
    o.evidence = { ...o.evidence, reason: d.reason, ...(d.code ? { code: d.code, codeRunsDiffering: d.codeRunsDiffering } : {}) };
    if (d.code?.length) {
      o.offset = d.code[0].offset;
      o.page = Math.floor(d.code[0].offset / PAGE_SIZE);
    }
  }
  return o;
}

export class ManifestRuntime {
  private readonly file: string;
  private readonly publicKey: Uint8Array;
  private appDir: string | null;
  private manifest: Manifest | null = null;
  private hasherInstance: PageHasher | null = null;
  private readonly fileDiffs = new Map<string, Observation>();
  private memoryDiffs: Observation[] = [];
  private invalid: Observation | null = null;
  private state: ManifestStatus['state'] = 'verifying';
  private filesChecked = 0;
  private lastVerifiedAt: number | null = null;
  private memory = { files: 0, runsCompared: 0, runsDiffering: 0, runsUnknown: 0 };
  private watcher: NativeWatcher | null = null;
  private watchReason = 'not started';
  private readonly watches = new Map<number, string>();
  private queue: Promise<void> = Promise.resolve();
  private readonly dirty = new Set<string>();
  /** Identity and times of each listed file when it was last verified (rel path -> stamp). */
  private readonly stamps = new Map<string, string>();
  private manifestStamp = '';
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(opts: ManifestGuardOptions, private readonly host: ManifestHost) {
    if (opts === null || typeof opts !== 'object') throw new TypeError('manifest options must be an object');
    this.file = path.resolve(opts.path ?? defaultPath());
    this.publicKey = decodeKey(opts.publicKey, 'public', 'manifest.publicKey');
    this.appDir = opts.appDir ? path.resolve(opts.appDir) : null;
  }

  /** The native hashing thread, made at start (not in the Guard's constructor). */
  private get hasher(): PageHasher {
    this.hasherInstance ??= new PageHasher(1);
    return this.hasherInstance;
  }

  /** Loads (signature first) and verifies everything; starts the watches and the listing check. */
  async start(keepAlive = false): Promise<void> {
    const { loop, reason } = startFastLoop(60_000, {
      onKernel: () => {},
      onFiles: (events) => this.onEvents(events),
      onError: (msg) => this.host.error(new Error(`manifest watch: ${msg}`)),
    });
    this.watcher = loop;
    this.watchReason = reason;
    await this.enqueue(() => this.reload());
    this.timer = setInterval(() => void this.enqueue(() => this.listing()), this.host.periodMs);
    if (!keepAlive) this.timer.unref();
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(async () => {
      if (this.stopped) return;
      try {
        await job();
      } catch (e) {
        this.host.error(e);
      }
    });
    return this.queue;
  }

  /** Signature, parse, full verification, watches. */
  private async reload(): Promise<void> {
    this.manifestStamp = `${await stamp(this.file)}|${await stamp(this.file + '.sig')}`;
    this.fileDiffs.clear();
    this.memoryDiffs = [];
    try {
      this.manifest = (await loadSigned(this.file, this.publicKey)).manifest;
      this.invalid = null;
    } catch (e) {
      if (!(e instanceof ManifestInvalidError)) throw e;
      this.manifest = null;
      this.invalid = { key: 'manifest:invalid', subsystem: 'code', kind: 'manifest-invalid', detail: e.message, path: this.file, evidence: { reason: e.reason } };
      this.state = 'invalid';
      this.watchAll([]);
      this.emit();
      return;
    }
    this.appDir ??= appDirOf(this.file, this.manifest);
    if (!this.appDir) {
      this.invalid = { key: 'manifest:invalid', subsystem: 'code', kind: 'manifest-invalid', detail: `cannot tell the app folder: ${this.file} is not at any path the manifest excludes (${this.manifest.excluded.join(', ')}); give manifest.appDir`, path: this.file, evidence: { reason: 'app-folder' } };
      this.state = 'invalid';
      this.emit();
      return;
    }
    let report;
    try {
      report = await verifyApp(this.appDir, this.manifest, { hasher: this.hasher });
    } catch (e) {
      if (!(e instanceof ManifestInputError)) throw e;
      this.invalid = { key: 'manifest:invalid', subsystem: 'code', kind: 'manifest-invalid', detail: `the app folder cannot be checked: ${e.message}`, path: this.appDir, evidence: { reason: 'app-folder' } };
      this.state = 'invalid';
      this.emit();
      return;
    }
    for (const d of report.differences) this.fileDiffs.set(d.path, observe(d, this.appDir));
    for (const f of this.manifest.files) this.stamps.set(f.path, await stamp(path.join(this.appDir, ...f.path.split('/'))));
    this.filesChecked = report.filesChecked;
    this.lastVerifiedAt = Date.now();
    this.watchAll(this.manifest.files.filter((f) => f.kind !== 'symlink').map((f) => f.path));
    this.compareMemory();
    this.emit();
  }

  /**
   * Every period, without hashing: unlisted code files (inotify on files does not see a file appear
   * in a folder), and listed files whose inode, size or times changed since they were verified
   * (a missed event, a file removed or put back, and every change where inotify is not available:
   * macOS, Windows). Those are re-verified.
   */
  private async listing(): Promise<void> {
    // A manifest or signature that changed without an event (it was missing, so nothing watched it;
    // or no inotify here): load it again, signature first.
    if (`${await stamp(this.file)}|${await stamp(this.file + '.sig')}` !== this.manifestStamp) return this.reload();
    if (!this.manifest || !this.appDir) return;
    for (const [p, o] of [...this.fileDiffs]) if (o.kind === 'file-not-in-manifest') this.fileDiffs.delete(p);
    for (const d of await unlistedCode(this.appDir, this.manifest)) this.fileDiffs.set(d.path, observe(d, this.appDir));
    for (const f of this.manifest.files) {
      const abs = path.join(this.appDir, ...f.path.split('/'));
      if ((await stamp(abs)) === this.stamps.get(f.path)) continue;
      if (this.watcher && !this.dirty.has(abs)) this.watchOne(abs); // put back after a delete: watch it again
      this.dirty.add(abs);
    }
    if (this.dirty.size) await this.recheck();
    this.emit();
  }

  private watchAll(relPaths: string[]): void {
    if (!this.watcher) return;
    for (const wd of this.watches.keys()) this.watcher.removeWatch(wd);
    this.watches.clear();
    const targets = [this.file, this.file + '.sig', ...relPaths.map((r) => path.join(this.appDir!, ...r.split('/')))];
    for (const t of targets) this.watchOne(t);
  }

  private watchOne(abs: string): void {
    const r = this.watcher!.addWatch(abs);
    if ('wd' in r) this.watches.set(r.wd, abs);
  }

  private onEvents(events: Map<number, number>): void {
    if (this.stopped) return;
    for (const wd of events.keys()) {
      const abs = this.watches.get(wd);
      if (!abs) continue;
      // A replaced file (rename over it) keeps the old inode's watch: watch the path again.
      this.watcher!.removeWatch(wd);
      this.watches.delete(wd);
      this.watchOne(abs);
      this.dirty.add(abs);
    }
    void this.enqueue(() => this.recheck());
  }

  /** Re-verifies the files that had events; a change to the manifest or its signature reloads all. */
  private async recheck(): Promise<void> {
    const paths = [...this.dirty];
    this.dirty.clear();
    if (paths.length === 0) return;
    if (!this.manifest || paths.some((p) => p === this.file || p === this.file + '.sig')) return this.reload();
    const byAbs = new Map(this.manifest.files.map((f) => [path.join(this.appDir!, ...f.path.split('/')), f]));
    for (const p of paths) {
      const f: ManifestFile | undefined = byAbs.get(p);
      if (!f) continue;
      this.stamps.set(f.path, await stamp(p));
      const r = await verifyFile(this.appDir!, f, this.hasher);
      if (r.diff) this.fileDiffs.set(f.path, observe(r.diff, this.appDir!));
      else this.fileDiffs.delete(f.path);
    }
    this.lastVerifiedAt = Date.now();
    this.emit();
  }

  /**
   * After a code pass, two checks that together compare the app's own code in memory with the
   * vendor's bytes from the first pass:
   * - the engine's baseline digests of each ELF mapping from the app folder against the vendor's
   *   runs (the baseline every later pass compares with: with the on-disk comparison it is the
   *   file's page digest, so this holds it to the vendor's build);
   * - the engine's open page findings on those mappings (memory differs from the file, or changed
   *   since) become code-differs-from-manifest, located to the byte where the engine located them.
   * A run with a page the engine has not seen yet is skipped (counted unknown). PE images (mapped
   * by RVA) and Mach-O sections (not page-aligned) are not compared here.
   */
  compareMemory(): void {
    const code = this.host.code();
    if (!code || !this.manifest || !this.appDir) return;
    const byPath = new Map(this.manifest.files.map((f) => [f.path, f]));
    const found: Observation[] = [];
    const stats = { files: 0, runsCompared: 0, runsDiffering: 0, runsUnknown: 0 };
    const root = this.appDir.endsWith(path.sep) ? this.appDir : this.appDir + path.sep;
    for (const { fileKey, path: p } of code.mappedFiles()) {
      if (!p.startsWith(root)) continue;
      const rel = p.slice(root.length).split(path.sep).join('/');
      const f = byPath.get(rel);
      if (!f) {
        found.push({ key: `manifest:mapped:${rel}`, subsystem: 'code', kind: 'file-not-in-manifest', detail: `mapped into this process from the app folder but not in the manifest: ${rel}`, path: p, evidence: { relativePath: rel, mapped: true } });
        continue;
      }
      if (f.kind !== 'elf' || !f.code) continue;
      stats.files++;
      for (const c of f.code) {
        const pages = Math.ceil(c.size / PAGE_SIZE);
        const digests = code.pageCacheDigests(fileKey, c.offset, pages);
        if (!digests) continue;
        const runs = Buffer.from(c.runs, 'base64');
        for (let r = 0; r * RUN_PAGES < pages; r++) {
          const slice = digests.subarray(r * RUN_PAGES * DIGEST_SIZE, Math.min(pages, (r + 1) * RUN_PAGES) * DIGEST_SIZE);
          let known = true;
          for (let i = 0; i < slice.length && known; i += DIGEST_SIZE) known = !slice.subarray(i, i + DIGEST_SIZE).equals(ZERO_DIGEST);
          if (!known) {
            stats.runsUnknown++;
            continue;
          }
          stats.runsCompared++;
          if (this.hasher.native.blake3(slice, { outLen: DIGEST_SIZE }).equals(runs.subarray(r * DIGEST_SIZE, (r + 1) * DIGEST_SIZE))) continue;
          stats.runsDiffering++;
          const offset = c.offset + r * RUN_PAGES * PAGE_SIZE;
          found.push({
            key: `manifest:memory:${rel}:${offset}`,
            subsystem: 'code',
            kind: 'code-differs-from-manifest',
            detail: `the mapped code of ${rel} at file offset 0x${offset.toString(16)} (64 KiB run) differs from the vendor's build`,
            path: p,
            offset,
            page: offset / PAGE_SIZE,
            evidence: { relativePath: rel, fileKey },
          });
        }
      }
    }
    for (const o of this.host.openCode()) {
      if ((o.kind !== 'differs-from-disk' && o.kind !== 'code-modified') || !o.path?.startsWith(root) || o.offset === undefined) continue;
      const rel = o.path.slice(root.length).split(path.sep).join('/');
      const f = byPath.get(rel);
      if (!f?.code?.some((c) => o.offset! >= c.offset && o.offset! < c.offset + c.size)) continue;
      found.push({
        key: `manifest:memory-page:${rel}:${o.page ?? Math.floor(o.offset / PAGE_SIZE)}`,
        subsystem: 'code',
        kind: 'code-differs-from-manifest',
        detail: `the mapped code of ${rel} differs from the vendor's build at file offset 0x${o.offset.toString(16)} (${o.kind})`,
        path: o.path,
        offset: o.offset,
        ...(o.page !== undefined ? { page: o.page } : {}),
        ...(o.address ? { address: o.address } : {}),
        evidence: { relativePath: rel, engineFinding: o.kind, ...(o.evidence ?? {}) },
      });
      stats.runsDiffering++;
    }
    this.memory = stats;
    this.memoryDiffs = found;
    this.emit();
  }

  private emit(): void {
    if (this.manifest) this.state = this.fileDiffs.size + this.memoryDiffs.length > 0 ? 'differs' : 'match';
    this.host.publish(this.observations());
  }

  observations(): Observation[] {
    if (this.invalid) return [this.invalid];
    return [...this.fileDiffs.values(), ...this.memoryDiffs];
  }

  status(): ManifestStatus {
    return {
      state: this.state,
      path: this.file,
      appDir: this.appDir,
      ...(this.manifest ? { app: { ...this.manifest.app } } : {}),
      filesListed: this.manifest?.files.length ?? 0,
      filesChecked: this.filesChecked,
      differences: this.observations().length - (this.invalid ? 1 : 0),
      lastVerifiedAt: this.lastVerifiedAt === null ? null : new Date(this.lastVerifiedAt).toISOString(),
      memory: { ...this.memory },
      watch: this.watcher ? { state: 'inotify', files: this.watches.size } : { state: 'off', reason: this.watchReason, files: 0 },
      ...(this.invalid ? { reason: this.invalid.detail } : {}),
    };
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.close();
    this.watcher = null;
    // Let a running verification finish its native call before the threads stop.
    void this.queue.finally(() => this.hasherInstance?.close());
  }
}

