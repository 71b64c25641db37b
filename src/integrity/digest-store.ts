/**
 * Per-page digests of file-backed code, keyed by (file, page index in the file) rather than by
 * address: the mprotect-write-mprotect hook splits a mapping in three and an unmap/remap moves
 * it, but neither changes which file page an address shows, so neither can re-baseline a page.
 * Storage is 16 bytes per page (all-zero = not hashed yet) in a few contiguous segments per file.
 */
const DIGEST = 16;

interface Segment {
  firstPage: number;
  digests: Buffer;
}

export class DigestStore {
  private readonly files = new Map<string, Segment[]>();

  /**
   * A writable view of the digests of pages [firstPage, firstPage + pages) of `fileKey`,
   * allocating (zero = unknown) what is missing. Writes through the view update the store.
   */
  view(fileKey: string, firstPage: number, pages: number): Buffer {
    let segs = this.files.get(fileKey);
    if (!segs) {
      segs = [];
      this.files.set(fileKey, segs);
    }
    const end = firstPage + pages;
    const hit = segs.find((s) => s.firstPage <= firstPage && s.firstPage + s.digests.length / DIGEST >= end);
    if (hit) return hit.digests.subarray((firstPage - hit.firstPage) * DIGEST, (end - hit.firstPage) * DIGEST);
    // Merge every segment that overlaps or touches the range into one.
    const touching = segs.filter((s) => s.firstPage <= end && s.firstPage + s.digests.length / DIGEST >= firstPage);
    const lo = Math.min(firstPage, ...touching.map((s) => s.firstPage));
    const hi = Math.max(end, ...touching.map((s) => s.firstPage + s.digests.length / DIGEST));
    const merged: Segment = { firstPage: lo, digests: Buffer.alloc((hi - lo) * DIGEST) };
    for (const s of touching) s.digests.copy(merged.digests, (s.firstPage - lo) * DIGEST);
    this.files.set(fileKey, [...segs.filter((s) => !touching.includes(s)), merged]);
    return merged.digests.subarray((firstPage - lo) * DIGEST, (end - lo) * DIGEST);
  }

  has(fileKey: string): boolean {
    return this.files.has(fileKey);
  }

  /** Bytes of digest storage held. */
  bytes(): number {
    let n = 0;
    for (const segs of this.files.values()) for (const s of segs) n += s.digests.length;
    return n;
  }

  /** Pages with storage. */
  pages(): number {
    return this.bytes() / DIGEST;
  }
}

export function digestHex(view: Uint8Array, page: number): string {
  return Buffer.from(view.buffer, view.byteOffset + page * DIGEST, DIGEST).toString('hex');
}

export function isKnown(view: Uint8Array, page: number): boolean {
  for (let i = page * DIGEST; i < (page + 1) * DIGEST; i++) if (view[i] !== 0) return true;
  return false;
}

export const DIGEST_SIZE = DIGEST;
