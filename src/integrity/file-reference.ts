/**
 * The disk/page-cache reference: for each mapped file, a descriptor on the very inode that is
 * mapped (not an updated file at the same path), handed to the native engine, which keeps its own
 * duplicate and reads the file pages that are not mapped in, compares pages that were copied on
 * write, and locates changes to the byte. Files that cannot be had keep the reason.
 */
import * as fs from 'node:fs';
import type { NativeScanner } from '../native';
import type { CodeRegion } from './regions';
import { USE_PROCFS } from './region-source';

export class FileReference {
  /** Reason per file key: '' when the engine holds the file. */
  private readonly files = new Map<string, string>();

  constructor(private readonly scanner: NativeScanner) {}

  /** Makes sure the engine has the file behind `region`; returns '' or why it has not. */
  ensure(region: CodeRegion): string {
    const key = region.fileKey!;
    const known = this.files.get(key);
    if (known !== undefined) return known;
    const reason = this.open(region);
    this.files.set(key, reason);
    return reason;
  }

  reason(fileKey: string): string | undefined {
    return this.files.get(fileKey);
  }

  /** The file is no longer mapped: let the engine close it (a later mapping opens it again). */
  forget(fileKey: string): void {
    if (!this.files.delete(fileKey)) return;
    this.scanner.dropFile(fileKey);
  }

  private open(region: CodeRegion): string {
    const key = region.fileKey!;
    if (region.klass === 'vdso') return 'vDSO has no file';
    if (region.offsetKind === 'rva') {
      // Windows images are keyed by offset from the module base, not file offset: comparing with the
      // file needs the PE section table and relocations, which is not implemented.
      return 'on-disk comparison of PE images is not implemented';
    }
    const cut = key.lastIndexOf(':');
    const dev = key.slice(0, cut);
    const ino = key.slice(cut + 1);
    const candidates = !region.path ? [] : USE_PROCFS ? [region.path, `/proc/self/map_files/${region.start.toString(16)}-${region.end.toString(16)}`] : [region.path];
    let reason = 'no path to open';
    for (const p of candidates) {
      let fd: number;
      try {
        fd = fs.openSync(p, 'r');
      } catch (e) {
        reason = `${p}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
        continue;
      }
      try {
        const st = fs.fstatSync(fd, { bigint: true });
        // maps prints dev as major:minor in hex; the native walks report `${dev}:${ino}` in decimal.
        const stDev = USE_PROCFS
          ? `${(st.dev >> 8n & 0xfffn).toString(16).padStart(2, '0')}:${((st.dev & 0xffn) | ((st.dev >> 12n) & 0xfff00n)).toString(16).padStart(2, '0')}`
          : st.dev.toString();
        if (st.ino.toString() !== ino || stDev !== dev) {
          reason = `${p} is not the mapped file (inode ${st.ino} on ${stDev}, mapped ${ino} on ${dev}): updated or replaced`;
          continue;
        }
        const r = this.scanner.adoptFile(key, fd);
        return r.ok ? '' : `the engine cannot keep ${p} open (errno ${r.errno})`;
      } catch (e) {
        reason = `${p}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
      } finally {
        fs.closeSync(fd);
      }
    }
    return reason;
  }
}
