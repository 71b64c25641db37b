/**
 * Page digests of file ranges, hashed on the engine's native threads (Scanner.hashFile: pread +
 * BLAKE3 per 4 KiB page, 16 bytes kept, the engine's own page digest). Only the tail of a range that
 * does not fill a page, and small header pieces, are hashed here on the calling thread (< 4 KiB each).
 */
import type { FileHandle } from 'node:fs/promises';
import { loadNative, type NativeBinding, type NativeScanner } from '../native';
import { DIGEST_SIZE, PAGE_SIZE } from '../integrity/constants';

/** One hashFile job: large enough to amortize the hop, small enough for a smooth progress bar. */
const CHUNK_BYTES = 32 * 1024 * 1024;

export class PageHasher {
  readonly native: NativeBinding;
  private readonly scanners: NativeScanner[];
  private next = 0;
  private closed = false;

  /** `threads`: native hashing threads (one Scanner each). */
  constructor(threads = 1, native: NativeBinding = loadNative()) {
    this.native = native;
    this.scanners = Array.from({ length: Math.max(1, Math.floor(threads)) }, () => new native.Scanner());
  }

  get threads(): number {
    return this.scanners.length;
  }

  /** Picks the thread for one file: every chunk of a file goes to the same thread, in order. */
  lane(): NativeScanner {
    const s = this.scanners[this.next];
    this.next = (this.next + 1) % this.scanners.length;
    return s;
  }

  /**
   * Digests of `length` bytes at `offset`: 16 bytes per 4 KiB page, the last page zero-padded past
   * `length`. `onBytes` reports progress.
   */
  async range(fh: FileHandle, offset: number, length: number, lane: NativeScanner, onBytes?: (n: number) => void): Promise<Buffer> {
    const whole = Math.floor(length / PAGE_SIZE) * PAGE_SIZE;
    const parts: Buffer[] = [];
    for (let at = 0; at < whole; at += CHUNK_BYTES) {
      const n = Math.min(CHUNK_BYTES, whole - at);
      parts.push(await lane.hashFile(fh.fd, offset + at, n, 'blake3'));
      onBytes?.(n);
    }
    const tail = length - whole;
    if (tail > 0) {
      const page = Buffer.alloc(PAGE_SIZE);
      const { bytesRead } = await fh.read(page, 0, tail, offset + whole);
      // A file that shrank while hashed reads short: the zeros then differ from the vendor's bytes.
      page.fill(0, bytesRead);
      parts.push(this.literal(page.subarray(0, tail)));
      onBytes?.(tail);
    }
    // One part (a range up to 32 MiB): the engine's buffer as is, no copy on the JS thread.
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** Digests of a small in-memory piece (header bytes): same layout as range(). */
  literal(bytes: Uint8Array): Buffer {
    const pages = Math.ceil(bytes.length / PAGE_SIZE);
    if (pages === 0) return Buffer.alloc(0);
    const padded = Buffer.alloc(pages * PAGE_SIZE);
    padded.set(bytes);
    return this.native.hashPages(padded, 'blake3');
  }

  /** One 16-byte digest per `runPages` page digests (the last run may be shorter). */
  runs(pageDigests: Buffer, runPages: number): Buffer {
    const pages = pageDigests.length / DIGEST_SIZE;
    const out = Buffer.alloc(Math.ceil(pages / runPages) * DIGEST_SIZE);
    for (let r = 0; r * runPages < pages; r++) {
      const slice = pageDigests.subarray(r * runPages * DIGEST_SIZE, Math.min(pages, (r + 1) * runPages) * DIGEST_SIZE);
      this.native.blake3(slice, { outLen: DIGEST_SIZE }).copy(out, r * DIGEST_SIZE);
    }
    return out;
  }

  /** BLAKE3-256 of small data (the digest lists of one file). */
  blake3(data: Uint8Array): Buffer {
    return this.native.blake3(data);
  }

  /** BLAKE3-256 of the parts' concatenation (a file's records: up to MiBs of page digests), not concatenated. */
  blake3Parts(parts: readonly Uint8Array[]): Buffer {
    return this.native.blake3Parts(parts);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.scanners) s.close();
  }
}
