/**
 * Descendants of a root pid. Two ways, same answer:
 *  - /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN): a few small reads per process of the
 *    tree, independent of how many processes the machine runs. The list is per thread (the thread
 *    that forked is the parent), so every thread of each tree member is read.
 *  - a scan of /proc/<every pid>/stat (ppid links): the fallback when the children files are absent.
 * Chromium's zygote-forked children have the zygote as parent; the crashpad handler double-forks and
 * is re-parented to init (or the nearest subreaper), so it is not a descendant.
 */
import * as fs from 'node:fs';
import { parseStat } from '../procfs/stat';
import { loadNative } from '../native';

/** Pure: the descendants of `root` in a list of (pid, ppid) links, breadth-first. */
export function descendantsFromLinks(root: number, links: readonly { pid: number; ppid: number }[]): number[] {
  const kids = new Map<number, number[]>();
  for (const l of links) {
    if (l.pid === l.ppid) continue;
    let k = kids.get(l.ppid);
    if (!k) kids.set(l.ppid, (k = []));
    k.push(l.pid);
  }
  const out: number[] = [];
  const seen = new Set<number>([root]);
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const c of kids.get(p) ?? []) {
      if (seen.has(c)) continue; // a cycle cannot happen in the kernel, but captured text could have one
      seen.add(c);
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function readdirNumeric(dir: string): number[] | null {
  try {
    return fs
      .readdirSync(dir)
      .filter((n) => /^[0-9]+$/.test(n))
      .map(Number);
  } catch {
    return null;
  }
}

let childrenFilesMissing = false;

/** Children of one process (all its threads); null when the children files do not exist. */
function childrenOf(pid: number, procRoot: string): number[] | null {
  const tids = readdirNumeric(`${procRoot}/${pid}/task`);
  if (tids === null) return []; // the process exited
  const out: number[] = [];
  for (const tid of tids) {
    let text: string;
    try {
      text = fs.readFileSync(`${procRoot}/${pid}/task/${tid}/children`, 'latin1');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && tid === pid) {
        // The leader exists (we listed its task dir) but has no children file: kernel without CONFIG_PROC_CHILDREN.
        if (fs.existsSync(`${procRoot}/${pid}/task/${tid}/stat`)) return null;
      }
      continue; // the thread exited meanwhile
    }
    for (const t of text.split(' ')) if (/^[0-9]+$/.test(t)) out.push(Number(t));
  }
  return out;
}

function scanLinks(procRoot: string): { pid: number; ppid: number }[] {
  const links: { pid: number; ppid: number }[] = [];
  for (const pid of readdirNumeric(procRoot) ?? []) {
    try {
      const s = parseStat(fs.readFileSync(`${procRoot}/${pid}/stat`, 'latin1'));
      links.push({ pid, ppid: s.ppid });
    } catch {
      // exited meanwhile, or unreadable: not part of the answer
    }
  }
  return links;
}

let nativeWalk: ((root: number) => number[] | null) | null | undefined;

/** The addon's walk (the same algorithm in C++: ~3 syscalls per thread, no JS per file), or null. */
function nativeDescendants(): ((root: number) => number[] | null) | null {
  if (nativeWalk === undefined) {
    try {
      const n = loadNative();
      nativeWalk = typeof n.treeDescendants === 'function' ? n.treeDescendants.bind(n) : null;
    } catch {
      nativeWalk = null;
    }
  }
  return nativeWalk;
}

/** Pids of the live descendants of `root` (not including it), parents before children. */
export function listDescendants(root: number, procRoot = '/proc'): number[] {
  const walk = procRoot === '/proc' && !childrenFilesMissing ? nativeDescendants() : null;
  if (walk) {
    const r = walk(root);
    if (r !== null) return r;
    childrenFilesMissing = true;
  }
  return listDescendantsJs(root, procRoot);
}

/** listDescendants without the addon (captured procfs trees, or no native build). */
export function listDescendantsJs(root: number, procRoot = '/proc'): number[] {
  if (!childrenFilesMissing) {
    const out: number[] = [];
    const seen = new Set<number>([root]);
    const queue = [root];
    let missing = false;
    while (queue.length > 0 && !missing) {
      const kids = childrenOf(queue.shift()!, procRoot);
      if (kids === null) {
        missing = true;
        break;
      }
      for (const c of kids) {
        if (seen.has(c)) continue;
        seen.add(c);
        out.push(c);
        queue.push(c);
      }
    }
    if (!missing) return out;
    childrenFilesMissing = true;
  }
  return descendantsFromLinks(root, scanLinks(procRoot));
}

/** The scan of every /proc/<pid>/stat, whatever the kernel config (tests compare both ways). */
export function listDescendantsByScan(root: number, procRoot = '/proc'): number[] {
  return descendantsFromLinks(root, scanLinks(procRoot));
}
