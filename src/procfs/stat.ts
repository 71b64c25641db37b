/**
 * Pure parser for /proc/<pid>/stat (Linux): the fields the process tree needs (pid, comm, state,
 * ppid, start time). The line is "pid (comm) state ppid ..." where comm may itself contain spaces
 * and parentheses (it is whatever the process set, up to 15 bytes): the comm ends at the LAST ')'.
 * Field numbers below follow proc(5) (1-based): 4 ppid, 22 starttime (clock ticks since boot).
 */
import * as fs from 'node:fs';
import { ProcfsParseError, ProcfsUnreadableError } from '../errors';

export interface ProcStat {
  pid: number;
  /** The comm between the parentheses, as printed (no escaping in this file). */
  comm: string;
  /** One-letter state code ('R', 'S', 'Z', ...). */
  state: string;
  ppid: number;
  /**
   * Start time in clock ticks after boot, as a decimal string (it can exceed 2^53 on a long uptime
   * with a high tick rate; a string keeps it exact and JSON-safe). Together with the pid it names one
   * process for its whole life: a reused pid has a later start time.
   */
  startTicks: string;
}

const UINT = /^[0-9]{1,20}$/;

/** Parse the text of /proc/<pid>/stat. Throws ProcfsParseError on anything malformed. */
export function parseStat(text: string, source = '<stat>'): ProcStat {
  if (typeof text !== 'string') throw new TypeError('parseStat: text must be a string');
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (body.includes('\n')) throw new ProcfsParseError(source, 2, 'expected a single line');
  const open = body.indexOf(' (');
  const close = body.lastIndexOf(') ');
  if (open <= 0 || close < open + 1) throw new ProcfsParseError(source, 1, 'expected "pid (comm) state ..."');
  const pidText = body.slice(0, open);
  if (!UINT.test(pidText) || Number(pidText) > 0x7fffffff || Number(pidText) === 0) {
    throw new ProcfsParseError(source, 1, `bad pid '${pidText.slice(0, 40)}'`);
  }
  const comm = body.slice(open + 2, close);
  const rest = body.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3]. Kernels since 2.6 print at least 44 fields.
  if (rest.length < 20) throw new ProcfsParseError(source, 1, `too few fields (${rest.length + 2})`);
  const state = rest[0];
  if (!/^[A-Za-z]$/.test(state)) throw new ProcfsParseError(source, 1, `bad state '${state.slice(0, 10)}'`);
  const ppidText = rest[1];
  if (!UINT.test(ppidText) || Number(ppidText) > 0x7fffffff) throw new ProcfsParseError(source, 1, `bad ppid '${ppidText.slice(0, 40)}'`);
  const start = rest[22 - 3];
  if (!UINT.test(start) || BigInt(start) > (1n << 64n) - 1n) throw new ProcfsParseError(source, 1, `bad starttime '${start.slice(0, 40)}'`);
  return { pid: Number(pidText), comm, state, ppid: Number(ppidText), startTicks: BigInt(start).toString() };
}

/** Read and parse /proc/<pid>/stat (ProcfsUnreadableError when the process is gone / unreadable). */
export function readStatSync(pid: number, procRoot = '/proc'): ProcStat {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new RangeError(`pid must be a positive integer, got ${String(pid)}`);
  const p = `${procRoot}/${pid}/stat`;
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (cause) {
    throw new ProcfsUnreadableError(p, cause);
  }
  return parseStat(text, p);
}
