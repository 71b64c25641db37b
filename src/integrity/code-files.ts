/**
 * Event-driven watch of the files behind executable mappings. A write(2) to a mapped library or
 * .node file changes the page-cache page every mapping of it shows, and no copy-on-write happens,
 * so the pagemap sentinel cannot see it: inotify on the file can, at once. The code monitor that
 * owns this watch re-hashes that file's mapped pages (CodeMonitor.checkFiles) when an event arrives.
 *
 * Also: files this process's own user can write are the attack surface of such a write
 * (`code-file-writable`), and for them a pristine copy (bounded) lets a page-cache write be
 * located to the byte: memory and file agree after such a write, so only a copy from before tells
 * which byte changed.
 */
import * as fs from 'node:fs';
import type { Observation } from '../types';
import type { NativeWatcher } from '../native';

const PAGE = 4096;
const IN_ATTRIB = 0x4;
const IN_DELETE_SELF = 0x400;
const IN_MOVE_SELF = 0x800;
const IN_IGNORED = 0x8000;

export interface CodeFilesStatus {
  /** Files watched now. */
  watched: number;
  /** Up to 50 of their paths. */
  watchedPaths: string[];
  /** Files that could not be watched, and why (up to 50). */
  unwatched: { path: string; reason: string }[];
  unwatchedCount: number;
  /** Bytes of pristine copies held (writable code files only). */
  pristineBytes: number;
}

interface Pristine {
  fd: number;
  bytes: Buffer;
}

/** maps' device notation: major:minor in hex, at least two digits each. */
export function mapsDev(major: number, minor: number): string {
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

/**
 * Who other than the kernel can write this file, as seen from this process; null when nobody
 * that matters can. For a non-root process: its own euid owning the file (an owner can always
 * chmod u+w), a group it is in with the group write bit, or the world write bit. For root (euid
 * 0), which can write every file anyway (CAP_DAC_OVERRIDE), that answer would be "all of them" and
 * say nothing: it reports files that a *non-root* user can write (owned by one, group- or
 * world-writable), which is the surface that matters for a root process.
 */
export function writableBy(st: { uid: number; gid: number; mode: number }, euid: number, groups: readonly number[]): string | null {
  const mode = st.mode & 0o7777;
  if (euid === 0) {
    if (st.uid !== 0) return `owned by uid ${st.uid} (a non-root user can rewrite it)`;
    if (mode & 0o020) return `group-writable (gid ${st.gid})`;
    if (mode & 0o002) return 'world-writable';
    return null;
  }
  if (st.uid === euid) return `owned by this process's user (uid ${euid})`;
  if (mode & 0o020 && groups.includes(st.gid)) return `group-writable by a group of this process (gid ${st.gid})`;
  if (mode & 0o002) return 'world-writable';
  return null;
}

export class CodeFileWatch {
  private readonly byKey = new Map<string, { path: string; wd: number }>();
  private readonly byWd = new Map<number, string>();
  private readonly failed = new Map<string, { path: string; reason: string }>();
  private readonly writable = new Map<string, Observation>();
  private readonly pristine = new Map<string, Pristine>();
  private pristineBytes = 0;
  private readonly refined = new Map<string, Observation>();

  constructor(
    private readonly loop: NativeWatcher | null,
    private readonly noLoopReason: string,
    /** Cap on pristine copies of writable code files, in bytes. */
    private readonly pristineCap: number,
  ) {}

  /** Arms watches for newly mapped files, drops those no longer mapped. Never throws. */
  sync(files: { fileKey: string; path: string }[]): void {
    // Pseudo-files ([vdso]) have no inode to watch: the sweep and the sentinel cover them.
    const now = new Map(files.filter((f) => f.path.startsWith('/')).map((f) => [f.fileKey, f.path]));
    for (const [key, w] of [...this.byKey]) if (!now.has(key)) this.drop(key, w.wd);
    for (const key of [...this.failed.keys()]) if (!now.has(key)) this.failed.delete(key);
    for (const key of [...this.writable.keys()]) if (!now.has(key)) this.writable.delete(key);
    for (const [key, path] of now) {
      if (this.byKey.has(key)) continue;
      this.arm(key, path);
    }
  }

  /** File events -> the mapped files to re-check now. A deleted/moved file's watch is dropped. */
  onEvents(events: Map<number, number>): string[] {
    const keys: string[] = [];
    for (const [wd, mask] of events) {
      const key = this.byWd.get(wd);
      if (key === undefined) continue;
      keys.push(key);
      if (mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        const w = this.byKey.get(key);
        if (w) this.drop(key, w.wd);
        this.failed.set(key, { path: w?.path ?? key, reason: 'deleted, moved or replaced after it was mapped: its pages are checked by the sweep only' });
      } else if (mask & IN_ATTRIB) {
        const w = this.byKey.get(key);
        if (w) this.checkWritable(key, w.path); // chmod/chown: the attack surface may have changed
      }
    }
    return keys;
  }

  /** Open `code-file-writable` observations. */
  observations(): Observation[] {
    return [...this.writable.values()];
  }

  /**
   * Locates page-cache writes to the byte: an open code-modified observation on a file with a
   * pristine copy, whose byte is unknown (memory and file agree), is compared with the copy.
   */
  refine(open: Observation[]): Observation[] {
    return open.map((o) => {
      if (o.kind !== 'code-modified' || o.page === undefined || !o.key.startsWith('code:page:')) return o;
      if (o.evidence && 'differingBytes' in o.evidence) return o; // already exact (differs from the file)
      const fileKey = o.key.slice('code:page:'.length, o.key.lastIndexOf('@'));
      const p = this.pristine.get(fileKey);
      if (!p) return o;
      const cacheKey = `${o.key}\u0000${String(o.after)}`;
      const hit = this.refined.get(cacheKey);
      if (hit) return hit;
      const pageOffset = o.page * PAGE;
      const now = Buffer.alloc(PAGE);
      let n: number;
      try {
        n = fs.readSync(p.fd, now, 0, PAGE, pageOffset);
      } catch {
        return o;
      }
      const before = p.bytes.subarray(pageOffset, pageOffset + PAGE);
      const offsets: number[] = [];
      for (let i = 0; i < Math.min(n, before.length); i++) if (now[i] !== before[i]) offsets.push(i);
      if (offsets.length === 0) return o;
      const first = offsets[0];
      const address = o.address ? `0x${(BigInt(o.address) - BigInt((o.offset ?? pageOffset) - pageOffset) + BigInt(first)).toString(16)}` : undefined;
      const r: Observation = {
        ...o,
        offset: pageOffset + first,
        ...(address ? { address } : {}),
        detail: `code modified through the file (page cache) at ${o.path ?? fileKey} page ${o.page} (file offset 0x${(pageOffset + first).toString(16)})`,
        evidence: {
          ...o.evidence,
          locateUnavailable: undefined,
          via: 'page-cache write (memory and file agree; located against the pristine copy)',
          differingBytes: offsets.length,
          pageOffsets: offsets.slice(0, 64),
          firstXor: `0x${(now[first] ^ before[first]).toString(16)}`,
        },
      };
      if (this.refined.size > 1000) this.refined.clear();
      this.refined.set(cacheKey, r);
      return r;
    });
  }

  status(): CodeFilesStatus {
    const unwatched = [...this.failed.values()];
    if (!this.loop) unwatched.unshift({ path: '*', reason: this.noLoopReason });
    return {
      watched: this.byKey.size,
      watchedPaths: [...this.byKey.values()].slice(0, 50).map((w) => w.path),
      unwatched: unwatched.slice(0, 50),
      unwatchedCount: unwatched.length,
      pristineBytes: this.pristineBytes,
    };
  }

  close(): void {
    for (const p of this.pristine.values()) {
      try {
        fs.closeSync(p.fd);
      } catch {
        /* already closed */
      }
    }
    this.pristine.clear();
    this.pristineBytes = 0;
  }

  private arm(key: string, path: string): void {
    this.checkWritable(key, path);
    if (!this.loop) return;
    let r;
    try {
      r = this.loop.addWatch(path);
    } catch (e) {
      this.failed.set(key, { path, reason: e instanceof Error ? e.message : String(e) });
      return;
    }
    if ('errno' in r) {
      this.failed.set(key, { path, reason: `inotify_add_watch: ${r.error}` });
      return;
    }
    const got = `${mapsDev(r.devMajor, r.devMinor)}:${r.ino}`;
    if (got !== key) {
      this.loop.removeWatch(r.wd);
      this.failed.set(key, { path, reason: `the file now at this path is not the mapped one (${got}, mapped ${key}): updated or replaced` });
      return;
    }
    this.failed.delete(key);
    this.byKey.set(key, { path, wd: r.wd });
    this.byWd.set(r.wd, key);
  }

  private drop(key: string, wd: number): void {
    this.byKey.delete(key);
    this.byWd.delete(wd);
    try {
      this.loop?.removeWatch(wd);
    } catch {
      /* the loop is closed */
    }
    const p = this.pristine.get(key);
    if (p) {
      this.pristineBytes -= p.bytes.length;
      this.pristine.delete(key);
      try {
        fs.closeSync(p.fd);
      } catch {
        /* ignore */
      }
    }
  }

  private checkWritable(key: string, path: string): void {
    let st: fs.Stats;
    try {
      st = fs.statSync(path);
    } catch {
      this.writable.delete(key);
      return;
    }
    const euid = typeof process.geteuid === 'function' ? process.geteuid() : -1;
    const groups = typeof process.getgroups === 'function' ? process.getgroups() : [];
    if (typeof process.getegid === 'function') groups.push(process.getegid());
    const who = euid < 0 ? null : writableBy(st, euid, groups);
    if (!who) {
      this.writable.delete(key);
      return;
    }
    this.writable.set(key, {
      key: `code:file-writable:${key}`,
      subsystem: 'code',
      kind: 'code-file-writable',
      path,
      detail: `mapped code file can be rewritten in place (a write(2) changes the running code through the page cache): ${path}: ${who}`,
      evidence: { uid: st.uid, gid: st.gid, mode: `0${(st.mode & 0o7777).toString(8)}`, who },
    });
    this.keepPristine(key, path, st.size);
  }

  private keepPristine(key: string, path: string, size: number): void {
    if (this.pristine.has(key) || this.pristineBytes + size > this.pristineCap) return;
    let fd: number | null = null;
    try {
      fd = fs.openSync(path, 'r');
      const st = fs.fstatSync(fd, { bigint: true });
      if (`${mapsDev(Number(st.dev >> 8n & 0xfffn), Number((st.dev & 0xffn) | ((st.dev >> 12n) & 0xfff00n)))}:${st.ino}` !== key) throw new Error('not the mapped file');
      const bytes = Buffer.alloc(Number(st.size));
      let off = 0;
      while (off < bytes.length) {
        const n = fs.readSync(fd, bytes, off, bytes.length - off, off);
        if (n <= 0) break;
        off += n;
      }
      this.pristine.set(key, { fd, bytes });
      this.pristineBytes += bytes.length;
    } catch {
      if (fd !== null) fs.closeSync(fd);
    }
  }
}
