/**
 * PE (Windows .exe/.dll/.node): the digest leaves out exactly what Authenticode signing changes,
 * by Authenticode's own rules: the CheckSum field of the optional header, the Certificate Table
 * entry (IMAGE_DIRECTORY_ENTRY_SECURITY) of the data directory, and the certificate table the signer
 * appends at the end, with the zero padding it adds to align that table. So a manifest made before
 * signing still holds after `signtool`/`osslsigncode`.
 *
 * Pieces: page 0 with the two fields zeroed (they always lie in the first 4 KiB; a file where they
 * do not is refused), then [4096, end) where end is the certificate table's offset (or the file's
 * end) less trailing zero bytes. Code pages are the sections with IMAGE_SCN_MEM_EXECUTE, by file
 * offset of their raw data.
 */
import type { FileHandle } from 'node:fs/promises';
import { PAGE_SIZE } from '../integrity/constants';
import { LayoutError, readAt, trimTrailingZeros, type DigestPlan, type PlannedCode } from './plan';

const IMAGE_SCN_MEM_EXECUTE = 0x20000000;

interface PeHeader {
  checksumAt: number;
  securityAt: number;
  certOffset: number;
  certSize: number;
  sections: { name: string; rawOffset: number; rawSize: number; exec: boolean }[];
}

export function parsePe(head: Buffer): PeHeader {
  if (head.length < 64 || head.readUInt16LE(0) !== 0x5a4d) throw new LayoutError('no MZ header');
  const pe = head.readUInt32LE(0x3c);
  if (pe + 24 > head.length || head.readUInt32LE(pe) !== 0x00004550) throw new LayoutError('no PE signature in the first 4 KiB');
  const sections = head.readUInt16LE(pe + 6);
  const optSize = head.readUInt16LE(pe + 20);
  const opt = pe + 24;
  if (opt + optSize > head.length) throw new LayoutError('optional header past the first 4 KiB');
  const magic = head.readUInt16LE(opt);
  if (magic !== 0x10b && magic !== 0x20b) throw new LayoutError(`unknown optional header magic 0x${magic.toString(16)}`);
  const dirs = opt + (magic === 0x20b ? 112 : 96);
  const dirCount = head.readUInt32LE(dirs - 4);
  if (dirCount < 5 || dirs + 5 * 8 > opt + optSize) throw new LayoutError('no certificate table entry in the data directory');
  const securityAt = dirs + 4 * 8;
  const out: PeHeader = {
    checksumAt: opt + 64,
    securityAt,
    certOffset: head.readUInt32LE(securityAt),
    certSize: head.readUInt32LE(securityAt + 4),
    sections: [],
  };
  const table = opt + optSize;
  for (let i = 0; i < sections; i++) {
    const s = table + i * 40;
    if (s + 40 > head.length) throw new LayoutError('section table past the first 4 KiB');
    out.sections.push({
      name: head.subarray(s, s + 8).toString('latin1').replace(/\0+$/, ''),
      rawSize: head.readUInt32LE(s + 16),
      rawOffset: head.readUInt32LE(s + 20),
      exec: (head.readUInt32LE(s + 36) & IMAGE_SCN_MEM_EXECUTE) !== 0,
    });
  }
  return out;
}

export async function planPe(fh: FileHandle, fileSize: number): Promise<DigestPlan> {
  const head = await readAt(fh, 0, Math.min(PAGE_SIZE, fileSize));
  const h = parsePe(head);
  let end = fileSize;
  if (h.certSize > 0) {
    if (h.certOffset < PAGE_SIZE || h.certOffset + h.certSize > fileSize) throw new LayoutError(`certificate table [${h.certOffset}, +${h.certSize}) is outside the file`);
    end = h.certOffset;
  }
  end = await trimTrailingZeros(fh, 0, end);
  const page0 = Buffer.from(head.subarray(0, Math.min(PAGE_SIZE, end)));
  // Zero the fields inside the kept bytes (page0 may be shorter than the header when end < 4 KiB).
  for (const [at, n] of [[h.checksumAt, 4], [h.securityAt, 8]]) page0.fill(0, Math.min(at, page0.length), Math.min(at + n, page0.length));
  const pieces: DigestPlan['pieces'] = [{ literal: page0 }];
  if (end > PAGE_SIZE) pieces.push({ offset: PAGE_SIZE, length: end - PAGE_SIZE });
  const code: PlannedCode[] = [];
  for (const s of h.sections) {
    if (!s.exec || s.rawSize === 0) continue;
    const start = Math.max(PAGE_SIZE, Math.floor(s.rawOffset / PAGE_SIZE) * PAGE_SIZE);
    const stop = Math.min(end, Math.ceil((s.rawOffset + s.rawSize) / PAGE_SIZE) * PAGE_SIZE);
    if (stop > start) code.push({ name: s.name, offset: start, size: stop - start });
  }
  return { pieces, code };
}
