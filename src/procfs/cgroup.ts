/**
 * Pure parser for /proc/<pid>/cgroup (Linux), cgroup v1, v2 and hybrid layouts.
 * Each line is "hierarchy-ID:controller-list:path". v2 (unified) is the single line "0::<path>";
 * v1 lines list their controllers ("4:memory:/x", "1:name=systemd:/y"). The path is everything
 * after the second colon (it may itself contain ':'). A v2 cgroup removed while the process is
 * still in it is printed with a " (deleted)" suffix.
 */
import * as fs from 'node:fs';
import { ProcfsParseError, ProcfsUnreadableError } from '../errors';

export interface CgroupEntry {
  hierarchyId: number;
  /** Controllers of a v1 hierarchy (e.g. ['cpu', 'cpuacct'], ['name=systemd']); [] for v2. */
  controllers: string[];
  path: string;
  /** The v2 cgroup was removed (" (deleted)" suffix, stripped from `path`). */
  deleted: boolean;
}

export interface CgroupInfo {
  entries: CgroupEntry[];
  version: 'v1' | 'v2' | 'hybrid';
  /** Path in the unified (v2) hierarchy, or null when the process has none (pure v1). */
  unifiedPath: string | null;
}

const CONTROLLER = /^[A-Za-z0-9_.=-]+$/;
const DELETED = ' (deleted)';

/** Parse the text of /proc/<pid>/cgroup. Throws ProcfsParseError on a malformed line or an empty file. */
export function parseCgroup(text: string, source = '<cgroup>'): CgroupInfo {
  if (typeof text !== 'string') throw new TypeError('parseCgroup: text must be a string');
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (body.length === 0) throw new ProcfsParseError(source, 1, 'empty cgroup file');
  const entries: CgroupEntry[] = [];
  const seen = new Set<number>();
  body.split('\n').forEach((line, i) => {
    const fail = (reason: string): never => {
      throw new ProcfsParseError(source, i + 1, reason);
    };
    const c1 = line.indexOf(':');
    const c2 = c1 < 0 ? -1 : line.indexOf(':', c1 + 1);
    if (c1 < 0 || c2 < 0) fail('expected "id:controllers:path"');
    const idText = line.slice(0, c1);
    if (!/^[0-9]{1,9}$/.test(idText)) fail(`bad hierarchy id '${idText.slice(0, 20)}'`);
    const hierarchyId = Number(idText);
    if (seen.has(hierarchyId)) fail(`duplicate hierarchy id ${hierarchyId}`);
    seen.add(hierarchyId);
    const ctl = line.slice(c1 + 1, c2);
    const controllers = ctl === '' ? [] : ctl.split(',');
    if (!controllers.every((c) => CONTROLLER.test(c))) fail(`bad controller list '${ctl.slice(0, 40)}'`);
    // Only the unified hierarchy (id 0) has no controllers; a v1 hierarchy always names some.
    if ((hierarchyId === 0) !== (controllers.length === 0)) fail(`hierarchy ${hierarchyId} with controllers '${ctl.slice(0, 40)}'`);
    let path = line.slice(c2 + 1);
    if (!path.startsWith('/')) fail(`path must start with '/': '${path.slice(0, 40)}'`);
    let deleted = false;
    if (path.endsWith(DELETED)) {
      deleted = true;
      path = path.slice(0, -DELETED.length);
    }
    entries.push({ hierarchyId, controllers, path, deleted });
  });
  const unified = entries.find((e) => e.hierarchyId === 0) ?? null;
  const v1 = entries.some((e) => e.hierarchyId !== 0);
  return {
    entries,
    version: unified && v1 ? 'hybrid' : unified ? 'v2' : 'v1',
    unifiedPath: unified ? unified.path : null,
  };
}

function cgroupPath(pid: number | 'self'): string {
  if (pid !== 'self' && (!Number.isSafeInteger(pid) || pid <= 0)) {
    throw new RangeError(`pid must be a positive integer or 'self', got ${String(pid)}`);
  }
  return `/proc/${pid}/cgroup`;
}

/** Read and parse /proc/<pid>/cgroup (ProcfsUnreadableError / ProcfsParseError). */
export async function readCgroup(pid: number | 'self' = 'self'): Promise<CgroupInfo> {
  const p = cgroupPath(pid);
  let text: string;
  try {
    text = await fs.promises.readFile(p, 'utf8');
  } catch (cause) {
    throw new ProcfsUnreadableError(p, cause);
  }
  return parseCgroup(text, p);
}
