/**
 * qemu-user (linux-user, 7.x) maps one anonymous 4 KiB r-x page into every AArch64 guest, after
 * loading ld.so: its signal-return trampoline, where the kernel would use the vDSO. It is not
 * injected code, so it must not be an `anonymous-exec` finding; it is recognised by exactly what
 * it is (size, protection and every byte), not by loosening the anonymous-exec rule: any other
 * byte in the page, or a page of another size, is reported as usual.
 */
import type { CodeRegion } from './regions';

/** `mov x8, #139` (__NR_rt_sigreturn); `svc #0`, little-endian, then zeros to the end of the page. */
const TRAMPOLINE = [0x68, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4];
const PAGE = 4096;

/** Whether `bytes` (the region's content) is qemu-user's AArch64 sigreturn trampoline page. */
export function isQemuSigtrampPage(region: Pick<CodeRegion, 'start' | 'end' | 'perms'>, bytes: Uint8Array | null): boolean {
  if (region.end - region.start !== BigInt(PAGE) || region.perms !== 'r-xp') return false;
  if (!bytes || bytes.length !== PAGE) return false;
  for (let i = 0; i < PAGE; i++) if (bytes[i] !== (i < TRAMPOLINE.length ? TRAMPOLINE[i] : 0)) return false;
  return true;
}

/** The same, reading the page through `read` (the addon's safe reader); only on Linux arm64. */
export function isQemuSigtramp(
  region: Pick<CodeRegion, 'start' | 'end' | 'perms'>,
  read: (address: bigint, length: number) => Uint8Array | null,
  arch: string = process.arch,
): boolean {
  if (arch !== 'arm64' || region.end - region.start !== BigInt(PAGE) || region.perms !== 'r-xp') return false;
  return isQemuSigtrampPage(region, read(region.start, PAGE));
}
