/**
 * The security-relevant kernel state of this process, and nothing else.
 *
 * fdir hashes /proc/self/{maps,status,cgroup} whole, so VmRSS, context-switch counters and heap
 * growth make every tick differ and the report never says what changed. Here each field is typed,
 * stable on a healthy busy process, and diffed field by field (see diff.ts).
 */
import * as fs from 'node:fs';
import { ProcfsUnreadableError } from '../errors';
import { loadNative, type NativeProcessState, type NativeTracer } from '../native';
import { parseMaps } from '../procfs/maps';
import { parseStatus } from '../procfs/status';
import { parseCgroup } from '../procfs/cgroup';
import { parseLimits, coreLimit } from '../procfs/limits';
import { capHex } from './caps';

export type Unsupported = 'unsupported';

export interface TracerState {
  attached: boolean;
  /** Tracer pid (Linux: TracerPid in our pid namespace); null when none or unknown. */
  pid: number | null;
  /** The tracer's comm when readable. */
  comm: string | null;
  /** Linux: the traced thread (a tracer may seize a single thread, not the leader). */
  tid: number | null;
}

export interface KernelSnapshot {
  platform: NodeJS.Platform;
  pid: number;
  takenAt: string;
  tracer: TracerState | Unsupported;
  /** Seccomp mode (0 off, 1 strict, 2 filter) and filter count (null on kernels before 5.9). */
  seccomp: { mode: 0 | 1 | 2; filters: number | null } | Unsupported;
  noNewPrivs: boolean | Unsupported;
  /** Capability masks as 16 hex digits (JSON-safe); amb null on kernels before 4.3. */
  capabilities: { eff: string; prm: string; bnd: string; amb: string | null } | Unsupported;
  /** PR_GET_DUMPABLE (0, 1 or 2); from the native addon only. */
  dumpable: number | Unsupported;
  /** RLIMIT_CORE, decimal strings or 'unlimited'. */
  coreLimit: { soft: string; hard: string } | Unsupported;
  /** Hierarchy -> path: 'unified' for cgroup v2, else the v1 controller list ('cpu,cpuacct', 'name=systemd'). */
  cgroup: Record<string, string> | Unsupported;
  /** Sorted unique 'dev:inode:path' of executable file mappings (informational, see docs/kernel.md). */
  execMappings: string[] | Unsupported;
  /** System-wide Yama ptrace_scope (0-3). */
  ptraceScope: number | Unsupported;
  /** System-wide unprivileged user-namespace settings. */
  userns: { unprivilegedClone: number | Unsupported; maxUserNamespaces: number | Unsupported };
}

export interface SnapshotSources {
  /** procfs mount point; tests point it at a directory of captured files. Default '/proc'. */
  procRoot?: string;
  /** Native process state (dumpable, core limit). Default: the addon's processState(), when it loads. */
  processState?: () => NativeProcessState | null;
  /** Non-Linux tracer query. Default: the addon's queryTracer(). */
  queryTracer?: () => NativeTracer | null;
  /** Platform to emulate (tests). Default process.platform. */
  platform?: NodeJS.Platform;
}

function defaultProcessState(): NativeProcessState | null {
  try {
    const n = loadNative();
    return typeof n.processState === 'function' ? n.processState() : null;
  } catch {
    return null;
  }
}

function defaultQueryTracer(): NativeTracer | null {
  try {
    const n = loadNative();
    return typeof n.queryTracer === 'function' ? n.queryTracer() : null;
  } catch {
    return null;
  }
}

// procfs and sysfs files are generated from kernel memory, never from disk: a synchronous read
// costs microseconds, while fs.promises.readFile costs ~10x that in thread-pool round trips (the
// snapshot reads a dozen files every pass).

/** Read a file that must exist (a failure is a checker error, not a finding). */
// eslint-disable-next-line @typescript-eslint/require-await -- async so a failure is a rejection, like every other reader
async function mustRead(p: string): Promise<string> {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch (cause) {
    throw new ProcfsUnreadableError(p, cause);
  }
}

/** Read a file that may legitimately be absent (kernel config); null then. */
// eslint-disable-next-line @typescript-eslint/require-await -- async for the same interface as mustRead
async function mayRead(p: string): Promise<string | null> {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

function sysInt(text: string | null): number | Unsupported {
  if (text === null) return 'unsupported';
  const t = text.trim();
  return /^-?[0-9]{1,12}$/.test(t) ? Number(t) : 'unsupported';
}

function rlimText(v: number | null): string | null {
  if (v === null) return null;
  return v === -1 ? 'unlimited' : String(v);
}

/**
 * Tracer across all threads: a tracer can PTRACE_SEIZE one thread only, and the leader's
 * TracerPid then stays 0. Threads that exit during the scan are skipped.
 */
async function linuxTracer(root: string, leaderTracer: number): Promise<TracerState> {
  let pid = leaderTracer;
  let tid: number | null = leaderTracer !== 0 ? process.pid : null;
  if (pid === 0) {
    let tids: string[];
    try {
      tids = fs.readdirSync(`${root}/self/task`);
    } catch {
      tids = [];
    }
    for (const t of tids) {
      if (Number(t) === process.pid) continue;
      const p = `${root}/self/task/${t}/status`;
      const text = await mayRead(p);
      if (text === null) continue; // the thread exited meanwhile
      const traced = parseStatus(text, p).tracerPid;
      if (traced !== 0) {
        pid = traced;
        tid = Number(t);
        break;
      }
    }
  }
  if (pid === 0) return { attached: false, pid: null, comm: null, tid: null };
  const comm = await mayRead(`${root}/${pid}/comm`);
  return { attached: true, pid, comm: comm === null ? null : comm.replace(/\n$/, ''), tid };
}

/**
 * The fields the native watch loop (native/watch/watch_linux.cc) folds into its signature every tick
 * (every thread's TracerPid, seccomp, NoNewPrivs and capabilities) or about once a second
 * (dumpable, RLIMIT_CORE, cgroup): while that loop runs and has reported no change, they are what
 * the last snapshot says.
 */
export const LOOP_COVERED = ['tracer', 'seccomp', 'noNewPrivs', 'capabilities', 'dumpable', 'coreLimit', 'cgroup'] as const;

/**
 * A snapshot that re-reads only what the native watch loop does not watch (exec mappings, Yama,
 * user-namespace sysctls) and takes the loop-covered fields from `prev`: the periodic check while
 * the loop runs, without re-reading and re-parsing every thread's status, limits and cgroup.
 */
export async function takeLightSnapshot(prev: KernelSnapshot, src: SnapshotSources = {}): Promise<KernelSnapshot> {
  if ((src.platform ?? process.platform) !== 'linux') return takeSnapshot(src);
  const root = src.procRoot ?? '/proc';
  const [mapsText, yama, usernsClone, maxUserns] = await Promise.all([
    mustRead(`${root}/self/maps`),
    mayRead(`${root}/sys/kernel/yama/ptrace_scope`),
    mayRead(`${root}/sys/kernel/unprivileged_userns_clone`),
    mayRead(`${root}/sys/user/max_user_namespaces`),
  ]);
  const snap: KernelSnapshot = {
    ...prev,
    takenAt: new Date().toISOString(),
    execMappings: execMappings(mapsText, `${root}/self/maps`),
    ptraceScope: sysInt(yama),
    userns: { unprivilegedClone: sysInt(usernsClone), maxUserNamespaces: sysInt(maxUserns) },
  };
  return snap;
}

// Only executable mappings matter here, and a settled process's set of them rarely changes while
// its anonymous mappings (heap, stacks) do: the lines whose permissions have 'x' are picked out
// with indexOf (no parse), and only a new set of them is parsed. Re-parsing the whole maps text
// every period made the parser hot enough for V8 to spend tens of ms optimizing it.
let execMemo: { lines: string; exec: string[] } | null = null;

/** The lines of a maps text whose permission field ("r-xp", after the first space) has 'x'. */
function execLinesOf(mapsText: string): string {
  let out = '';
  for (let i = 0; i < mapsText.length; ) {
    let nl = mapsText.indexOf('\n', i);
    if (nl < 0) nl = mapsText.length;
    const sp = mapsText.indexOf(' ', i);
    if (sp >= 0 && sp + 3 < nl && mapsText.charCodeAt(sp + 3) === 0x78) out += mapsText.slice(i, nl) + '\n';
    i = nl + 1;
  }
  return out;
}

/** Sorted unique 'dev:inode:path' of the executable file mappings in a maps text (each distinct set parsed once). */
function execMappings(mapsText: string, source: string): string[] {
  const lines = execLinesOf(mapsText);
  if (execMemo?.lines !== lines) {
    const exec = new Set<string>();
    for (const m of lines === '' ? [] : parseMaps(lines, source)) {
      if (m.exec && m.path !== null && !m.pseudo) exec.add(`${m.dev}:${m.inode}:${m.path}${m.deleted ? ' (deleted)' : ''}`);
    }
    execMemo = { lines, exec: [...exec].sort() };
  }
  return [...execMemo.exec];
}

/**
 * Take a snapshot of this process. Throws ProcfsUnreadableError/ProcfsParseError when a required
 * source (status, maps, limits) cannot be read or parsed; optional sources become 'unsupported'.
 */
export async function takeSnapshot(src: SnapshotSources = {}): Promise<KernelSnapshot> {
  const platform = src.platform ?? process.platform;
  const native = (src.processState ?? defaultProcessState)();
  const dumpable: number | Unsupported = native && native.dumpable >= 0 ? native.dumpable : 'unsupported';
  const base = { platform, pid: process.pid, takenAt: new Date().toISOString() };

  if (platform !== 'linux') {
    const t = (src.queryTracer ?? defaultQueryTracer)();
    const soft = rlimText(native?.coreSoft ?? null);
    const hard = rlimText(native?.coreHard ?? null);
    return {
      ...base,
      tracer:
        !t || t.state === 'unsupported'
          ? 'unsupported'
          : { attached: t.state === 'attached', pid: t.tracerPid ?? null, comm: null, tid: null },
      seccomp: 'unsupported',
      noNewPrivs: 'unsupported',
      capabilities: 'unsupported',
      dumpable,
      coreLimit: soft !== null && hard !== null ? { soft, hard } : 'unsupported',
      cgroup: 'unsupported',
      execMappings: 'unsupported',
      ptraceScope: 'unsupported',
      userns: { unprivilegedClone: 'unsupported', maxUserNamespaces: 'unsupported' },
    };
  }

  const root = src.procRoot ?? '/proc';
  const [statusText, mapsText, limitsText, cgroupText, yama, usernsClone, maxUserns] = await Promise.all([
    mustRead(`${root}/self/status`),
    mustRead(`${root}/self/maps`),
    mustRead(`${root}/self/limits`),
    mayRead(`${root}/self/cgroup`),
    mayRead(`${root}/sys/kernel/yama/ptrace_scope`),
    mayRead(`${root}/sys/kernel/unprivileged_userns_clone`),
    mayRead(`${root}/sys/user/max_user_namespaces`),
  ]);
  const status = parseStatus(statusText, `${root}/self/status`);
  const core = coreLimit(parseLimits(limitsText, `${root}/self/limits`));

  let cgroup: Record<string, string> | Unsupported = 'unsupported';
  if (cgroupText !== null) {
    cgroup = {};
    for (const e of parseCgroup(cgroupText, `${root}/self/cgroup`).entries) {
      cgroup[e.hierarchyId === 0 ? 'unified' : e.controllers.join(',')] = e.path + (e.deleted ? ' (deleted)' : '');
    }
  }

  return {
    ...base,
    tracer: await linuxTracer(root, status.tracerPid),
    seccomp: status.seccomp === null ? 'unsupported' : { mode: status.seccomp, filters: status.seccompFilters },
    noNewPrivs: status.noNewPrivs === null ? 'unsupported' : status.noNewPrivs,
    capabilities: {
      eff: capHex(status.capEff),
      prm: capHex(status.capPrm),
      bnd: capHex(status.capBnd),
      amb: status.capAmb === null ? null : capHex(status.capAmb),
    },
    dumpable,
    coreLimit: core ?? 'unsupported',
    cgroup,
    execMappings: execMappings(mapsText, `${root}/self/maps`),
    ptraceScope: sysInt(yama),
    userns: { unprivilegedClone: sysInt(usernsClone), maxUserNamespaces: sysInt(maxUserns) },
  };
}
