/**
 * Windows process DACL option for harden(): validation, SID aliases, access-right names and
 * canonical ordering. Pure TypeScript (no native calls), so it is tested on every OS.
 */

/** Process access rights by name (winnt.h values). */
export const PROCESS_ACCESS = {
  terminate: 0x0001, // PROCESS_TERMINATE
  'create-thread': 0x0002, // PROCESS_CREATE_THREAD
  'vm-operation': 0x0008, // PROCESS_VM_OPERATION
  'vm-read': 0x0010, // PROCESS_VM_READ
  'vm-write': 0x0020, // PROCESS_VM_WRITE
  'dup-handle': 0x0040, // PROCESS_DUP_HANDLE
  'create-process': 0x0080, // PROCESS_CREATE_PROCESS
  'set-quota': 0x0100, // PROCESS_SET_QUOTA
  'set-information': 0x0200, // PROCESS_SET_INFORMATION
  query: 0x0400, // PROCESS_QUERY_INFORMATION
  'suspend-resume': 0x0800, // PROCESS_SUSPEND_RESUME
  'query-limited': 0x1000, // PROCESS_QUERY_LIMITED_INFORMATION
  delete: 0x00010000, // DELETE
  'read-control': 0x00020000, // READ_CONTROL
  'write-dac': 0x00040000, // WRITE_DAC
  'write-owner': 0x00080000, // WRITE_OWNER
  synchronize: 0x00100000, // SYNCHRONIZE
  all: 0x001fffff, // PROCESS_ALL_ACCESS
} as const;

export type ProcessAccessRight = keyof typeof PROCESS_ACCESS;

/** SID aliases accepted besides literal string SIDs ("S-1-5-21-..."). */
export const SID_ALIASES = {
  /** The user the process runs as (resolved natively from the process token). */
  USER: 'USER',
  /** OWNER RIGHTS: replaces the implicit READ_CONTROL | WRITE_DAC an object's owner gets. */
  OWNER_RIGHTS: 'S-1-3-4',
  /** LocalSystem. */
  SYSTEM: 'S-1-5-18',
} as const;

export type SidAlias = keyof typeof SID_ALIASES;

/** One access control entry of a custom process DACL. */
export interface DaclEntry {
  type: 'allow' | 'deny';
  /** A string SID ("S-1-5-21-...") or one of 'USER', 'OWNER_RIGHTS', 'SYSTEM'. */
  sid: string;
  /** Access right names, or a raw access mask (integer 0x1..0x1FFFFF; no generic rights). */
  access: ProcessAccessRight[] | number;
}

/** A validated ACE as the native layer takes it. */
export interface NativeAce {
  allow: boolean;
  sid: string;
  mask: number;
}

/** The limited rights the default DACL grants: enough to see and end the process, no handle with VM rights. */
export const LIMITED_ACCESS: ProcessAccessRight[] = ['query-limited', 'terminate', 'synchronize'];

/**
 * The default DACL: the current user and OWNER RIGHTS get only the limited rights. The OWNER
 * RIGHTS entry matters: without it the owner keeps an implicit WRITE_DAC and could rewrite the
 * DACL, then reopen the process with PROCESS_VM_READ.
 */
export const DEFAULT_PROCESS_DACL: readonly DaclEntry[] = Object.freeze([
  Object.freeze({ type: 'allow', sid: 'USER', access: LIMITED_ACCESS }),
  Object.freeze({ type: 'allow', sid: 'OWNER_RIGHTS', access: LIMITED_ACCESS }),
]) as readonly DaclEntry[];

const SID_RE = /^S-1-(\d{1,15})((?:-\d{1,10}){0,15})$/;

function checkSid(sid: unknown, i: number): string {
  if (typeof sid !== 'string') throw new TypeError(`harden: options.dacl[${i}].sid must be a string`);
  if (Object.prototype.hasOwnProperty.call(SID_ALIASES, sid)) return SID_ALIASES[sid as SidAlias];
  const m = SID_RE.exec(sid);
  const subs = m ? m[2].split('-').slice(1).map(Number) : [];
  if (!m || Number(m[1]) > 0xffffffffffff || subs.some((s) => s > 0xffffffff)) {
    throw new RangeError(
      `harden: options.dacl[${i}].sid "${sid}" is not a SID (expected "S-1-..." or one of USER, OWNER_RIGHTS, SYSTEM)`,
    );
  }
  return sid;
}

function checkAccess(access: unknown, i: number): number {
  if (typeof access === 'number') {
    // Only specific and standard rights: generic bits (GENERIC_READ, ...) would be mapped by the
    // kernel when the ACL is set and then never match on read-back.
    if (!Number.isInteger(access) || access < 1 || access > PROCESS_ACCESS.all) {
      throw new RangeError(`harden: options.dacl[${i}].access mask must be an integer from 0x1 to 0x1FFFFF (PROCESS_ALL_ACCESS)`);
    }
    return access;
  }
  if (!Array.isArray(access)) {
    throw new TypeError(`harden: options.dacl[${i}].access must be an array of access right names or a number`);
  }
  if (access.length === 0) throw new RangeError(`harden: options.dacl[${i}].access must not be empty`);
  let mask = 0;
  for (const name of access) {
    if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(PROCESS_ACCESS, name)) {
      throw new RangeError(
        `harden: options.dacl[${i}].access: unknown access right ${JSON.stringify(name)} (expected one of ${Object.keys(PROCESS_ACCESS).join(', ')})`,
      );
    }
    mask |= PROCESS_ACCESS[name as ProcessAccessRight];
  }
  return mask >>> 0;
}

/**
 * Validate a custom DACL and return it in canonical order (every deny entry before every allow
 * entry, otherwise in the order given). Throws TypeError/RangeError with an exact message.
 */
export function normalizeDacl(entries: unknown): NativeAce[] {
  if (!Array.isArray(entries)) throw new TypeError('harden: options.dacl must be an array');
  if (entries.length === 0) {
    throw new RangeError('harden: options.dacl must not be empty (an empty DACL denies everyone, even terminate)');
  }
  const deny: NativeAce[] = [];
  const allow: NativeAce[] = [];
  entries.forEach((e: unknown, i: number) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      throw new TypeError(`harden: options.dacl[${i}] must be an object`);
    }
    const { type, sid, access } = e as Record<string, unknown>;
    if (type !== 'allow' && type !== 'deny') {
      throw new RangeError(`harden: options.dacl[${i}].type must be 'allow' or 'deny'`);
    }
    const ace: NativeAce = { allow: type === 'allow', sid: checkSid(sid, i), mask: checkAccess(access, i) };
    (ace.allow ? allow : deny).push(ace);
  });
  return [...deny, ...allow];
}

/** True when the DACL has an allow or deny entry for OWNER RIGHTS (else the owner keeps implicit WRITE_DAC). */
export function hasOwnerRightsEntry(aces: NativeAce[]): boolean {
  return aces.some((a) => a.sid === SID_ALIASES.OWNER_RIGHTS);
}

/**
 * Names of the rights some allow entry grants beyond LIMITED_ACCESS (query-limited, terminate,
 * synchronize), e.g. 'suspend-resume', 'create-process', 'set-information', 'set-quota'; bits with
 * no name are reported as hex. Empty when the DACL grants nothing more than the default.
 */
export function rightsBeyondLimited(aces: NativeAce[]): string[] {
  let limited = 0;
  for (const r of LIMITED_ACCESS) limited |= PROCESS_ACCESS[r];
  let extra = 0;
  for (const a of aces) if (a.allow) extra |= a.mask & ~limited;
  extra >>>= 0;
  const names: string[] = [];
  for (const [name, bit] of Object.entries(PROCESS_ACCESS)) {
    if (name === 'all' || (bit & limited) !== 0) continue;
    if ((extra & bit) === bit) {
      names.push(name);
      extra = (extra & ~bit) >>> 0;
    }
  }
  if (extra !== 0) names.push(`0x${extra.toString(16)}`);
  return names;
}

/** True when some allow entry grants a right that opens the process's memory or threads. */
export function grantsMemoryAccess(aces: NativeAce[]): boolean {
  const risky =
    PROCESS_ACCESS['vm-read'] | PROCESS_ACCESS['vm-write'] | PROCESS_ACCESS['vm-operation'] |
    PROCESS_ACCESS['create-thread'] | PROCESS_ACCESS['dup-handle'] | PROCESS_ACCESS['write-dac'] |
    PROCESS_ACCESS['write-owner'];
  return aces.some((a) => a.allow && (a.mask & risky) !== 0);
}
