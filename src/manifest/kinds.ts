/**
 * What a file is, from its first bytes and its name: the kind decides the digest rule, and whether
 * a file the vendor did not ship is code (a finding) or data (ignored: logs, caches).
 */
import type { DigestRule, FileKind } from './format';

const SNAPSHOT = /(^|\/)(snapshot_blob|v8_context_snapshot|browser_v8_context_snapshot)(\.[^/]*)?\.bin$/;
const CODE_EXT = /\.(node|dll|dylib|exe|so|asar|pak)$|\.so(\.\d+)+$/i;

export function classify(relPath: string, head: Buffer): FileKind {
  if (head.length >= 4) {
    const be = head.readUInt32BE(0);
    if (be === 0x7f454c46) return 'elf';
    if (be === 0xcffaedfe || be === 0xcefaedfe || be === 0xfeedfacf || be === 0xfeedface) return 'macho';
    // 0xcafebabe is also a Java class file, whose next word (the version) is >= 45.
    if ((be === 0xcafebabe || be === 0xcafebabf) && head.length >= 8 && head.readUInt32BE(4) > 0 && head.readUInt32BE(4) < 45) return 'macho-fat';
  }
  if (head.length >= 64 && head.readUInt16LE(0) === 0x5a4d) {
    const pe = head.readUInt32LE(0x3c);
    if (pe + 4 <= head.length && head.readUInt32LE(pe) === 0x00004550) return 'pe';
  }
  if (/\.asar$/i.test(relPath)) return 'asar';
  if (SNAPSHOT.test(relPath)) return 'v8-snapshot';
  if (/\.pak$/i.test(relPath)) return 'pak';
  return 'data';
}

/** A fat header whose every slice is a 64-bit little-endian Mach-O (x86_64, arm64). */
function fatOf64(head: Buffer): boolean {
  if (head.length < 8) return false;
  const is64 = head.readUInt32BE(0) === 0xcafebabf;
  const n = head.readUInt32BE(4);
  const entry = is64 ? 32 : 20;
  if (n === 0 || 8 + n * entry > head.length) return false;
  for (let i = 0; i < n; i++) {
    const e = 8 + i * entry;
    const offset = is64 ? Number(head.readBigUInt64BE(e + 8)) : head.readUInt32BE(e + 8);
    if ((head.readUInt32BE(e) & 0x01000000) === 0) return false; // CPU_ARCH_ABI64
    if (offset + 4 <= head.length && head.readUInt32LE(offset) !== 0xfeedfacf) return false;
  }
  return true;
}

/**
 * The digest rule of a kind. A 32-bit Mach-O (or a universal file with a 32-bit slice) is
 * digested whole: signing such a file after the manifest breaks its digest (docs/manifest.md).
 */
export function ruleFor(kind: FileKind, head: Buffer): DigestRule {
  if (kind === 'symlink') return 'link';
  if (kind === 'pe') return 'pe-authenticode';
  if (kind === 'macho' && head.length >= 4 && head.readUInt32LE(0) === 0xfeedfacf) return 'macho-codesign';
  if (kind === 'macho-fat' && fatOf64(head)) return 'macho-fat-codesign';
  return 'whole';
}

/** Code the app could run or load: a copy of one the vendor did not ship is a finding. */
export function isCodeFile(relPath: string, kind: FileKind, executableBit: boolean): boolean {
  if (kind !== 'data' && kind !== 'symlink') return true;
  return executableBit || CODE_EXT.test(relPath);
}
