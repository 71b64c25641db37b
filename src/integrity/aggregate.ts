/**
 * Bounds the page-level code findings. The monitors keep one record per changed page (they need it
 * to see a page restored), but a compromised process that changes one byte in each of 38 000 pages
 * must not become 38 000 findings, log lines and DOM rows and a status of tens of MB. Per
 * (process, file, kind) the first `perFile` pages stay findings of their own (located to the
 * byte); the rest fold into one finding with the count and the next page numbers. Across all files
 * at most `total` pages stay individual; past that every further file is its summary only.
 */
import type { Observation } from '../types';

/** Page findings kept one by one per (process, file, kind). */
export const PAGES_PER_FILE = 8;
/** Page findings kept one by one in all. */
export const PAGES_TOTAL = 64;

const PAGE_KINDS = new Set(['code-modified', 'differs-from-disk', 'code-restored']);

function fileOf(o: Observation): string {
  const ev = o.evidence as { fileKey?: unknown } | undefined;
  return typeof ev?.fileKey === 'string' ? ev.fileKey : (o.path ?? '');
}

const WHAT: Record<string, string> = { 'code-modified': 'modified', 'differs-from-disk': 'differing from the file on disk', 'code-restored': 'restored' };

/**
 * Observations with the page-level ones bounded (order kept: each group's summary follows its
 * kept pages). `events`: one-shot observations, whose summary key gets a sequence number.
 */
export function aggregatePages(obs: Observation[], opts: { perFile?: number; total?: number; events?: boolean } = {}): Observation[] {
  const perFile = opts.perFile ?? PAGES_PER_FILE;
  const groups = new Map<string, Observation[]>();
  for (const o of obs) {
    if (!PAGE_KINDS.has(o.kind) || o.page === undefined) continue;
    const g = `${o.subsystem}\u0000${o.pid ?? 'self'}\u0000${o.kind}\u0000${fileOf(o)}`;
    const list = groups.get(g);
    if (list) list.push(o);
    else groups.set(g, [o]);
  }
  const lists = [...groups.values()];
  const pages = lists.reduce((a, l) => a + l.length, 0);
  if (lists.every((l) => l.length <= perFile) && pages <= (opts.total ?? PAGES_TOTAL)) return obs;
  let budget = opts.total ?? PAGES_TOTAL;
  const summaries = new Map<Observation, Observation>(); // last kept (or first) page of a group -> its summary
  const dropped = new Set<Observation>();
  for (const list of lists) {
    list.sort((a, b) => a.page! - b.page! || (a.offset ?? 0) - (b.offset ?? 0));
    const n = Math.min(perFile, budget, list.length);
    budget -= n;
    const rest = list.slice(n);
    for (const o of rest) dropped.add(o);
    if (rest.length === 0) continue;
    const first = rest[0];
    const who = first.pid !== undefined ? `${first.processType ?? 'process'} pid ${first.pid}: ` : '';
    const file = first.path ?? fileOf(first);
    const summary: Observation = {
      key: `${first.subsystem}:pages:${first.kind}:${first.pid ?? 'self'}:${fileOf(first)}${opts.events ? `:${first.key}` : ''}`,
      subsystem: first.subsystem,
      kind: first.kind,
      detail: `${who}${rest.length} more page(s) of ${file} ${WHAT[first.kind]} (${list.length} in all; the first ${n} are listed one by one; pages ${first.page}-${rest[rest.length - 1].page})`,
      page: first.page,
      ...(first.path !== undefined ? { path: first.path } : {}),
      ...(first.offset !== undefined ? { offset: first.offset } : {}),
      ...(first.pid !== undefined ? { pid: first.pid, processType: first.processType } : {}),
      evidence: { aggregated: true, pages: rest.length, totalPages: list.length, nextPages: rest.slice(0, perFile).map((o) => o.page), lastPage: rest[rest.length - 1].page, fileKey: fileOf(first) },
    };
    summaries.set(n > 0 ? list[n - 1] : first, summary);
  }
  const out: Observation[] = [];
  for (const o of obs) {
    if (dropped.has(o) && !summaries.has(o)) continue;
    if (!dropped.has(o)) out.push(o);
    const s = summaries.get(o);
    if (s) out.push(s);
  }
  return out;
}
