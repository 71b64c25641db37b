/**
 * Code integrity of a child, cheap by design. A page of a child's file-backed code mapping that
 * pagemap shows present and file-backed IS the page-cache page, which the main's disk and
 * page-cache checks cover by (dev, inode, offset); only present-and-anonymous pages (copied on
 * write: somebody wrote them) are read, in native code, and compared with the file's bytes there.
 * JIT and V8 reservations are classified as in the main (integrity/regions.ts) and never compared.
 */
import type { MapsEntry } from '../procfs/maps';
import { classifyRegions, hex } from '../integrity/regions';
import type { NativeTreeHit, NativeTreeJob, NativeTreeResult } from '../native';
import type { Observation } from '../types';

/** Bounds of one child's native job (native/tree/tree.h kTreeMaxRegions, kTreeMaxJobBytes): past them
 *  the rest of the child's code mappings are left out of the check and the plan says so. */
export const MAX_CHILD_CODE_REGIONS = 65536;
export const MAX_CHILD_CODE_BYTES = 64 * 2 ** 30;

export interface ChildCodePlan {
  job: NativeTreeJob;
  /** Code mappings left out because the bounds above were reached (0 normally). */
  omittedRegions: number;
  /** Per job region: its path and file key ('dev:inode'), for the observations. */
  meta: { path: string; fileKey: string }[];
  bytes: number;
  jitRegions: number;
  anonymousExecRegions: number;
}

/** The child's file-backed executable mappings as a native job (pure: from its parsed maps). */
export function planChildCode(pid: number, maps: readonly MapsEntry[], exe: string | null, startTicks?: string): ChildCodePlan {
  const regions = classifyRegions(maps, { mainExecutable: exe });
  const job: NativeTreeJob = { pid, regions: [] };
  // The native job then reads only this process: a pid reused meanwhile is reported as exited.
  if (startTicks !== undefined && /^[0-9]+$/.test(startTicks)) job.startTicks = BigInt(startTicks);
  const plan: ChildCodePlan = { job, omittedRegions: 0, meta: [], bytes: 0, jitRegions: 0, anonymousExecRegions: 0 };
  for (const r of regions) {
    if (r.klass === 'jit') plan.jitRegions++;
    if (r.klass === 'anonymous-exec') plan.anonymousExecRegions++;
    // A deleted file or a memfd has no path to compare with; the vDSO is the kernel's.
    if (r.klass !== 'main-executable' && r.klass !== 'shared-library' && r.klass !== 'native-addon') continue;
    if (r.path === null || r.fileKey === null) continue;
    // fileKey is 'major:minor:inode' with the device in hex as maps prints it ('fe:00:1474692').
    const m = /^([0-9a-f]+):([0-9a-f]+):([0-9]+)$/.exec(r.fileKey);
    if (!m) continue;
    const size = Number(r.end - r.start);
    if (plan.job.regions.length >= MAX_CHILD_CODE_REGIONS || plan.bytes + size > MAX_CHILD_CODE_BYTES) {
      plan.omittedRegions++;
      continue;
    }
    plan.job.regions.push({
      start: r.start,
      end: r.end,
      fileOffset: r.fileOffset,
      path: r.path,
      devMajor: parseInt(m[1], 16),
      devMinor: parseInt(m[2], 16),
      ino: BigInt(m[3]),
    });
    plan.meta.push({ path: r.path, fileKey: r.fileKey });
    plan.bytes += size;
  }
  return plan;
}

/**
 * Written pages of one child that could not be compared (its memory or the file unreadable: the
 * mapped path replaced by a FIFO, a file that no longer matches, ...): one observation per file,
 * with the count and the first reason. A written code page nobody can check is not a clean one.
 */
export function unreadableObservations(plan: ChildCodePlan, res: NativeTreeResult, processKey: string, processType: string): Observation[] {
  const byFile = new Map<string, { path: string; count: number; detail: string; first: NativeTreeHit }>();
  for (const h of res.hits) {
    if (h.state !== 'unreadable') continue;
    const meta = plan.meta[h.region];
    if (!meta) continue;
    const e = byFile.get(meta.fileKey);
    if (e) e.count++;
    else byFile.set(meta.fileKey, { path: meta.path, count: 1, detail: h.detail ?? 'unreadable', first: h });
  }
  return [...byFile].map(([fileKey, e]) => ({
    key: `tree:code-unreadable:${processKey}:${fileKey}`,
    subsystem: 'code' as const,
    kind: 'code-unreadable',
    detail: `${processType} pid ${res.pid}: ${e.count} written page(s) of ${e.path} could not be compared with the file: ${e.detail}`,
    path: e.path,
    address: hex(e.first.address),
    offset: e.first.fileOffset,
    pid: res.pid,
    processType,
    evidence: { pages: e.count, fileKey, reason: e.detail },
  }));
}

/** The open code-modified observations of one child from the native result. */
export function codeObservations(plan: ChildCodePlan, res: NativeTreeResult, processKey: string, processType: string): Observation[] {
  const out: Observation[] = [];
  for (const h of res.hits) {
    if (h.state !== 'modified') continue;
    const meta = plan.meta[h.region];
    if (!meta) continue;
    const page = Math.floor(h.fileOffset / 4096);
    const offset = h.fileOffset + (h.firstDiff ?? 0);
    out.push({
      // Keyed by the file identity and offset (survives a split or remap of the mapping) and the process identity.
      key: `tree:code-modified:${processKey}:${meta.fileKey}:${h.fileOffset}`,
      subsystem: 'code',
      kind: 'code-modified',
      detail:
        `${processType} pid ${res.pid}: ${meta.path} page ${page} (file offset 0x${h.fileOffset.toString(16)}) ` +
        `differs from the file: ${h.diffBytes} byte(s), first at file offset 0x${offset.toString(16)} ` +
        `(file 0x${(h.fileByte ?? 0).toString(16).padStart(2, '0')}, memory 0x${(h.memByte ?? 0).toString(16).padStart(2, '0')})`,
      path: meta.path,
      address: hex(h.address + BigInt(h.firstDiff ?? 0)),
      offset,
      page,
      before: h.fileByte,
      after: h.memByte,
      pid: res.pid,
      processType,
      evidence: { diffBytes: h.diffBytes, pageAddress: hex(h.address), fileKey: meta.fileKey },
    });
  }
  return out;
}
