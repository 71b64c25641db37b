/**
 * Structured diff of two kernel snapshots (baseline vs now) into observations.
 * Each condition has a stable key: the same key on two checks is one persisting finding, and a
 * condition that returns to its baseline value disappears (closes). A field that is 'unsupported'
 * on either side is never compared.
 */
import type { Observation } from '../types';
import type { KernelSnapshot } from './snapshot';
import { capNames } from './caps';

export interface DiffOptions {
  /**
   * Raise 'exec-mapping-changed' for new/removed executable file mappings. Off by default: loading
   * a library (dlopen, require of a .node) is normal, and the code monitor owns mapping findings.
   */
  reportExecMappings?: boolean;
}

const SECCOMP_MODES = ['disabled', 'strict', 'filter'];
const CAP_SETS = [
  ['eff', 'CapEff'],
  ['prm', 'CapPrm'],
  ['bnd', 'CapBnd'],
  ['amb', 'CapAmb'],
] as const;

const sup = <T>(v: T | 'unsupported'): v is T => v !== 'unsupported';

function obs(kind: string, detail: string, before: unknown, after: unknown, evidence?: Record<string, unknown>, suffix = ''): Observation {
  return { key: `kernel:${kind}${suffix}`, subsystem: 'kernel', kind, detail, before, after, ...(evidence ? { evidence } : {}) };
}

function describeSeccomp(s: { mode: number; filters: number | null }): string {
  return `${SECCOMP_MODES[s.mode] ?? s.mode}${s.filters === null ? '' : `, ${s.filters} filter(s)`}`;
}

/** Observations for every security-relevant field of `now` that differs from `base`. */
export function diffSnapshots(base: KernelSnapshot, now: KernelSnapshot, opts: DiffOptions = {}): Observation[] {
  const out: Observation[] = [];

  // Tracer: open while any tracer is attached. One that was already there at the baseline is not
  // "normal" (it has had full access since before we looked): it is reported with atStart.
  if (sup(base.tracer) && sup(now.tracer) && now.tracer.attached) {
    const basePid = base.tracer.attached ? base.tracer.pid : null;
    const atStart = base.tracer.attached && now.tracer.pid === basePid;
    const t = now.tracer;
    const who = t.pid === null ? 'a debugger' : `pid ${t.pid}${t.comm ? ` (${t.comm})` : ''}`;
    const where = t.tid !== null && t.tid !== now.pid ? ` on thread ${t.tid}` : '';
    out.push(
      obs('tracer-attached', `a tracer is attached${atStart ? ' (since before the monitor started)' : ''}: ${who}${where}`, base.tracer, now.tracer, {
        tracerPid: t.pid,
        tracerComm: t.comm,
        tid: t.tid,
        ...(atStart ? { atStart: true } : {}),
      }),
    );
  }

  if (sup(base.seccomp) && sup(now.seccomp)) {
    if (base.seccomp.mode !== now.seccomp.mode || base.seccomp.filters !== now.seccomp.filters) {
      out.push(obs('seccomp-changed', `seccomp changed: ${describeSeccomp(base.seccomp)} -> ${describeSeccomp(now.seccomp)}`, base.seccomp, now.seccomp));
    }
  }

  if (sup(base.noNewPrivs) && sup(now.noNewPrivs) && base.noNewPrivs !== now.noNewPrivs) {
    out.push(obs('no-new-privs-changed', `NoNewPrivs changed: ${base.noNewPrivs} -> ${now.noNewPrivs}`, base.noNewPrivs, now.noNewPrivs));
  }

  // One observation per capability set, so a drop from the bounding set and a later capset()
  // on the effective set are two findings, each with the names of the capabilities involved.
  if (sup(base.capabilities) && sup(now.capabilities)) {
    for (const [set, label] of CAP_SETS) {
      const b = base.capabilities[set];
      const a = now.capabilities[set];
      if (b === null || a === null || b === a) continue;
      const bm = BigInt('0x' + b);
      const am = BigInt('0x' + a);
      const added = capNames(am & ~bm);
      const removed = capNames(bm & ~am);
      const parts = [removed.length ? `removed ${removed.join(', ')}` : '', added.length ? `added ${added.join(', ')}` : ''].filter(Boolean);
      out.push(obs('capabilities-changed', `${label} changed: ${parts.join('; ')}`, b, a, { set: label, added, removed }, `:${set}`));
    }
  }

  if (sup(base.dumpable) && sup(now.dumpable) && base.dumpable !== now.dumpable) {
    out.push(obs('dumpable-changed', `dumpable changed: ${base.dumpable} -> ${now.dumpable}`, base.dumpable, now.dumpable));
  }

  if (sup(base.coreLimit) && sup(now.coreLimit)) {
    if (base.coreLimit.soft !== now.coreLimit.soft || base.coreLimit.hard !== now.coreLimit.hard) {
      const f = (c: { soft: string; hard: string }) => `soft ${c.soft}, hard ${c.hard}`;
      out.push(obs('core-limit-changed', `core limit changed: ${f(base.coreLimit)} -> ${f(now.coreLimit)}`, base.coreLimit, now.coreLimit));
    }
  }

  if (sup(base.cgroup) && sup(now.cgroup)) {
    const b = base.cgroup;
    const a = now.cgroup;
    const changed = [...new Set([...Object.keys(b), ...Object.keys(a)])]
      .filter((h) => b[h] !== a[h])
      .sort();
    if (changed.length > 0) {
      const parts = changed.map((h) => `${h}: ${b[h] ?? '(none)'} -> ${a[h] ?? '(none)'}`);
      out.push(obs('cgroup-changed', `cgroup changed: ${parts.join('; ')}`, b, a, { hierarchies: changed }));
    }
  }

  if (opts.reportExecMappings && sup(base.execMappings) && sup(now.execMappings)) {
    const b = new Set(base.execMappings);
    const a = new Set(now.execMappings);
    const added = now.execMappings.filter((m) => !b.has(m));
    const removed = base.execMappings.filter((m) => !a.has(m));
    if (added.length || removed.length) {
      // Summarised: the code monitor reports each mapping in detail.
      out.push(
        obs(
          'exec-mapping-changed',
          `executable file mappings changed: ${added.length} added, ${removed.length} removed`,
          base.execMappings.length,
          now.execMappings.length,
          { added: added.slice(0, 10), removed: removed.slice(0, 10), addedCount: added.length, removedCount: removed.length },
        ),
      );
    }
  }
  return out;
}
