/**
 * `procguard scan`: every executable region of this process with its size, resident share and
 * hash time (process_consistency's benchmark(), readable), and totals.
 */
import { loadNative, type HashMode } from '../native';
import { hex, isHashable, pageCount } from '../integrity/regions';
import { RegionSource } from '../integrity/region-source';
import { PAGE_SIZE } from '../integrity/constants';
import { mib, table } from './table';

export interface ScanRegionReport {
  path: string;
  class: string;
  start: string;
  end: string;
  perms: string;
  bytes: number;
  residentBytes: number;
  hashed: boolean;
  hashMs: number;
}

export interface ScanReport {
  pid: number;
  mode: HashMode;
  totalBytes: number;
  hashedBytes: number;
  residentBytes: number;
  hashMs: number;
  gbPerSec: number;
  regions: ScanRegionReport[];
}

export async function scan(mode: HashMode): Promise<ScanReport> {
  const native = loadNative();
  const regions = await new RegionSource(native).read();
  // Residency before hashing: hashing faults pages in.
  const resident = regions.map((r) => {
    const v = native.residency(r.start, Number(r.end - r.start));
    return v ? v.reduce((n, b) => n + b, 0) * native.pageSize() : 0;
  });
  const hashable = regions.filter(isHashable);
  const scanner = new native.Scanner();
  try {
    const sweep = await scanner.sweep(hashable.map((r) => ({ start: r.start, end: r.end })), { mode, residentOnly: false });
    const byRegion = new Map(hashable.map((r, i) => [r, sweep.regions[i]] as const));
    const out: ScanRegionReport[] = regions.map((r, i) => {
      const s = byRegion.get(r);
      return {
        path: r.path ?? `[${r.klass}]`,
        class: r.klass,
        start: hex(r.start),
        end: hex(r.end),
        perms: r.perms,
        bytes: pageCount(r) * PAGE_SIZE,
        residentBytes: Math.min(resident[i], pageCount(r) * PAGE_SIZE),
        hashed: s !== undefined,
        hashMs: s ? s.hashNs / 1e6 : 0,
      };
    });
    const hashMs = out.reduce((n, r) => n + r.hashMs, 0);
    return {
      pid: process.pid,
      mode,
      totalBytes: out.reduce((n, r) => n + r.bytes, 0),
      hashedBytes: sweep.bytesHashed,
      residentBytes: out.reduce((n, r) => n + r.residentBytes, 0),
      hashMs,
      gbPerSec: hashMs > 0 ? sweep.bytesHashed / (hashMs * 1e6) : 0,
      regions: out,
    };
  } finally {
    scanner.close();
  }
}

export function formatScan(r: ScanReport): string {
  const rows = r.regions.map((x) => [
    x.class,
    x.start,
    x.perms,
    mib(x.bytes),
    x.bytes ? `${((100 * x.residentBytes) / x.bytes).toFixed(0)}%` : '-',
    x.hashed ? x.hashMs.toFixed(2) : 'not hashed',
    x.path,
  ]);
  return [
    table(['class', 'start', 'perms', 'MiB', 'resident', 'hash ms', 'path'], rows),
    '',
    `total ${mib(r.totalBytes)} MiB executable in ${r.regions.length} regions, ${mib(r.residentBytes)} MiB resident; ` +
      `hashed ${mib(r.hashedBytes)} MiB (${r.mode}) in ${r.hashMs.toFixed(1)} ms = ${r.gbPerSec.toFixed(2)} GB/s on one background thread`,
  ].join('\n');
}
