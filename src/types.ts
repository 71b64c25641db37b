/**
 * Public data types shared by every part of procguard. Everything here is plain,
 * JSON-serialisable data: it crosses the Electron IPC bridge unchanged.
 */

/** fdir's response ladder, mildest first. */
export type Severity = 'log' | 'isolate' | 'restart' | 'degrade' | 'safe-mode';
export const SEVERITIES: readonly Severity[] = ['log', 'isolate', 'restart', 'degrade', 'safe-mode'];

export type Subsystem = 'code' | 'kernel' | 'launch' | 'electron';

export type CodeFindingKind =
  | 'code-modified'
  | 'code-restored'
  | 'mapping-added'
  | 'mapping-removed'
  | 'differs-from-disk'
  | 'anonymous-exec';

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

export type HardenStepId = 'dumpable' | 'core-limit' | 'deny-attach' | 'trace-ctl' | 'process-dacl';
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
}
