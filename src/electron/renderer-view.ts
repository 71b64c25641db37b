/**
 * What a renderer gets of the status: what the <procguard-status> element shows, not the main
 * process's full record. The bridge serves every allowed frame of every window, so the status must
 * not carry other windows' titles and URLs (Electron's claims in the process tree) or the values of
 * command-line switches and environment variables (launch-audit evidence). The Guard's own
 * `status()` keeps everything; only the bridge sends this view.
 *
 * Removed: each finding's `evidence`, `before` and `after`; each process's `claim`, `exe` and
 * kernel `sandbox` facts; `loops.files.watchedPaths` and `loops.files.unwatched` (the counts stay).
 * Rewritten: a process label taken from a window (title / URL) becomes its type, and such labels
 * are replaced in finding details (labels of processes seen in earlier snapshots too, so a window's
 * old title does not stay in an old finding). Every other field passes unchanged (new Status fields
 * of other parts of procguard reach the element).
 */
import type { Status } from '../types';

/** A window's label in a finding detail becomes this. */
export const WINDOW_LABEL_PLACEHOLDER = '(a window)';

const FINDING_DROP = ['evidence', 'before', 'after'] as const;
const PROCESS_DROP = ['claim', 'exe', 'sandbox'] as const;

function typeLabel(p: { type?: unknown; utilitySubType?: unknown }): string {
  const type = typeof p.type === 'string' ? p.type : 'process';
  return typeof p.utilitySubType === 'string' && p.utilitySubType !== '' ? `${type} ${p.utilitySubType}` : type;
}

function omit(obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!keys.includes(k)) out[k] = v;
  return out;
}

/**
 * Builds renderer views. One per bridge: it remembers the window labels it has seen (at most
 * `maxLabels`, oldest forgotten first) to scrub them from later details.
 */
export function createRendererView(maxLabels = 512): (status: Status) => Status {
  const seen = new Set<string>();
  const remember = (label: string): void => {
    seen.delete(label);
    seen.add(label);
    if (seen.size > maxLabels) seen.delete(seen.values().next().value as string);
  };
  return (status: Status): Status => {
    const out = { ...status } as Record<string, unknown>;
    if (Array.isArray(status.processes)) {
      out.processes = status.processes.map((p) => {
        if (p === null || typeof p !== 'object') return p;
        const plain = typeLabel(p);
        const fromWindow = p.claim !== undefined && typeof p.label === 'string' && p.label !== plain && p.label !== '';
        if (fromWindow) remember(p.label);
        return { ...omit(p as unknown as Record<string, unknown>, PROCESS_DROP), label: fromWindow ? plain : p.label };
      });
    }
    // Longest first, so a label that contains another is replaced whole.
    const labels = [...seen].sort((a, b) => b.length - a.length);
    if (Array.isArray(status.findings)) {
      out.findings = status.findings.map((f) => {
        if (f === null || typeof f !== 'object') return f;
        const g = omit(f as unknown as Record<string, unknown>, FINDING_DROP);
        if (typeof g.detail === 'string' && labels.length > 0) {
          let d = g.detail;
          for (const l of labels) if (d.includes(l)) d = d.split(l).join(WINDOW_LABEL_PLACEHOLDER);
          g.detail = d;
        }
        return g;
      });
    }
    const files = status.loops?.files;
    if (status.loops !== undefined && files !== null && typeof files === 'object') {
      out.loops = { ...status.loops, files: omit(files, ['watchedPaths', 'unwatched']) };
    }
    return out as unknown as Status;
  };
}
