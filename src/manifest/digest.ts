/**
 * The digest of one file under a rule (docs/manifest.md "Digests"):
 *   digest = BLAKE3-256( for each piece: le64(piece length) || page digests of the piece )
 * where a page digest is the engine's: the first 16 bytes of BLAKE3 of a 4 KiB page, the last page
 * zero-padded. One read of the file gives both the file digest and the code pages' digests.
 * Code runs: 16 bytes of BLAKE3 over each RUN_PAGES page digests of a code range.
 */
import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { DIGEST_SIZE, PAGE_SIZE } from '../integrity/constants';
import type { DigestRule } from './format';
import { RUN_PAGES } from './format';
import { elfCode, planWhole } from './layout-elf';
import { planMachO, planMachOFat } from './layout-macho';
import { planPe } from './layout-pe';
import { readAt, type DigestPlan, type PlannedCode } from './plan';
import type { PageHasher } from './page-hasher';

export interface FileDigest {
  digest: Buffer;
  /** Run digests per code range, in the order asked (empty when the digest matched `expected`). */
  runs: Buffer[];
  /** Bytes this digest covers (progress and the bench). */
  bytes: number;
}

/** Bytes read to classify a file and find its ELF program headers. */
export const HEAD_BYTES = 64 * 1024;

export async function planFor(rule: DigestRule, fh: FileHandle, size: number, head: Buffer): Promise<DigestPlan> {
  switch (rule) {
    case 'pe-authenticode':
      return planPe(fh, size);
    case 'macho-codesign':
      return planMachO(fh, size);
    case 'macho-fat-codesign':
      return planMachOFat(fh, size);
    default:
      return planWhole(size, elfCode(head, size));
  }
}

export async function readHead(fh: FileHandle, size: number): Promise<Buffer> {
  return readAt(fh, 0, Math.min(HEAD_BYTES, size));
}

/**
 * Hashes the plan's pieces and the given code ranges (from the plan at create, the manifest at
 * verify). With `expected` (verify), the code runs are computed only when the digest differs.
 */
export async function digestPlan(fh: FileHandle, plan: DigestPlan, code: PlannedCode[], hasher: PageHasher, onBytes?: (n: number) => void, expected?: Buffer): Promise<FileDigest> {
  const lane = hasher.lane();
  const records: Buffer[] = [];
  const pieceDigests: { offset: number; length: number; digests: Buffer }[] = [];
  let bytes = 0;
  for (const p of plan.pieces) {
    const len = 'literal' in p ? p.literal.length : p.length;
    const digests = 'literal' in p ? hasher.literal(p.literal) : await hasher.range(fh, p.offset, p.length, lane, onBytes);
    if ('literal' in p) onBytes?.(len);
    else pieceDigests.push({ offset: p.offset, length: p.length, digests });
    const le = Buffer.alloc(8);
    le.writeBigUInt64LE(BigInt(len));
    records.push(le, digests);
    bytes += len;
  }
  const digest = hasher.blake3Parts(records);
  // The runs are needed to write a manifest, and to locate a difference; a file that matches needs none.
  if (expected !== undefined && digest.equals(expected)) return { digest, runs: [], bytes };
  const runs: Buffer[] = [];
  for (const c of code) {
    // A page-aligned range inside a hashed piece reuses its page digests (ELF, PE); others are
    // hashed on their own (Mach-O sections).
    const src = pieceDigests.find(
      (p) =>
        c.offset >= p.offset &&
        c.offset + c.size <= p.offset + p.length &&
        (c.offset - p.offset) % PAGE_SIZE === 0 &&
        // the range's last page must be the piece's too: ends on a page boundary or with the piece
        (c.size % PAGE_SIZE === 0 || c.offset + c.size === p.offset + p.length),
    );
    let pages: Buffer;
    if (src) {
      const first = (c.offset - src.offset) / PAGE_SIZE;
      pages = src.digests.subarray(first * DIGEST_SIZE, (first + Math.ceil(c.size / PAGE_SIZE)) * DIGEST_SIZE);
    } else {
      pages = await hasher.range(fh, c.offset, c.size, lane);
    }
    runs.push(hasher.runs(pages, RUN_PAGES));
  }
  return { digest, runs, bytes };
}

/** Opens `file` without following a final symlink, for reading. */
export async function openForDigest(file: string): Promise<FileHandle> {
  return fs.open(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
}
