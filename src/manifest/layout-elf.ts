/**
 * ELF: every byte is covered (nothing signs ELF files in place), and the executable pages are the
 * PT_LOAD segments with PF_X, keyed by file page as the engine keys a mapping (offset / 4096).
 */
import { PAGE_SIZE } from '../integrity/constants';
import type { DigestPlan, PlannedCode } from './plan';

const PT_LOAD = 1;
const PF_X = 1;

/** Executable page ranges from the program headers; [] when the header is not a readable ELF. */
export function elfCode(head: Buffer, fileSize: number): PlannedCode[] {
  if (head.length < 52 || head.readUInt32BE(0) !== 0x7f454c46) return [];
  const is64 = head[4] === 2;
  const le = head[5] !== 2;
  const u16 = (o: number) => (le ? head.readUInt16LE(o) : head.readUInt16BE(o));
  const u32 = (o: number) => (le ? head.readUInt32LE(o) : head.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? head.readBigUInt64LE(o) : head.readBigUInt64BE(o));
  const phoff = is64 ? u64(32) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  const ranges: PlannedCode[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (p + (is64 ? 56 : 32) > head.length) break;
    if (u32(p) !== PT_LOAD) continue;
    const flags = is64 ? u32(p + 4) : u32(p + 24);
    if (!(flags & PF_X)) continue;
    const off = is64 ? u64(p + 8) : u32(p + 4);
    const filesz = is64 ? u64(p + 32) : u32(p + 16);
    if (filesz === 0 || off >= fileSize) continue;
    const start = Math.floor(off / PAGE_SIZE) * PAGE_SIZE;
    const end = Math.min(fileSize, Math.ceil((off + filesz) / PAGE_SIZE) * PAGE_SIZE);
    ranges.push({ offset: start, size: end - start });
  }
  return ranges;
}

export function planWhole(fileSize: number, code: PlannedCode[] = []): DigestPlan {
  return { pieces: [{ offset: 0, length: fileSize }], code };
}
