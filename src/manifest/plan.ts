/**
 * A digest plan: which bytes of a file its digest covers (pieces, in order) and where its code is.
 * The layout-*.ts files make plans; digest.ts hashes them.
 */
import type { FileHandle } from 'node:fs/promises';

/** Bytes held in memory (a header with the fields signing rewrites zeroed), or a range of the file. */
export type Piece = { literal: Buffer } | { offset: number; length: number };

export interface PlannedCode {
  name?: string;
  offset: number;
  size: number;
}

export interface DigestPlan {
  pieces: Piece[];
  /** Executable ranges found in the headers (create only; verify takes them from the manifest). */
  code: PlannedCode[];
}

/** The file does not have the structure its digest rule needs (a PE that is no longer a PE). */
export class LayoutError extends Error {}

export async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  return buf.subarray(0, bytesRead);
}

/** The end of [start, end) without its trailing zero bytes (signers pad with zeros before their data). */
export async function trimTrailingZeros(fh: FileHandle, start: number, end: number): Promise<number> {
  const step = 64 * 1024;
  while (end > start) {
    const from = Math.max(start, end - step);
    const buf = await readAt(fh, from, end - from);
    if (buf.length !== end - from) throw new LayoutError('the file changed size while it was read');
    for (let i = buf.length - 1; i >= 0; i--) if (buf[i] !== 0) return from + i + 1;
    end = from;
  }
  return start;
}

/** The first non-zero byte at or after `start` (bounded by `end`). */
export async function skipLeadingZeros(fh: FileHandle, start: number, end: number): Promise<number> {
  const step = 64 * 1024;
  while (start < end) {
    const buf = await readAt(fh, start, Math.min(step, end - start));
    if (buf.length === 0) break;
    for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return start + i;
    start += buf.length;
  }
  return end;
}
