/**
 * The findings book: what the code monitor's results mean. It keeps the open conditions
 * (code-modified, differs-from-disk, anonymous-exec) and the one-shot events since the last result
 * (code-restored, mapping-added, mapping-removed), and turns the native engine's confirmed changes
 * into located observations. It does no reading or hashing: that is the engine's job.
 */
import type { Observation } from '../types';
import type { NativeChange, NativePageRef } from '../native';
import { hex, type CodeRegion } from './regions';
import { PAGE_SIZE } from './constants';

const PAGE_PREFIX = 'code:page:';

export function pageKey(fileKey: string, filePage: number): string {
  return `${PAGE_PREFIX}${fileKey}@${filePage}`;
}

export class FindingsBook {
  private readonly open = new Map<string, Observation>();
  private readonly events: Observation[] = [];
  /** Page keys whose change was there before the monitor first saw the page (differs-from-disk). */
  private readonly preexisting = new Set<string>();
  /** Files backing executable mappings at the last look, with their path. */
  private mapped = new Map<string, string | null>();

  /** Pages with open findings, for the engine to report back when they match again. */
  watchList(): NativePageRef[] {
    const out: NativePageRef[] = [];
    for (const k of this.open.keys()) {
      if (!k.startsWith(PAGE_PREFIX)) continue;
      const at = k.lastIndexOf('@');
      out.push({ fileKey: k.slice(PAGE_PREFIX.length, at), filePage: Number(k.slice(at + 1)) });
    }
    return out;
  }

  mappedFiles(): { fileKey: string; path: string }[] {
    return [...this.mapped].map(([fileKey, path]) => ({ fileKey, path: path ?? '' }));
  }

  /**
   * The mappings as read now: records mapping-added (code that was not there at baseline: an
   * injected library looks like this) and mapping-removed (closing what can no longer be
   * re-checked), and the anonymous executable memory outside any JIT. Returns the removed keys.
   */
  mappings(regions: CodeRegion[], baselined: boolean, hasBaseline: (fileKey: string) => boolean): string[] {
    const now = new Map<string, string | null>();
    for (const r of regions) if (r.fileKey !== null) now.set(r.fileKey, r.path);
    for (const [key, path] of now) {
      if (this.mapped.has(key) || !baselined || hasBaseline(key)) continue;
      this.events.push({ key: `code:mapping-added:${key}`, subsystem: 'code', kind: 'mapping-added', path: path ?? undefined, detail: `new executable file mapping: ${path ?? key}` });
    }
    const removed: string[] = [];
    for (const [key, path] of this.mapped) {
      if (now.has(key)) continue;
      removed.push(key);
      this.events.push({ key: `code:mapping-removed:${key}`, subsystem: 'code', kind: 'mapping-removed', path: path ?? undefined, detail: `executable mapping removed: ${path ?? key}` });
      for (const k of [...this.open.keys()]) if (k.startsWith(`${PAGE_PREFIX}${key}@`)) this.open.delete(k);
    }
    this.mapped = now;
    this.anonymousExec(regions);
    return removed;
  }

  private anonymousExec(regions: CodeRegion[]): void {
    const current = new Set<string>();
    for (const r of regions) {
      if (r.klass !== 'anonymous-exec') continue;
      const key = `code:anonymous-exec:${hex(r.start)}`;
      current.add(key);
      if (this.open.has(key)) continue;
      this.open.set(key, {
        key,
        subsystem: 'code',
        kind: 'anonymous-exec',
        address: hex(r.start),
        detail: `anonymous executable memory outside any JIT reservation: ${hex(r.start)}-${hex(r.end)} ${r.perms} (${(Number(r.end - r.start) / 1024).toFixed(0)} KiB)`,
        evidence: { start: hex(r.start), end: hex(r.end), perms: r.perms },
      });
    }
    for (const k of [...this.open.keys()]) if (k.startsWith('code:anonymous-exec:') && !current.has(k)) this.open.delete(k);
  }

  /** A confirmed change of one page, located to the byte when the file could be compared. */
  change(c: NativeChange, region: CodeRegion | undefined): void {
    const key = pageKey(c.fileKey, c.filePage);
    if (c.preexisting) this.preexisting.add(key);
    const pageOffset = c.filePage * PAGE_SIZE;
    const exact = c.located && c.differingBytes > 0;
    const offset = exact ? pageOffset + c.pageOffsets[0] : pageOffset;
    const evidence: Record<string, unknown> = exact
      ? { differingBytes: c.differingBytes, pageOffsets: c.pageOffsets, firstXor: `0x${c.firstXor.toString(16)}` }
      : c.located
        ? {}
        : { locateUnavailable: c.locateUnavailable };
    const kind = this.preexisting.has(key) ? 'differs-from-disk' : 'code-modified';
    const path = region?.path ?? undefined;
    // Windows images are laid out by section: their offset is from the module base (an RVA).
    const rva = region?.offsetKind === 'rva';
    const where = `${path ?? c.fileKey} page ${c.filePage} (${rva ? 'RVA' : 'file offset'} 0x${offset.toString(16)})`;
    const prev = this.open.get(key);
    this.open.set(key, {
      key,
      subsystem: 'code',
      kind,
      path,
      address: hex(c.address + BigInt(offset - pageOffset)),
      offset,
      page: c.filePage,
      before: c.expected,
      after: c.actual,
      detail:
        kind === 'differs-from-disk'
          ? `code differs from the file on disk at ${where}${exact ? '' : ' (byte unknown)'}`
          : `code modified at ${where}${exact ? '' : c.located ? ' (byte unknown: memory and file agree)' : ' (byte unknown: no file to compare)'}`,
      evidence: { klass: region?.klass, ...(rva ? { offsetKind: 'rva' } : {}), ...evidence, ...(prev ? { since: prev.evidence?.since } : {}) },
    });
  }

  /** Open page findings whose page was read and matched its baseline are closed with code-restored. */
  restored(pages: NativePageRef[]): void {
    for (const p of pages) {
      const key = pageKey(p.fileKey, p.filePage);
      const o = this.open.get(key);
      if (!o) continue;
      this.open.delete(key);
      this.preexisting.delete(key);
      this.events.push({
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

  /** A fingerprint of the open set and pending events (to tell whether anything changed). */
  signature(): string {
    return `${[...this.open.keys()].join()}|${this.events.length}`;
  }

  openNow(): Observation[] {
    return [...this.open.values()];
  }

  takeEvents(): Observation[] {
    return this.events.splice(0);
  }
}
