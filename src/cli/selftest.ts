/**
 * `procguard selftest`: flips a bit in the addon's canary code page (a page that never runs),
 * shows the finding with its location, restores the bit and shows code-restored.
 * Uses /proc/self/mem (FOLL_FORCE writes read-only code), so it runs before any hardening.
 */
import * as fs from 'node:fs';
import { loadNative } from '../native';
import { CodeMonitor } from '../integrity/monitor';
import { UnsupportedPlatformError } from '../errors';
import type { Observation } from '../types';

export interface SelftestResult {
  ok: boolean;
  flipped: { address: string; bit: number };
  finding: Observation | null;
  restored: Observation | null;
}

function writeByte(fd: number, addr: bigint, v: number): void {
  if (fs.writeSync(fd, Buffer.from([v]), 0, 1, Number(addr)) !== 1) throw new Error('short write to /proc/self/mem');
}

export async function selftest(log: (s: string) => void = () => {}): Promise<SelftestResult> {
  if (process.platform !== 'linux') throw new UnsupportedPlatformError('selftest (needs /proc/self/mem)');
  const native = loadNative();
  const canary = native.selftestCanary();
  if (!canary) throw new UnsupportedPlatformError('selftest canary page');
  const addr = canary.start + 1234n;
  const bit = 0x08;
  const monitor = new CodeMonitor({ compareDisk: true });
  const mem = fs.openSync('/proc/self/mem', 'r+');
  try {
    await monitor.baseline();
    log(`baseline taken: ${monitor.baselinePages()} pages`);
    const orig = Buffer.alloc(1);
    fs.readSync(mem, orig, 0, 1, Number(addr));
    writeByte(mem, addr, orig[0] ^ bit);
    log(`flipped bit 0x${bit.toString(16)} at 0x${addr.toString(16)} (addon canary page)`);
    let r;
    try {
      r = await monitor.check();
    } finally {
      writeByte(mem, addr, orig[0]);
    }
    const finding = r.open.find((o) => o.kind === 'code-modified' && o.address === `0x${addr.toString(16)}`) ?? null;
    if (finding) log(`finding: ${finding.kind} ${finding.detail} at ${finding.address}`);
    else log('NO FINDING: the flip was not detected');
    log('restored the bit');
    const r2 = await monitor.check();
    const restored = r2.events.find((e) => e.kind === 'code-restored' && e.offset === finding?.offset) ?? null;
    if (restored) log(`finding: ${restored.kind} ${restored.detail}`);
    return { ok: finding !== null && restored !== null, flipped: { address: `0x${addr.toString(16)}`, bit }, finding, restored };
  } finally {
    fs.closeSync(mem);
    monitor.close();
  }
}
