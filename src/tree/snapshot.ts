/**
 * One process of the tree as the kernel shows it to a same-user process in the parent user
 * namespace: /proc/<pid>/stat (ppid, start time), status (seccomp, NoNewPrivs, capabilities,
 * TracerPid), ns/{user,pid,net} links, cmdline (type) and exe. Chromium's sandboxed children are
 * not dumpable, yet that reader holds capabilities over their user namespace, so all of it is
 * readable (docs/process-tree.md).
 */
import * as fs from 'node:fs';
import { ProcfsUnreadableError } from '../errors';
import { parseStat, type ProcStat } from '../procfs/stat';
import { parseStatus, type ProcStatus } from '../procfs/status';
import { capHex } from '../kernel/caps';
import type { SandboxFacts } from '../types';
import { classifyCmdline, type ProcessKind } from './cmdline';

export type NsName = 'user' | 'pid' | 'net';
export type NsLinks = Record<NsName, string | null>;

export interface ChildSnapshot {
  pid: number;
  ppid: number;
  startTicks: string;
  /** `pid:startTicks`: the identity that survives pid reuse. */
  key: string;
  kind: ProcessKind;
  exe: string | null;
  comm: string;
  status: ProcStatus;
  ns: NsLinks;
}

function readText(p: string): string {
  try {
    return fs.readFileSync(p, 'latin1');
  } catch (cause) {
    throw new ProcfsUnreadableError(p, cause);
  }
}

/** readlink of /proc/<pid>/ns/<name>, e.g. 'user:[4026531837]'; null when unreadable. */
export function readNsLinks(pid: number, procRoot = '/proc'): NsLinks {
  const one = (n: NsName): string | null => {
    try {
      return fs.readlinkSync(`${procRoot}/${pid}/ns/${n}`);
    } catch {
      return null;
    }
  };
  return { user: one('user'), pid: one('pid'), net: one('net') };
}

export function processKey(pid: number, startTicks: string): string {
  return `${pid}:${startTicks}`;
}

/**
 * Snapshot one process. The stat file is read first and again last: when the start time differs the
 * pid was reused mid-read and the snapshot is refused (ProcfsUnreadableError), so facts of two
 * processes are never mixed. Throws ProcfsUnreadableError when the process is gone.
 */
export function snapshotProcess(pid: number, isRoot: boolean, procRoot = '/proc'): ChildSnapshot {
  const statPath = `${procRoot}/${pid}/stat`;
  const stat: ProcStat = parseStat(readText(statPath), statPath);
  const statusPath = `${procRoot}/${pid}/status`;
  const status = parseStatus(readText(statusPath), statusPath);
  const cmdline = readText(`${procRoot}/${pid}/cmdline`);
  let exe: string | null;
  try {
    exe = fs.readlinkSync(`${procRoot}/${pid}/exe`);
  } catch {
    exe = null; // kernel threads, or no ptrace-read right: not an error of the checker
  }
  const ns = readNsLinks(pid, procRoot);
  const again = parseStat(readText(statPath), statPath);
  if (again.startTicks !== stat.startTicks) throw new ProcfsUnreadableError(statPath, new Error('pid reused during the read'));
  return {
    pid,
    ppid: stat.ppid,
    startTicks: stat.startTicks,
    key: processKey(pid, stat.startTicks),
    kind: classifyCmdline(cmdline, isRoot),
    exe,
    comm: stat.comm,
    status,
    ns,
  };
}

/** The sandbox facts of a snapshot, relative to the root's namespaces. */
export function sandboxFacts(status: ProcStatus, ns: NsLinks, rootNs: NsLinks): SandboxFacts {
  const own = (n: NsName): boolean | null => (ns[n] === null || rootNs[n] === null ? null : ns[n] !== rootNs[n]);
  return {
    seccomp: status.seccomp,
    seccompFilters: status.seccompFilters,
    noNewPrivs: status.noNewPrivs,
    ownUserNs: own('user'),
    ownPidNs: own('pid'),
    ownNetNs: own('net'),
    capEff: capHex(status.capEff),
    capPrm: capHex(status.capPrm),
    tracerPid: status.tracerPid,
  };
}
