/**
 * Mach-O (64-bit, little-endian: x86_64 and arm64): the digest leaves out what `codesign` adds or
 * rewrites in place: the header's ncmds and sizeofcmds, the LC_CODE_SIGNATURE load command (written
 * into the header padding after the other commands), the __LINKEDIT segment's vmsize and filesize,
 * and the signature blob from its dataoff to the end (with the zero padding before it).
 *
 * Pieces: the header and load commands so edited (in memory), then [first non-zero byte after the
 * load commands, end) where end is the signature's dataoff (or the file's end) less trailing zeros.
 * Code: each section of an executable segment (initprot has VM_PROT_EXECUTE), digested on its own
 * and named "segment,section", so two links of the same code compare equal even where the linker
 * moved a section by the size of the signature's load command.
 */
import type { FileHandle } from 'node:fs/promises';
import { LayoutError, readAt, skipLeadingZeros, trimTrailingZeros, type DigestPlan, type PlannedCode } from './plan';

const MH_MAGIC_64 = 0xfeedfacf;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const VM_PROT_EXECUTE = 4;
const S_ZEROFILL = 0x1;
const S_GB_ZEROFILL = 0xc;
const S_THREAD_LOCAL_ZEROFILL = 0x12;
/** Load commands larger than this are refused (a real app's are a few KiB). */
const MAX_COMMANDS = 4 * 1024 * 1024;

const cstr = (b: Buffer, at: number) => b.subarray(at, at + 16).toString('latin1').replace(/\0.*$/s, '');

/**
 * One thin Mach-O at `base` (0, or a slice of a universal file) of `fileSize` bytes. Piece offsets
 * are absolute in the file; the digest depends on the bytes only, so a slice that moved (signing
 * grew the slice before it) digests the same.
 */
export async function planMachO(fh: FileHandle, fileSize: number, base = 0, label = ''): Promise<DigestPlan> {
  const hdr = await readAt(fh, base, 32);
  if (hdr.length < 32 || hdr.readUInt32LE(0) !== MH_MAGIC_64) throw new LayoutError('not a 64-bit little-endian Mach-O');
  const ncmds = hdr.readUInt32LE(16);
  const sizeofcmds = hdr.readUInt32LE(20);
  if (sizeofcmds > MAX_COMMANDS || 32 + sizeofcmds > fileSize) throw new LayoutError(`load commands of ${sizeofcmds} bytes do not fit the file`);
  const cmds = await readAt(fh, base + 32, sizeofcmds);
  const kept: Buffer[] = [Buffer.from(hdr)];
  kept[0].fill(0, 16, 24);
  let sigOffset = -1;
  const code: PlannedCode[] = [];
  for (let i = 0, at = 0; i < ncmds; i++) {
    if (at + 8 > cmds.length) throw new LayoutError('load commands run past sizeofcmds');
    const cmd = cmds.readUInt32LE(at);
    const size = cmds.readUInt32LE(at + 4);
    if (size < 8 || at + size > cmds.length) throw new LayoutError(`load command ${i} has a bad size ${size}`);
    const c = Buffer.from(cmds.subarray(at, at + size));
    if (cmd === LC_CODE_SIGNATURE) {
      sigOffset = c.readUInt32LE(8);
    } else {
      if (cmd === LC_SEGMENT_64 && size >= 72) {
        const seg = cstr(c, 8);
        if (seg === '__LINKEDIT') {
          c.fill(0, 32, 40); // vmsize
          c.fill(0, 48, 56); // filesize
        }
        const exec = (c.readUInt32LE(60) & VM_PROT_EXECUTE) !== 0;
        const nsects = c.readUInt32LE(64);
        for (let s = 0; exec && s < nsects && 72 + (s + 1) * 80 <= size; s++) {
          const sa = 72 + s * 80;
          const type = c.readUInt32LE(sa + 64) & 0xff;
          const secSize = Number(c.readBigUInt64LE(sa + 40));
          const off = c.readUInt32LE(sa + 48);
          if (type === S_ZEROFILL || type === S_GB_ZEROFILL || type === S_THREAD_LOCAL_ZEROFILL || secSize === 0 || off === 0) continue;
          if (off + secSize > fileSize) throw new LayoutError(`section ${cstr(c, sa + 16)},${cstr(c, sa)} runs past the file`);
          code.push({ name: `${label}${cstr(c, sa + 16)},${cstr(c, sa)}`, offset: base + off, size: secSize });
        }
      }
      kept.push(c);
    }
    at += size;
  }
  let end = fileSize;
  if (sigOffset >= 0) {
    if (sigOffset < 32 + sizeofcmds || sigOffset > fileSize) throw new LayoutError(`code signature offset ${sigOffset} is outside the file`);
    end = sigOffset;
  }
  end = await trimTrailingZeros(fh, base + 32 + sizeofcmds, base + end);
  const start = await skipLeadingZeros(fh, base + 32 + sizeofcmds, end);
  const pieces: DigestPlan['pieces'] = [{ literal: Buffer.concat(kept) }];
  if (end > start) pieces.push({ offset: start, length: end - start });
  return { pieces, code };
}

const CPU_NAMES: Record<number, string> = { 0x01000007: 'x86_64', 0x0100000c: 'arm64' };

/**
 * A universal (fat) file: the fat header without the slice offsets, sizes and alignments (signing
 * grows slices and so moves the ones after), then each slice by the thin rule above. Slices that
 * are not 64-bit little-endian Mach-O are refused (LayoutError: the file is then digested whole).
 */
export async function planMachOFat(fh: FileHandle, fileSize: number): Promise<DigestPlan> {
  const hdr = await readAt(fh, 0, 8);
  if (hdr.length < 8) throw new LayoutError('truncated fat header');
  const magic = hdr.readUInt32BE(0);
  if (magic !== 0xcafebabe && magic !== 0xcafebabf) throw new LayoutError('not a universal (fat) Mach-O');
  const is64 = magic === 0xcafebabf;
  const n = hdr.readUInt32BE(4);
  const entry = is64 ? 32 : 20;
  if (n === 0 || n > 64 || 8 + n * entry > fileSize) throw new LayoutError(`fat header lists ${n} slices`);
  const table = await readAt(fh, 8, n * entry);
  const head = Buffer.alloc(8 + n * 8);
  hdr.copy(head, 0, 0, 8);
  const pieces: DigestPlan['pieces'] = [{ literal: head }];
  const code: PlannedCode[] = [];
  for (let i = 0; i < n; i++) {
    const e = i * entry;
    const cputype = table.readUInt32BE(e);
    table.copy(head, 8 + i * 8, e, e + 8); // cputype, cpusubtype
    const offset = is64 ? Number(table.readBigUInt64BE(e + 8)) : table.readUInt32BE(e + 8);
    const size = is64 ? Number(table.readBigUInt64BE(e + 16)) : table.readUInt32BE(e + 12);
    if (offset + size > fileSize) throw new LayoutError(`slice ${i} runs past the file`);
    const slice = await planMachO(fh, size, offset, `${CPU_NAMES[cputype] ?? `cpu-0x${cputype.toString(16)}`} `);
    pieces.push(...slice.pieces);
    code.push(...slice.code);
  }
  return { pieces, code };
}
