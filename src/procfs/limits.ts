/**
 * Pure parser for /proc/<pid>/limits (Linux). The kernel prints a header and one line per
 * resource: "%-25s %-20s %-20s %-10s" (name, soft, hard, units); a value is a decimal number or
 * "unlimited" (RLIM_INFINITY); the units column is empty for nice/realtime priority.
 */
import * as fs from 'node:fs';
import { ProcfsParseError, ProcfsUnreadableError } from '../errors';

/** A limit value: decimal string (may exceed 2^53) or 'unlimited'. */
export type LimitValue = string;

export interface ResourceLimit {
  soft: LimitValue;
  hard: LimitValue;
  /** e.g. 'bytes', 'seconds'; '' when the kernel prints none. */
  units: string;
}

/** Keyed by the kernel's name, e.g. 'Max core file size'. */
export type ProcLimits = Record<string, ResourceLimit>;

const HEADER = /^Limit\s+Soft Limit\s+Hard Limit\s+Units\s*$/;
const LINE = /^(\S(?:.*?\S)?)\s+(unlimited|[0-9]{1,20})\s+(unlimited|[0-9]{1,20})(?:\s+([A-Za-z]+))?\s*$/;
const MAX_U64 = (1n << 64n) - 1n;

/** Parse the text of /proc/<pid>/limits. Throws ProcfsParseError on a malformed line or header. */
export function parseLimits(text: string, source = '<limits>'): ProcLimits {
  if (typeof text !== 'string') throw new TypeError('parseLimits: text must be a string');
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const lines = body.split('\n');
  if (!HEADER.test(lines[0])) throw new ProcfsParseError(source, 1, 'missing "Limit Soft Limit Hard Limit Units" header');
  const out = Object.create(null) as ProcLimits;
  for (let i = 1; i < lines.length; i++) {
    const m = LINE.exec(lines[i]);
    if (!m) throw new ProcfsParseError(source, i + 1, `bad limit line '${lines[i].slice(0, 60)}'`);
    const [, name, soft, hard, units] = m;
    for (const v of [soft, hard]) {
      if (v !== 'unlimited' && BigInt(v) > MAX_U64) throw new ProcfsParseError(source, i + 1, `limit out of range '${v}'`);
    }
    if (name in out) throw new ProcfsParseError(source, i + 1, `duplicate limit '${name}'`);
    out[name] = { soft, hard, units: units ?? '' };
  }
  return out;
}

/** RLIMIT_CORE from parsed limits, or null when the kernel did not print it. */
export function coreLimit(limits: ProcLimits): { soft: LimitValue; hard: LimitValue } | null {
  const l = limits['Max core file size'];
  return l ? { soft: l.soft, hard: l.hard } : null;
}

function limitsPath(pid: number | 'self'): string {
  if (pid !== 'self' && (!Number.isSafeInteger(pid) || pid <= 0)) {
    throw new RangeError(`pid must be a positive integer or 'self', got ${String(pid)}`);
  }
  return `/proc/${pid}/limits`;
}

/** Read and parse /proc/<pid>/limits (ProcfsUnreadableError / ProcfsParseError). */
export async function readLimits(pid: number | 'self' = 'self'): Promise<ProcLimits> {
  const p = limitsPath(pid);
  let text: string;
  try {
    text = await fs.promises.readFile(p, 'utf8');
  } catch (cause) {
    throw new ProcfsUnreadableError(p, cause);
  }
  return parseLimits(text, p);
}
