/**
 * The process tree on Windows (Guard option `processTree`): the interface of TreeMonitor (monitor.ts),
 * fed by native/tree/tree_win.cc. Two loops, each on its own timer:
 *  - discovery (discoveryMs, default 2 s): the descendants from a Toolhelp32 snapshot, keyed by pid +
 *    creation time; each one's type from its command line and its sandbox facts (token integrity,
 *    AppContainer, restricted token, job, mitigation policies, debug port). A debugger on a child's
 *    debug port is `child-tracer-attached`;
 *  - code (codeMs, default 10 s): each child's main module and its loaded DLLs (EnumProcessModulesEx;
 *    the DLLs within 32 MiB of executable sections per child and pass, the next pass going on where
 *    this one stopped): the executable pages that are not the image's shared copy (QueryWorkingSetEx;
 *    under Wine all of them), compared with the module's file after the base relocations for its
 *    load address (pe-sieve's way); a difference is `code-modified` naming the module and RVA, and
 *    `code-restored` once it equals the file again.
 * The per-type policy is Linux's (tree/policy.ts: renderers and sandboxed utilities by default); on
 * Windows a required process must have a restricted token, an AppContainer or an integrity below
 * medium, else `child-unsandboxed`. A child whose facts weaken against the first seen of it (integrity
 * up; restricted token, AppContainer, job or a mitigation policy lost) is `child-sandbox-changed`
 * (tree/windows-sandbox.ts: a strengthening is not a finding and becomes the baseline).
 */
import { GuardStateError, ProcfsUnreadableError, UnsupportedPlatformError } from '../errors';
import { hex } from '../integrity/regions';
import { loadNative, type NativeBinding, type NativeTreeModule, type NativeTreeProcess, type NativeTreeResult } from '../native';
import type { Observation, ProcessEntry, SandboxFacts, WindowsSandboxFacts } from '../types';
import { classifyCmdline, windowsArgv, type ProcessKind } from './cmdline';
import { requirementFor, type TreeSandboxPolicy } from './policy';
import { compareWindowsSandbox } from './windows-sandbox';
import type { ProcessTreeOptions, TreeUpdate } from './monitor';
import { treeTimings, TreeLoopBase } from './loops';

interface Tracked {
  info: NativeTreeProcess;
  /** `pid:creationTime`: the identity that survives pid reuse. */
  key: string;
  kind: ProcessKind;
  code: Map<string, Observation>;
  coverage: ProcessEntry['coverage'];
  /** Where the next code pass goes on with the DLLs (the native nextModuleCursor; 0n: from the lowest). */
  moduleCursor: bigint;
  /** The sandbox facts first seen, raised by every strengthening since (tree/windows-sandbox.ts). */
  baseFacts: WindowsSandboxFacts;
  /** What weakened against baseFacts at the last discovery: `child-sandbox-changed` while non-empty. */
  weakened: string[];
}

/** Milliseconds from 1601-01-01 (FILETIME's epoch) to 1970-01-01. */
const FILETIME_TO_UNIX_MS = 11_644_473_600_000;
/** The Linux facts, unknown on Windows. */
const NO_LINUX_FACTS: SandboxFacts = { seccomp: null, seccompFilters: null, noNewPrivs: null, ownUserNs: null, ownPidNs: null, ownNetNs: null, capEff: null, capPrm: null, tracerPid: 0 };
const ESRCH = 3;

/** Sandboxed as Windows sandboxes a Chromium child: an AppContainer, a restricted token, or below medium integrity. */
export function windowsSandboxed(f: WindowsSandboxFacts): boolean {
  return f.appContainer === true || f.restrictedToken === true || (f.integrityRid !== null && f.integrityRid < 0x2000);
}

function windowsFacts(p: NativeTreeProcess): WindowsSandboxFacts {
  const { integrityRid, appContainer, restrictedToken, inJob, dynamicCodeProhibited, microsoftSignedOnly, noRemoteImages, strictHandleChecks, debugPort } = p;
  return { integrityRid, appContainer, restrictedToken, inJob, dynamicCodeProhibited, microsoftSignedOnly, noRemoteImages, strictHandleChecks, debugPort };
}

/** The module a hit lies in: res.modules[region] (the main module when an older addon gave no list). */
function hitModule(res: NativeTreeResult, region: number): Pick<NativeTreeModule, 'path' | 'base'> | undefined {
  const m = res.modules?.[region];
  if (m) return m;
  return res.module === undefined || res.imageBase === undefined ? undefined : { path: res.module, base: res.imageBase };
}

/** `code-modified` observations of one child's scan: one per differing page, naming its module and RVA. */
export function windowsCodeObservations(res: NativeTreeResult, key: string, type: string): Observation[] {
  const out: Observation[] = [];
  for (const h of res.hits) {
    const mod = hitModule(res, h.region);
    if (h.state !== 'modified' || mod === undefined) continue;
    const rva = h.fileOffset + (h.firstDiff ?? 0);
    out.push({
      key: `tree:code-modified:${key}:${mod.path.toLowerCase()}:${h.fileOffset}`,
      subsystem: 'code',
      kind: 'code-modified',
      detail:
        `${type} pid ${res.pid}: ${mod.path} page ${h.fileOffset / 4096} (RVA 0x${h.fileOffset.toString(16)}) differs from the file: ` +
        `${h.diffBytes} byte(s), first at RVA 0x${rva.toString(16)} (file 0x${(h.fileByte ?? 0).toString(16).padStart(2, '0')}, ` +
        `memory 0x${(h.memByte ?? 0).toString(16).padStart(2, '0')})`,
      path: mod.path,
      address: hex(h.address + BigInt(h.firstDiff ?? 0)),
      offset: rva,
      page: h.fileOffset / 4096,
      before: h.fileByte,
      after: h.memByte,
      pid: res.pid,
      processType: type,
      evidence: { diffBytes: h.diffBytes, pageAddress: hex(h.address), offsetKind: 'rva', imageBase: hex(mod.base) },
    });
  }
  return out;
}

/**
 * Which of a child's open code observations this pass decided: those of a module it compared (they
 * are replaced by its hits, a missing one restored) and those of a DLL no longer loaded (dropped).
 * Observations of DLLs the budget left for a later pass stay open, and so do all of them after a pass
 * whose differing pages passed the addon's cap (an attacker's 65th page must not read as restored).
 */
export function windowsCodeDecided(res: NativeTreeResult, o: Observation): 'compared' | 'unloaded' | 'later' {
  const path = (o.path ?? '').toLowerCase();
  // The addon keeps the first 64 differing pages of a pass and counts the rest (writtenPages): past
  // that cap a page missing from the hits may still differ, so the pass decides nothing.
  const capped = res.writtenPages > res.hits.filter((h) => h.state === 'modified').length;
  if (!capped && (res.modules ?? [{ path: res.module ?? '', ok: true }]).some((m) => m.ok && m.path.toLowerCase() === path)) return 'compared';
  const base = (o.evidence as { imageBase?: string } | undefined)?.imageBase;
  if (res.loadedBases && base !== undefined && base !== hex(res.imageBase ?? 0n) && !res.loadedBases.some((b) => hex(b) === base)) return 'unloaded';
  return 'later';
}

export class WindowsTreeMonitor extends TreeLoopBase {
  private readonly opts: { rootPid: number; discoveryMs: number; codeMs: number; settleMs: number; sandboxPolicy?: TreeSandboxPolicy };
  private readonly tracked = new Map<string, Tracked>();
  private readonly native: NativeBinding;

  constructor(options: ProcessTreeOptions = {}) {
    const { rootPid, discoveryMs, codeMs, settleMs } = treeTimings(options);
    super(options.claims);
    const native = loadNative();
    if (!native.treeProcesses || !native.treeCodeScan) throw new UnsupportedPlatformError('processTree (this build of the addon has no Windows tree)');
    this.native = native;
    this.opts = { rootPid, discoveryMs, codeMs, settleMs, sandboxPolicy: options.sandboxPolicy };
  }

  /** One full pass now: discovery (with each child's facts) and the code check. */
  async check(): Promise<TreeUpdate> {
    if (this.stopped) throw new GuardStateError('TreeMonitor.check() after stop()');
    this.discover();
    const events = await this.codePass();
    return { open: this.openObservations(), events };
  }

  start(onUpdate: (u: TreeUpdate) => void, onError: (e: unknown) => void, keepAlive = false): void {
    const every = this.startTimers(onUpdate, onError, keepAlive);
    every(this.opts.discoveryMs, () => {
      this.discover();
      this.emitIfChanged([]);
    });
    if (this.opts.codeMs > 0) {
      every(this.opts.codeMs, () => {
        void this.codePass().then(
          (events) => this.emitIfChanged(events),
          (e) => this.onError(e),
        );
      });
    }
  }

  stop(): void {
    this.stopTimers();
  }

  /** Status.processes: this process first (when it is the root), then the descendants, parents first. */
  processes(): ProcessEntry[] {
    const claims = this.claims();
    const open = this.openObservations();
    const out: ProcessEntry[] = [];
    if (this.opts.rootPid === process.pid) {
      out.push({
        pid: process.pid,
        ppid: process.ppid,
        type: 'browser',
        label: 'browser',
        exe: process.execPath,
        startTicks: '',
        sandboxed: false,
        sandboxRequired: false,
        settled: true,
        sandbox: NO_LINUX_FACTS,
        coverage: null,
        findings: 0,
      });
    }
    for (const t of this.tracked.values()) {
      const claim = claims.get(t.info.pid);
      const facts = windowsFacts(t.info);
      const k = t.kind;
      const e: ProcessEntry = {
        pid: t.info.pid,
        ppid: t.info.ppid,
        type: k.type,
        label: claim?.title ?? claim?.url ?? (k.utilitySubType ? `${k.type} ${k.utilitySubType}` : k.type),
        exe: t.info.exe,
        startTicks: t.info.startTime.toString(),
        sandboxed: windowsSandboxed(facts),
        sandboxRequired: this.required(t),
        settled: this.settled(t),
        sandbox: { ...NO_LINUX_FACTS },
        coverage: t.coverage,
        findings: open.filter((o) => o.pid === t.info.pid).length,
        windows: facts,
      };
      if (k.utilitySubType !== undefined) e.utilitySubType = k.utilitySubType;
      if (k.serviceSandboxType !== undefined) e.serviceSandboxType = k.serviceSandboxType;
      if (claim) e.claim = { ...claim };
      out.push(e);
    }
    return out;
  }

  openObservations(): Observation[] {
    const out: Observation[] = [];
    for (const t of this.tracked.values()) {
      out.push(...t.code.values());
      const facts = windowsFacts(t.info);
      if (this.settled(t) && this.required(t) && !windowsSandboxed(facts)) {
        const integrity = facts.integrityRid === null ? 'unknown' : `0x${facts.integrityRid.toString(16)}`;
        out.push({
          key: `tree:child-unsandboxed:${t.key}`,
          subsystem: 'tree',
          kind: 'child-unsandboxed',
          detail:
            `${t.kind.type} pid ${t.info.pid} is not sandboxed: restricted token ${facts.restrictedToken ?? 'unknown'}, ` +
            `AppContainer ${facts.appContainer ?? 'unknown'}, integrity ${integrity} (need a restricted token, an AppContainer or an integrity below medium)`,
          pid: t.info.pid,
          processType: t.kind.type,
          evidence: { ...facts, noSandboxFlag: t.kind.noSandboxFlag },
        });
      }
      if (t.weakened.length > 0) {
        out.push({
          key: `tree:child-sandbox-changed:${t.key}`,
          subsystem: 'kernel',
          kind: 'child-sandbox-changed',
          detail: `${t.kind.type} pid ${t.info.pid}: sandbox weakened: ${t.weakened.join(', ')}`,
          pid: t.info.pid,
          processType: t.kind.type,
          before: t.baseFacts,
          after: facts,
          evidence: { weakened: t.weakened },
        });
      }
      if (t.info.debugPort === true) {
        out.push({
          key: `tree:child-tracer-attached:${t.key}`,
          subsystem: 'tree',
          kind: 'child-tracer-attached',
          detail: `${t.kind.type} pid ${t.info.pid}: a debugger holds its debug port`,
          pid: t.info.pid,
          processType: t.kind.type,
          evidence: { debugPort: true },
        });
      }
    }
    return out;
  }

  /** Old enough to be judged (Chromium's children take their token and job while starting). */
  private settled(t: Tracked): boolean {
    return Date.now() - (Number(t.info.startTime / 10_000n) - FILETIME_TO_UNIX_MS) >= this.opts.settleMs;
  }

  /** The per-type policy (tree/policy.ts) asks for a sandbox: on Windows any requirement means one of its forms. */
  private required(t: Tracked): boolean {
    return requirementFor(t.kind, this.opts.sandboxPolicy) !== null;
  }

  /** New, exited and reused-pid processes; every known one's facts refreshed. */
  private discover(): void {
    const list = this.native.treeProcesses!(this.opts.rootPid);
    const live = new Set<string>();
    for (const info of list) {
      const key = `${info.pid}:${info.startTime}`;
      live.add(key);
      const known = this.tracked.get(key);
      // A child's type can change while it starts (a command line read early); classify each time.
      const kind = info.commandLine === null ? (known?.kind ?? classifyCmdline('', false)) : classifyCmdline(windowsArgv(info.commandLine).join('\0'), false);
      if (known) {
        known.info = info;
        known.kind = kind;
        const cmp = compareWindowsSandbox(known.baseFacts, windowsFacts(info));
        known.baseFacts = cmp.baseline;
        known.weakened = cmp.weakened;
      } else {
        this.tracked.set(key, { info, key, kind, code: new Map(), coverage: null, moduleCursor: 0n, baseFacts: windowsFacts(info), weakened: [] });
      }
    }
    for (const k of [...this.tracked.keys()]) if (!live.has(k)) this.tracked.delete(k);
  }

  protected async runCode(): Promise<Observation[]> {
    if (this.opts.codeMs === 0) return [];
    const jobs = [...this.tracked.values()];
    const results = await this.native.treeCodeScan!(jobs.map((t) => ({ pid: t.info.pid, startTime: t.info.startTime, moduleCursor: t.moduleCursor, regions: [] })));
    const events: Observation[] = [];
    results.forEach((res, i) => {
      const t = jobs[i];
      if (!this.tracked.has(t.key)) return; // exited during the pass
      if (!res.ok) {
        if (res.errno === ESRCH) return; // exited, or the pid was reused: discovery drops it
        if (res.unsupported) return; // a 32-bit image: not compared (coverage stays null)
        this.onError(new ProcfsUnreadableError(`process ${res.pid} main module`, new Error(res.detail ?? 'unreadable')));
        return;
      }
      const type = t.kind.type;
      const now = new Map(windowsCodeObservations(res, t.key, type).map((o) => [o.key, o]));
      for (const [k, o] of t.code) {
        if (now.has(k)) continue;
        const decided = windowsCodeDecided(res, o);
        if (decided === 'later') now.set(k, o);
        else if (decided === 'compared') {
          events.push({ ...o, key: k.replace('tree:code-modified:', 'tree:code-restored:'), kind: 'code-restored', detail: `${type} pid ${t.info.pid}: ${o.path} page ${o.page} equals the file again (was: ${o.detail})` });
        }
      }
      t.code = now;
      t.moduleCursor = res.nextModuleCursor ?? 0n;
      for (const m of res.modules ?? []) {
        // A DLL unloaded while the pass ran, or a 32-bit one, is no error; any other DLL not compared is the checker's.
        if (!m.ok && m.errno !== ESRCH && !m.unsupported) this.onError(new ProcfsUnreadableError(`process ${res.pid} module ${m.path}`, new Error(m.detail ?? 'unreadable')));
      }
      const compared = res.modules?.filter((m) => m.ok).length ?? 1;
      t.coverage = { regions: compared, bytes: res.pages * 4096, writtenPages: res.writtenPages, readBytes: res.readBytes, pagemapBytes: 0, jitRegions: 0 };
    });
    return events;
  }
}
