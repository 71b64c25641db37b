/**
 * The code pass of the Linux tree monitor: each child's written code pages against its files
 * (the plan and the observations are code.ts's; the page-table walks and reads are native).
 *  - reads: /proc/<pid>/statm of each child (one short line), its /proc/<pid>/maps (bounded by
 *    maxMapsBytes) only when statm changed or a minute passed, then one native background job
 *    (treeCodeScan) for all children;
 *  - cadence: every codeMs (10 s) and on check(); with the native fast loop only the planning runs
 *    at that period (the regions are handed to it through `setRegions`) and the fast loop's code
 *    reports come back through applyCode();
 *  - emits: each child's open code-modified / code-unreadable set and code limits (in its tracked
 *    entry), code-restored events (returned), the stalled file read of the last pass, and its stats.
 */
import * as fs from 'node:fs';
import { ProcfsUnreadableError } from '../errors';
import type { NativeTreeJob, NativeTreeResult } from '../native';
import { parseMaps } from '../procfs/maps';
import type { Observation } from '../types';
import { codeObservations, planChildCode, unreadableObservations, type ChildCodePlan } from './code';
import { sameProcess, type Tracked, type TreeContext } from './tracked';

/** The maps text is re-read at least this often even when statm did not move, ms. */
const MAPS_REREAD_MS = 60_000;

/** The lines of a maps text whose permissions are executable. */
export function execLines(text: string): string {
  let out = '';
  let pos = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const sp = text.indexOf(' ', pos);
    if (sp >= 0 && sp + 3 < nl && text.charCodeAt(sp + 3) === 0x78 /* 'x' */) out += text.slice(pos, nl + 1);
    pos = nl + 1;
  }
  return out;
}

/** At most `max` bytes of a procfs file; null when it is longer (or unreadable: `undefined`). */
export function readBounded(file: string, max: number): string | null | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(256 * 1024, max + 1 - total));
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > max) return null;
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

export interface CodeStats {
  bytes: number;
  readBytes: number;
  pagemapBytes: number;
  processes: number;
}

export class CodePass {
  /** The last pass's stalled file read (native/tree/tree_files.h), or null. */
  stalled: string | null = null;
  private lastStats: CodeStats = { bytes: 0, readBytes: 0, pagemapBytes: 0, processes: 0 };

  /** `setRegions` hands a child's planned regions to the native fast loop (a no-op without it). */
  constructor(
    private readonly ctx: TreeContext,
    private readonly setRegions: (key: string, regions: NativeTreeJob['regions']) => void,
  ) {}

  /** Bytes covered and read by the last pass (bench). */
  stats(): CodeStats {
    return { ...this.lastStats };
  }

  /** One native job for every child's written code pages; returns one-shot events (code-restored). */
  async run(): Promise<Observation[]> {
    const native = this.ctx.binding();
    const { codeMs, procRoot } = this.ctx.opts;
    // The code check reads live memory: it has no meaning on a captured procfs tree (tests).
    if (!native?.treeCodeScan || codeMs === 0 || procRoot !== '/proc') return [];
    const plans: { t: Tracked; plan: ChildCodePlan }[] = [];
    for (const t of this.ctx.tracked.values()) {
      const plan = this.planFor(t);
      if (plan) plans.push({ t, plan });
    }
    const results = await native.treeCodeScan(plans.map((p) => p.plan.job));
    this.stalled = results.find((r) => r.fileStalled !== undefined)?.fileStalled ?? null;
    const events: Observation[] = [];
    const stats: CodeStats = { bytes: 0, readBytes: 0, pagemapBytes: 0, processes: 0 };
    results.forEach((res, i) => {
      const { t, plan } = plans[i];
      if (!this.applyCode(t, plan, res, events)) return;
      stats.bytes += plan.bytes;
      stats.readBytes += res.readBytes;
      stats.pagemapBytes += res.pagemapBytes;
      stats.processes++;
    });
    this.lastStats = stats;
    return events;
  }

  /** With the native fast loop: re-plan every child (only those whose size changed re-read their maps). */
  planAll(): void {
    for (const t of this.ctx.tracked.values()) this.planFor(t);
  }

  /** Children without code regions yet (new ones): plan them now. */
  planNew(): void {
    for (const t of this.ctx.tracked.values()) if (t.plan === null) this.planFor(t);
  }

  /**
   * The child's code plan: the maps text (hundreds of lines the kernel formats) is re-read only when
   * the memory size (statm, one short line) changed or a minute passed; a write into a mapped page
   * changes neither, and the scan of the known ranges finds it. Null when the process exited.
   */
  planFor(t: Tracked): ChildCodePlan | null {
    const { procRoot, maxMapsBytes } = this.ctx.opts;
    let statm: string;
    try {
      statm = fs.readFileSync(`/proc/${t.snap.pid}/statm`, 'latin1').split(' ', 1)[0];
    } catch {
      return null; // exited
    }
    if (t.plan !== null && statm === t.statm && Date.now() - t.mapsAt < MAPS_REREAD_MS) return this.handOver(t, t.plan);
    const text = readBounded(`/proc/${t.snap.pid}/maps`, maxMapsBytes);
    if (text === undefined) return null; // exited
    // statm and maps were read by pid: they are this process's only if it still lives now.
    if (!sameProcess(t, procRoot)) {
      this.ctx.markDirty();
      return null;
    }
    if (text === null) {
      t.limited = `its memory map is larger than ${maxMapsBytes} bytes (maxMapsBytes): its code is not checked`;
      t.plan = null;
      t.code = new Map();
      t.unreadable = [];
      return null;
    }
    t.statm = statm;
    t.mapsAt = Date.now();
    // Only the executable mappings matter, and the heap's churn changes the rest of the text every
    // pass: keep those lines ("start-end perms": the third perms character is 'x') and re-plan only
    // when they changed. (Anonymous exec memory is then classified without its neighbours: that
    // only moves it between the 'jit' and 'anonymous-exec' counts, it is never compared.)
    const exec = execLines(text);
    if (exec !== t.mapsText || t.plan === null) {
      t.plan = planChildCode(t.snap.pid, parseMaps(exec, `/proc/${t.snap.pid}/maps`), t.snap.exe, t.snap.startTicks);
      t.mapsText = exec;
    }
    return this.handOver(t, t.plan);
  }

  /**
   * One child's code result (a pass's or the native fast loop's): its open code-modified set, and a
   * code-restored event for each one that closed. False when the result does not count (exited, error).
   */
  applyCode(t: Tracked, plan: ChildCodePlan, res: NativeTreeResult, events: Observation[]): boolean {
    if (!this.ctx.tracked.has(t.snap.key)) return false; // exited during the pass
    if (!res.ok) {
      if (res.errno === 3 /* ESRCH */ || res.errno === 2 /* ENOENT */) return false; // exited during the pass
      this.ctx.onError(new ProcfsUnreadableError(`${this.ctx.opts.procRoot}/${res.pid}/pagemap`, new Error(res.detail ?? 'unreadable')));
      return false;
    }
    const type = t.snap.kind.type;
    const now = new Map(codeObservations(plan, res, t.snap.key, type).map((o) => [o.key, o]));
    const equal = new Set(res.hits.filter((h) => h.state === 'equal').map((h) => `${plan.meta[h.region]?.fileKey}:${h.fileOffset}`));
    for (const [k, o] of t.code) {
      if (now.has(k)) continue;
      const ev = o.evidence as { fileKey?: string } | undefined;
      const still = equal.has(`${ev?.fileKey}:${(o.page ?? 0) * 4096}`);
      events.push({
        ...o,
        key: k.replace('tree:code-modified:', 'tree:code-restored:'),
        kind: 'code-restored',
        detail: `${type} pid ${t.snap.pid}: ${o.path} page ${o.page} ${still ? 'equals the file again' : 'is no longer a written page (unmapped or replaced)'} (was: ${o.detail})`,
      });
    }
    t.code = now;
    t.unreadable = unreadableObservations(plan, res, t.snap.key, type);
    const limits: string[] = [];
    if (plan.omittedRegions > 0) limits.push(`${plan.omittedRegions} code mapping(s) past the bounds of one check (65536 mappings, 64 GiB) are not checked`);
    if (res.writtenPages > res.hits.length) limits.push(`${res.writtenPages} written code pages; the first ${res.hits.length} were compared`);
    t.limited = limits.length > 0 ? limits.join('; ') : null;
    t.coverage = {
      regions: plan.job.regions.length,
      bytes: plan.bytes,
      writtenPages: res.hits.length,
      readBytes: res.readBytes,
      pagemapBytes: res.pagemapBytes,
      jitRegions: plan.jitRegions,
    };
    return true;
  }

  /** The native fast loop walks the regions of the plan its reports are applied with. */
  private handOver(t: Tracked, plan: ChildCodePlan): ChildCodePlan {
    this.setRegions(t.snap.key, plan.job.regions);
    return plan;
  }
}
