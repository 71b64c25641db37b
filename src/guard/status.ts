/**
 * Building the Status (pure: everything it shows is handed in). The Status crosses IPC and goes
 * into logs, so it must be plain JSON data: the fixed parts are built as plain objects here, and
 * the open-ended parts (findings' evidence, the hardening report, processes, the manifest) are
 * copied with plain(), which keeps exactly what JSON.stringify would keep, without the string.
 */
import type { CodeCoverage, Finding, HardenReport, LoopsStatus, ManifestStatus, OverallState, ProcessEntry, SentinelInfo, Status } from '../types';
import type { CheckerError } from './ledger';
import type { FastLoopState } from '../fastloop/fast-loop';
import type { CodeProgress } from '../integrity/monitor';
import type { SentinelState } from '../integrity/sentinel-controller';
import type { CodeFilesStatus } from '../integrity/code-files';
import { overallSeverity, severityRank } from '../policy';

/**
 * A deep copy with JSON's semantics (toJSON honoured; undefined, functions and symbols dropped
 * from objects and null in arrays; non-finite numbers null). A bigint is a TypeError, as in JSON.
 */
export function plain<T>(value: T): T {
  return copy(value, false) as T;
}

function copy(v: unknown, inArray: boolean): unknown {
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON(): unknown }).toJSON();
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'undefined':
    case 'function':
    case 'symbol':
      return inArray ? null : undefined;
  }
  if (v === null) return null;
  if (Array.isArray(v)) return v.map((x) => copy(x, true));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v as object)) {
    const x = copy((v as Record<string, unknown>)[k], false);
    if (x !== undefined) out[k] = x;
  }
  return out;
}

const iso = (t: number | null | undefined): string | null => (t ? new Date(t).toISOString() : null);

export interface LoopsInput {
  periodMs: number;
  /** The code monitor runs (prepared), and why not when not. */
  code: { progress: CodeProgress; stallLimitMs: number | null; sentinel: SentinelState; files: CodeFilesStatus | null } | { off: string };
  /** sentinelMs is 0. */
  sentinelOffByOption: boolean;
  /** Wall time of the sentinel's last tick as the heartbeat last saw it (0: never). */
  sentinelRunSeenAt: number;
  /** The kernel monitor runs, and the native watch loop's state. */
  kernelOn: boolean;
  watchLoop: FastLoopState;
  lastKernelAt: number | null;
  lastLaunchAt: number | null;
}

/** Each loop's cadence and heartbeat, and what is off and why (the status element shows it). */
export function loopsStatus(i: LoopsInput): LoopsStatus {
  const c = 'off' in i.code ? null : i.code;
  let sentinel: SentinelState;
  if (!c) sentinel = { state: 'off', reason: (i.code as { off: string }).off };
  else if (c.sentinel.state === 'off' && i.sentinelOffByOption) sentinel = { state: 'off', reason: 'off by option (sentinelMs: 0)' };
  else sentinel = c.sentinel;
  const w = i.watchLoop;
  const files: CodeFilesStatus = c?.files
    ? plain(c.files)
    : { watched: 0, watchedPaths: [], unwatched: [{ path: '*', reason: c ? 'off by option (watchFiles: false)' : 'code checks off' }], unwatchedCount: 1, pristineBytes: 0 };
  return {
    sweep: {
      state: c ? 'running' : 'off',
      periodMs: i.periodMs,
      passActive: c?.progress.passActive ?? false,
      pagesDone: c?.progress.pagesDone ?? 0,
      pagesTotal: c?.progress.pagesTotal ?? 0,
      lastProgressAt: iso(c?.progress.lastProgressAt),
      stallLimitMs: c?.stallLimitMs ?? null,
    },
    sentinel: {
      state: sentinel.state,
      ...(sentinel.reason ? { reason: sentinel.reason } : {}),
      lastReportAt: iso(sentinel.lastTickAt),
      lastRunSeenAt: iso(i.sentinelRunSeenAt),
    },
    kernel: {
      state: i.kernelOn ? w.state : 'off',
      ...(i.kernelOn ? (w.reason ? { reason: w.reason } : {}) : { reason: 'off by option (kernel: false)' }),
      tickMs: i.kernelOn && w.state === 'running' ? w.tickMs : null,
      lastTickAt: iso(w.lastTickAt),
      lastCheckAt: iso(i.lastKernelAt),
    },
    launch: { lastCheckAt: iso(i.lastLaunchAt) },
    files,
  };
}

export interface StatusInput {
  sequence: number;
  findings: Finding[];
  hardening: HardenReport | null;
  /** The last successful pass: wall time, performance.now() and its duration. */
  lastPass: { at: number; mono: number; durationMs: number } | null;
  /** The sweep or a native loop is stalled. */
  stalled: boolean;
  coverage: CodeCoverage;
  hashMode: Status['hashMode'];
  checkerErrors: CheckerError[];
  loops: LoopsStatus;
  sentinel: SentinelInfo;
  processes?: ProcessEntry[];
  manifest?: ManifestStatus;
  /** performance.now() */
  now: number;
}

/** The overall state: starting until a pass succeeded; stalled; compromised from `restart` up. */
export function overallState(lastPass: StatusInput['lastPass'], stalled: boolean, findings: Finding[]): OverallState {
  const severity = overallSeverity(findings);
  if (lastPass === null) return 'starting';
  if (stalled) return 'stalled';
  if (severity !== null && severityRank(severity) >= severityRank('restart')) return 'compromised';
  return findings.length > 0 ? 'findings' : 'ok';
}

export function buildStatus(i: StatusInput): Status {
  const status: Status = {
    version: 1,
    sequence: i.sequence,
    pid: process.pid,
    platform: process.platform,
    state: overallState(i.lastPass, i.stalled, i.findings),
    severity: overallSeverity(i.findings),
    hardening: plain(i.hardening),
    lastCheck: i.lastPass ? { at: new Date(i.lastPass.at).toISOString(), durationMs: Math.round(i.lastPass.durationMs * 100) / 100 } : null,
    coverage: plain(i.coverage),
    findings: plain(i.findings),
    heartbeatAgeMs: i.lastPass ? Math.round(i.now - i.lastPass.mono) : null,
    hashMode: i.hashMode,
    checkerErrors: i.checkerErrors.map((e) => ({ ...e })),
    loops: i.loops,
    sentinel: plain(i.sentinel),
  };
  if (i.processes) status.processes = plain(i.processes);
  if (i.manifest) status.manifest = plain(i.manifest);
  return status;
}
