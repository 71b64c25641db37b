/**
 * Pure parser for /proc/<pid>/status (Linux): only the security-relevant fields are typed,
 * unknown keys are ignored (but every line must still be a well-formed "Key:\tvalue").
 *
 * Availability of fields by kernel version: Seccomp (3.8, absent without CONFIG_SECCOMP),
 * CapAmb (4.3), NoNewPrivs (4.10), Seccomp_filters (5.9). Absent optional fields are null.
 */
import * as fs from 'node:fs';
import { ProcfsParseError, ProcfsUnreadableError } from '../errors';

/** Real, effective, saved-set and filesystem ids as printed on the Uid:/Gid: lines. */
export interface ProcIds {
  real: number;
  effective: number;
  saved: number;
  fs: number;
}

export interface ProcStatus {
  /** The task's comm (up to 15 bytes), with the kernel's '\\n' and '\\\\' escapes decoded. */
  name: string;
  /** One-letter state code, e.g. 'S'. */
  state: string;
  /** State text in parentheses, e.g. 'sleeping' ('' when not printed). */
  stateText: string;
  pid: number;
  /** Pid of the ptrace tracer, 0 when not traced. */
  tracerPid: number;
  uid: ProcIds;
  gid: ProcIds;
  /** 0 disabled, 1 strict, 2 filter; null when the kernel does not print it. */
  seccomp: 0 | 1 | 2 | null;
  /** Number of seccomp filters attached; null on kernels before 5.9. */
  seccompFilters: number | null;
  /** null on kernels before 4.10. */
  noNewPrivs: boolean | null;
  capInh: bigint;
  capPrm: bigint;
  capEff: bigint;
  capBnd: bigint;
  /** null on kernels before 4.3. */
  capAmb: bigint | null;
}

const KEY = /^[A-Za-z0-9_()]+$/;
const UINT = /^[0-9]{1,10}$/;
const CAP = /^[0-9a-fA-F]{16}$/;

/** Undo the kernel's escaping of the comm (proc_task_name: '\n' -> "\\n", '\\' -> "\\\\"). */
function unescapeName(s: string): string {
  return s.replace(/\\([\\ntrfvae])/g, (_m, c: string) => {
    const map: Record<string, string> = { '\\': '\\', n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', e: '\x1b' };
    return map[c];
  });
}

/**
 * Parse the text of /proc/<pid>/status. Throws ProcfsParseError on a malformed line, a duplicated
 * known key, a malformed known value, or a missing required key (Name, State, Pid, TracerPid, Uid,
 * Gid, CapInh, CapPrm, CapEff, CapBnd).
 */
export function parseStatus(text: string, source = '<status>'): ProcStatus {
  if (typeof text !== 'string') throw new TypeError('parseStatus: text must be a string');
  const fields = new Map<string, { value: string; line: number }>();
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const lines = body.length === 0 ? [] : body.split('\n');
  lines.forEach((line, i) => {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ProcfsParseError(source, i + 1, 'expected "Key:<tab>value"');
    const key = line.slice(0, colon);
    if (!KEY.test(key)) throw new ProcfsParseError(source, i + 1, `bad key '${key.slice(0, 40)}'`);
    if (fields.has(key)) throw new ProcfsParseError(source, i + 1, `duplicate key '${key}'`);
    let value = line.slice(colon + 1);
    if (value.startsWith('\t')) value = value.slice(1);
    fields.set(key, { value, line: i + 1 });
  });

  const get = (key: string, required: boolean): { value: string; line: number } | null => {
    const f = fields.get(key);
    if (!f && required) throw new ProcfsParseError(source, lines.length + 1, `missing required key '${key}'`);
    return f ?? null;
  };
  const uint = (key: string, required: boolean): number | null => {
    const f = get(key, required);
    if (!f) return null;
    const v = f.value.trim();
    if (!UINT.test(v) || Number(v) > 0xffffffff) throw new ProcfsParseError(source, f.line, `bad ${key} '${v.slice(0, 40)}'`);
    return Number(v);
  };
  const cap = (key: string, required: boolean): bigint | null => {
    const f = get(key, required);
    if (!f) return null;
    const v = f.value.trim();
    if (!CAP.test(v)) throw new ProcfsParseError(source, f.line, `bad ${key} '${v.slice(0, 40)}'`);
    return BigInt('0x' + v);
  };
  const ids = (key: string): ProcIds => {
    const f = get(key, true)!;
    const parts = f.value.split('\t');
    if (parts.length !== 4 || !parts.every((p) => UINT.test(p) && Number(p) <= 0xffffffff)) {
      throw new ProcfsParseError(source, f.line, `bad ${key} '${f.value.slice(0, 60)}'`);
    }
    const [real, effective, saved, fsid] = parts.map(Number);
    return { real, effective, saved, fs: fsid };
  };

  const nameField = get('Name', true)!;
  const stateField = get('State', true)!;
  const sm = /^([A-Za-z]) ?(?:\(([^()]*)\))?$/.exec(stateField.value.trim());
  if (!sm) throw new ProcfsParseError(source, stateField.line, `bad State '${stateField.value.slice(0, 40)}'`);

  const seccompRaw = uint('Seccomp', false);
  if (seccompRaw !== null && seccompRaw > 2) {
    throw new ProcfsParseError(source, get('Seccomp', true)!.line, `bad Seccomp mode ${seccompRaw}`);
  }
  const nnp = uint('NoNewPrivs', false);
  if (nnp !== null && nnp > 1) throw new ProcfsParseError(source, get('NoNewPrivs', true)!.line, `bad NoNewPrivs ${nnp}`);

  return {
    name: unescapeName(nameField.value),
    state: sm[1],
    stateText: sm[2] ?? '',
    pid: uint('Pid', true)!,
    tracerPid: uint('TracerPid', true)!,
    uid: ids('Uid'),
    gid: ids('Gid'),
    seccomp: seccompRaw as 0 | 1 | 2 | null,
    seccompFilters: uint('Seccomp_filters', false),
    noNewPrivs: nnp === null ? null : nnp === 1,
    capInh: cap('CapInh', true)!,
    capPrm: cap('CapPrm', true)!,
    capEff: cap('CapEff', true)!,
    capBnd: cap('CapBnd', true)!,
    capAmb: cap('CapAmb', false),
  };
}

function statusPath(pid: number | 'self'): string {
  if (pid !== 'self' && (!Number.isSafeInteger(pid) || pid <= 0)) {
    throw new RangeError(`pid must be a positive integer or 'self', got ${String(pid)}`);
  }
  return `/proc/${pid}/status`;
}

/** Read and parse /proc/<pid>/status (ProcfsUnreadableError / ProcfsParseError). */
export async function readStatus(pid: number | 'self' = 'self'): Promise<ProcStatus> {
  const p = statusPath(pid);
  let text: string;
  try {
    text = await fs.promises.readFile(p, 'utf8');
  } catch (cause) {
    throw new ProcfsUnreadableError(p, cause);
  }
  return parseStatus(text, p);
}

/** Synchronous readStatus. */
export function readStatusSync(pid: number | 'self' = 'self'): ProcStatus {
  const p = statusPath(pid);
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (cause) {
    throw new ProcfsUnreadableError(p, cause);
  }
  return parseStatus(text, p);
}
