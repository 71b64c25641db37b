/**
 * Public data types shared by every part of procguard. Everything here is plain,
 * JSON-serialisable data: it crosses the Electron IPC bridge unchanged.
 */

/** fdir's response ladder, mildest first. */
export type Severity = 'log' | 'isolate' | 'restart' | 'degrade' | 'safe-mode';
export const SEVERITIES: readonly Severity[] = ['log', 'isolate', 'restart', 'degrade', 'safe-mode'];

/** Which part of procguard saw it. 'tree': the process-tree monitor (a child's sandbox, tracer and limits, the
 *  tree's own failures); a child's code findings are 'code', a disagreement with what Electron says is 'electron'.
 *  The default policy's ladder counts 'tree' with 'kernel' (policy.ts). */
export type Subsystem = 'code' | 'kernel' | 'launch' | 'electron' | 'tree';

export type CodeFindingKind =
  | 'code-modified'
  | 'code-restored'
  | 'mapping-added'
  | 'mapping-removed'
  | 'differs-from-disk'
  | 'anonymous-exec'
  | 'code-file-writable';

export type KernelFindingKind =
  | 'tracer-attached'
  | 'seccomp-changed'
  | 'no-new-privs-changed'
  | 'capabilities-changed'
  | 'dumpable-changed'
  | 'core-limit-changed'
  | 'cgroup-changed'
  | 'exec-mapping-changed';

/**
 * What a monitor observed, before the policy gave it a severity.
 * `key` identifies the condition: the same key seen on two checks is the same finding,
 * and a key that a monitor stops reporting is closed.
 */
export interface Observation {
  key: string;
  subsystem: Subsystem;
  kind: string;
  detail: string;
  path?: string;
  /** Hex string, e.g. "0x7f12a000". */
  address?: string;
  /** Byte offset in the mapped file. */
  offset?: number;
  /** 4 KiB page index: within the mapped file (file offset / 4096) for file-backed code, else within the mapping. */
  page?: number;
  before?: unknown;
  after?: unknown;
  /** Free-form evidence (launch flag, env var name, ...). */
  evidence?: Record<string, unknown>;
  /** Process tree: the child process this is about (absent for the Guard's own process). */
  pid?: number;
  /** Process tree: that child's type ('renderer', 'gpu-process', 'utility', 'zygote', ...). */
  processType?: string;
}

export interface Finding extends Observation {
  /** Unique per Guard: `<subsystem>:<kind>:<n>`. */
  id: string;
  severity: Severity;
  /** ISO-8601 time of first observation. */
  firstSeen: string;
  /** A one-shot event (e.g. code-restored) rather than an open condition. */
  transient?: boolean;
}

export type HardenStepId = 'dumpable' | 'core-limit' | 'deny-attach' | 'trace-ctl' | 'process-dacl' | 'thread-dacl';
export type HardenStepStatus = 'applied' | 'already' | 'failed' | 'unsupported' | 'skipped';

export interface HardenStep {
  id: HardenStepId;
  status: HardenStepStatus;
  detail: string;
  errno?: number;
  /** True when the state was read back after the step and matched; false when it did not; absent when no read-back was possible. */
  verified?: boolean;
}

export interface TracerReport {
  /** 'none': no tracer; 'attached': a debugger/tracer is attached now; 'unsupported': cannot tell on this OS. */
  state: 'none' | 'attached' | 'unsupported';
  tracerPid?: number;
  detail: string;
}

export interface HardenReport {
  platform: NodeJS.Platform;
  dryRun: boolean;
  steps: HardenStep[];
  /** Every applied/already step was read back and matched. */
  verified: boolean;
  tracerBefore: TracerReport;
  warnings: string[];
  /** Linux only: desktop portals (xdg-desktop-portal) and what hardening does to them (docs/harden.md). */
  portals?: HardenPortals;
}

/**
 * Where xdg-desktop-portal would be reached from, predicted without any D-Bus traffic (environment
 * variables and at most a few file-existence checks). `likely` is true in Flatpak and snap (a portal
 * is always there) and on a session bus with a portal D-Bus service file installed.
 */
export interface PortalPrediction {
  via: 'session-bus' | 'flatpak' | 'snap' | 'none';
  likely: boolean;
  /** The session bus address used (DBUS_SESSION_BUS_ADDRESS or unix:path=$XDG_RUNTIME_DIR/bus), or null. */
  busAddress: string | null;
  detail: string;
}

/**
 * What a portal call on a new D-Bus connection of this process got (checkPortals()):
 * 'ok': answered (the portal identified the process; new connections work);
 * 'primed-connections-only': AccessDenied (the portal cannot open /proc/<pid>/root of a non-dumpable
 *   process: only connections that made a portal call before hardening still work);
 * 'none': no session bus or no portal on it; 'unknown': the check could not tell (detail says why).
 */
export type PortalCheckResult = 'ok' | 'primed-connections-only' | 'none' | 'unknown';

export interface PortalCheck {
  result: PortalCheckResult;
  detail: string;
  /** The D-Bus method called, e.g. org.freedesktop.portal.NetworkMonitor.GetAvailable. */
  method: string | null;
  /** The D-Bus error name of the reply, when it was an error. */
  errorName?: string;
  /** ISO-8601 time the check finished, and how long it took. */
  at: string;
  durationMs: number;
}

export interface HardenPortals {
  /** options.portals: 'default' (the process becomes non-dumpable) or 'allow' (it stays dumpable). */
  mode: 'default' | 'allow';
  /** What options.portals asked for ('auto' picks 'allow' when `prediction.likely`). */
  requested: 'default' | 'allow' | 'auto';
  prediction: PortalPrediction;
  /**
   * What portals do with this process after harden(), as far as harden() can tell without D-Bus:
   * 'refused-new-connections' (non-dumpable with a portal likely), 'allowed' (dumpable), 'no-portal'.
   * checkPortals() replaces the guess with a measurement (`check`).
   */
  expected: 'refused-new-connections' | 'allowed' | 'no-portal';
  /** portals 'allow': what still protects the process while it stays dumpable. */
  remaining?: RemainingProtection;
  /** The result of checkPortals() after hardening, once a Guard (or the app) recorded it. */
  check?: PortalCheck;
}

export interface RemainingProtection {
  /** /proc/sys/kernel/yama/ptrace_scope read back, or null when the kernel has no Yama. */
  yamaPtraceScope: number | null;
  /** One line per protection still in force, and what each leaves open. */
  protections: string[];
}

export type OverallState = 'ok' | 'findings' | 'compromised' | 'stalled' | 'starting';

export interface CodeCoverage {
  regions: number;
  bytes: number;
  hashedBytes: number;
  residentBytes: number;
  /**
   * Linux: how code was read. 'process_vm_readv', or 'proc-mem' (/proc/self/mem, opened at prepare())
   * where that syscall is refused (qemu-user, a seccomp profile); 'none' comes with a checker error.
   */
  reader?: 'process_vm_readv' | 'proc-mem' | 'none';
}

/**
 * Which tamper sentinel (the cheap between-sweeps signal for a write to a code page) runs.
 * 'pagemap': Linux /proc/self/pagemap (a written private file page turns anonymous);
 * 'working-set': Windows QueryWorkingSetEx (a written image page loses the Shared bit);
 * 'none': no sentinel (another OS, turned off, or unusable here: `reason` says why).
 * `verified` is true only where procguard's own tests have seen the signal catch a write on that OS.
 */
export interface SentinelInfo {
  kind: 'pagemap' | 'working-set' | 'none';
  verified: boolean;
  reason?: string;
}

export interface Status {
  /** Schema version of this object. */
  version: 1;
  /** Increases by one with every new snapshot. */
  sequence: number;
  pid: number;
  platform: NodeJS.Platform;
  state: OverallState;
  /** Highest severity among open findings, or null when none are open. */
  severity: Severity | null;
  hardening: HardenReport | null;
  lastCheck: { at: string; durationMs: number } | null;
  coverage: CodeCoverage;
  findings: Finding[];
  /** Milliseconds since the checker last completed a pass (heartbeat). */
  heartbeatAgeMs: number | null;
  hashMode: 'blake3' | 'fast';
  checkerErrors: { subsystem: Subsystem; code: string; message: string; at: string }[];
  /** Each background loop: cadence, heartbeat, and what is off and why (Guard; absent in older producers). */
  loops?: LoopsStatus;
  /** The tamper sentinel in use (see SentinelInfo). */
  sentinel?: SentinelInfo;
  /** Process tree (option `processTree`): the watched processes, the root first. Absent when off. */
  processes?: ProcessEntry[];
  /** The signed manifest (option `manifest`). Absent when off. */
  manifest?: ManifestStatus;
}

/** The Guard's loops (see docs/security.md: what each covers). Times are ISO-8601 or null. */
export interface LoopsStatus {
  sweep: { state: 'running' | 'off'; periodMs: number; passActive: boolean; pagesDone: number; pagesTotal: number; lastProgressAt: string | null; stallLimitMs: number | null };
  sentinel: { state: 'running' | 'off'; reason?: string; lastReportAt: string | null; lastRunSeenAt: string | null };
  kernel: { state: 'running' | 'off'; reason?: string; tickMs: number | null; lastTickAt: string | null; lastCheckAt: string | null };
  launch: { lastCheckAt: string | null };
  files: { watched: number; watchedPaths: string[]; unwatched: { path: string; reason: string }[]; unwatchedCount: number; pristineBytes: number };
}

export type TreeFindingKind = 'child-unsandboxed' | 'child-tracer-attached' | 'child-sandbox-changed' | 'child-claim-mismatch';

/** The kernel's view of one process's sandbox (Linux /proc/<pid>/status and /proc/<pid>/ns/*). */
export interface SandboxFacts {
  /** 0 off, 1 strict, 2 filter; null when unknown (kernel without the field, or unsupported OS). */
  seccomp: 0 | 1 | 2 | null;
  seccompFilters: number | null;
  noNewPrivs: boolean | null;
  /** In a user / PID / network namespace other than the tree root's; null when unreadable. */
  ownUserNs: boolean | null;
  ownPidNs: boolean | null;
  ownNetNs: boolean | null;
  /** Effective and permitted capability masks, 16 hex digits (relative to the process's own user namespace). */
  capEff: string | null;
  capPrm: string | null;
  /** 0 when no tracer. */
  tracerPid: number;
}

/** One watched process in Status.processes. */
export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** 'browser' (the root), 'renderer', 'gpu-process', 'utility', 'zygote', 'crashpad-handler', 'other'. */
  type: string;
  /** Utility processes: --utility-sub-type and --service-sandbox-type. */
  utilitySubType?: string;
  serviceSandboxType?: string;
  /** Human label: Electron's window title / URL when known, else the type and sub-type. */
  label: string;
  exe: string | null;
  /** Start time (clock ticks after boot, decimal): with the pid, the process's identity. */
  startTicks: string;
  /** The kernel's view: seccomp filter mode + NoNewPrivs + own user namespace (or the setuid sandbox's own PID and network namespaces). */
  sandboxed: boolean;
  /** The policy requires this process to be sandboxed. */
  sandboxRequired: boolean;
  /** Old enough to be judged (Chromium's children enter their sandbox while starting; see processTree.settleMs). */
  settled: boolean;
  sandbox: SandboxFacts;
  /** What Electron says of this process, when known (procguard/electron-main). */
  claim?: { type?: string; sandboxed?: boolean; title?: string; url?: string; sandboxBasis?: string; sandboxRequested?: boolean };
  /** Code check of this child: file-backed executable bytes mapped, pages that were copied-on-write and read. */
  coverage: { regions: number; bytes: number; writtenPages: number; readBytes: number; pagemapBytes: number; jitRegions: number } | null;
  /** Open findings about this process (count). */
  findings: number;
  /** Windows: the token and process facts (the Linux `sandbox` fields are then null). */
  windows?: WindowsSandboxFacts;
}

/** One process's sandbox as Windows reports it to a same-user process; null when unreadable. */
export interface WindowsSandboxFacts {
  /** Token integrity RID: 0 untrusted, 0x1000 low, 0x2000 medium, 0x3000 high, 0x4000 system. */
  integrityRid: number | null;
  appContainer: boolean | null;
  restrictedToken: boolean | null;
  inJob: boolean | null;
  /** Process mitigation policies (GetProcessMitigationPolicy). */
  dynamicCodeProhibited: boolean | null;
  microsoftSignedOnly: boolean | null;
  noRemoteImages: boolean | null;
  strictHandleChecks: boolean | null;
  /** A debugger holds the process's debug port. */
  debugPort: boolean | null;
}

/** Findings of the signed manifest (Guard option `manifest`, docs/manifest.md). Subsystem 'code'. */
export type ManifestFindingKind = 'manifest-invalid' | 'file-differs-from-manifest' | 'file-missing' | 'file-not-in-manifest' | 'code-differs-from-manifest';

/** Status.manifest: the signed manifest check (absent without the `manifest` option). */
export interface ManifestStatus {
  /** 'verifying' the first check runs; 'match'; 'differs' (findings open); 'invalid' (signature or document). */
  state: 'verifying' | 'match' | 'differs' | 'invalid';
  path: string;
  appDir: string | null;
  app?: { name: string; version: string; platform: string; arch: string };
  filesListed: number;
  filesChecked: number;
  /** Open manifest findings (files and memory runs). */
  differences: number;
  lastVerifiedAt: string | null;
  /** The app's own ELF mappings compared with the vendor's code runs (64 KiB each). */
  memory: { files: number; runsCompared: number; runsDiffering: number; runsUnknown: number };
  watch: { state: 'inotify' | 'off'; reason?: string; files: number };
  reason?: string;
}
