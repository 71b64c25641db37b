/**
 * What the Linux tree monitor says of one tracked process: its open observations (subsystem 'tree',
 * except a disagreement with Electron's claim, 'electron', and its code findings, 'code') and its
 * Status.processes entry. Pure over the tracked entry, the claim and a tracer's name.
 */
import type { Observation, ProcessEntry, SandboxFacts } from '../types';
import type { ProcessClaim } from './monitor';
import { isSandboxed, sandboxFailures, sandboxSignature, STRICT, type SandboxRequirement } from './policy';
import type { ChildSnapshot } from './snapshot';
import type { Tracked } from './tracked';

/** How a process is named in details and the Status: Electron's title / URL, else its type. */
export function processLabel(snap: ChildSnapshot, claim: ProcessClaim | undefined): string {
  if (claim?.title || claim?.url) return `${claim.title ? `'${claim.title}'` : ''}${claim.title && claim.url ? ' ' : ''}${claim.url ? `(${claim.url})` : ''}`;
  const k = snap.kind;
  return k.utilitySubType ? `${k.type} ${k.utilitySubType}` : k.type === 'other' && k.rawType ? `other (${k.rawType})` : k.type;
}

/** The sandbox facts that differ between the settled baseline and now (the tracer has its own finding). */
export function sandboxChanges(before: SandboxFacts, after: SandboxFacts): (keyof SandboxFacts)[] {
  if (sandboxSignature(after) === sandboxSignature(before)) return [];
  return (Object.keys(after) as (keyof SandboxFacts)[]).filter((k) => k !== 'tracerPid' && after[k] !== before[k]);
}

/**
 * The open observations of one tracked process. `tracerComm` names a tracer pid (its
 * /proc/<pid>/comm), null when unreadable.
 */
export function childObservations(t: Tracked, claim: ProcessClaim | undefined, tracerComm: (pid: number) => string | null): Observation[] {
  const out: Observation[] = [];
  const { snap, facts } = t;
  const type = snap.kind.type;
  const who = `${type} pid ${snap.pid}${claim?.title || claim?.url ? ` ${processLabel(snap, claim)}` : ''}`;
  const base = { pid: snap.pid, processType: type, subsystem: 'tree' as const };
  const tracer = facts.tracerPid !== 0 ? { tid: snap.pid, pid: facts.tracerPid } : t.threadTracer;
  if (tracer) {
    const comm = tracerComm(tracer.pid);
    out.push({
      ...base,
      key: `tree:child-tracer-attached:${snap.key}`,
      kind: 'child-tracer-attached',
      detail: `${who}: traced by pid ${tracer.pid}${comm ? ` (${comm})` : ''}${tracer.tid !== snap.pid ? ` on thread ${tracer.tid}` : ''}`,
      evidence: { tracerPid: tracer.pid, tracerComm: comm, tid: tracer.tid },
    });
  }
  if (t.baseSig !== null && t.required) {
    const failed = sandboxFailures(facts, t.required);
    if (failed.length > 0) {
      out.push({
        ...base,
        key: `tree:child-unsandboxed:${snap.key}`,
        kind: 'child-unsandboxed',
        detail: `${who} is not sandboxed: ${failed.map((f) => `${f.property} (${f.detail})`).join(', ')}`,
        evidence: { failed: failed.map((f) => f.property), noSandboxFlag: snap.kind.noSandboxFlag },
        after: facts,
      });
    }
  }
  if (t.baseSig !== null && t.baseFacts && sandboxSignature(facts) !== t.baseSig) {
    const b = t.baseFacts;
    const changes = sandboxChanges(b, facts);
    out.push({
      ...base,
      key: `tree:child-sandbox-changed:${snap.key}`,
      kind: 'child-sandbox-changed',
      detail: `${who}: sandbox changed: ${changes.map((k) => `${k} ${String(b[k])} -> ${String(facts[k])}`).join(', ')}`,
      before: b,
      after: facts,
    });
  }
  if (claim && t.baseSig !== null) {
    const differ: string[] = [];
    if (claim.sandboxed !== undefined && claim.sandboxed !== isSandboxed(facts)) {
      const failed = sandboxFailures(facts, STRICT).map((f) => f.property);
      differ.push(`Electron says ${claim.sandboxed ? 'sandboxed' : 'not sandboxed'}, the kernel shows ${failed.length === 0 ? 'sandboxed' : `not sandboxed (${failed.join(', ')})`}`);
    }
    if (claim.type !== undefined && claim.type !== type && !(claim.type === 'other' || type === 'other')) {
      differ.push(`Electron says ${claim.type}, its command line says ${type}`);
    }
    if (differ.length > 0) {
      out.push({
        ...base,
        subsystem: 'electron',
        key: `tree:child-claim-mismatch:${snap.key}`,
        kind: 'child-claim-mismatch',
        detail: `${who}: ${differ.join('; ')}`,
        before: claim,
        after: { type, sandboxed: isSandboxed(facts), sandbox: facts },
      });
    }
  }
  if (t.limited !== null) {
    out.push({ ...base, key: `tree:tree-limit-reached:${snap.key}`, kind: 'tree-limit-reached', detail: `${who}: ${t.limited}` });
  }
  out.push(...t.code.values(), ...t.unreadable);
  return out;
}

/** One Status.processes entry. */
export function processEntry(
  snap: ChildSnapshot,
  facts: SandboxFacts,
  required: SandboxRequirement | null,
  claim: ProcessClaim | undefined,
  coverage: ProcessEntry['coverage'],
  findings: number,
  settled: boolean,
): ProcessEntry {
  const e: ProcessEntry = {
    pid: snap.pid,
    ppid: snap.ppid,
    type: snap.kind.type,
    label: processLabel(snap, claim),
    exe: snap.exe,
    startTicks: snap.startTicks,
    sandboxed: isSandboxed(facts),
    sandboxRequired: required !== null && Object.values(required).some(Boolean),
    settled,
    sandbox: facts,
    coverage,
    findings,
  };
  if (snap.kind.utilitySubType !== undefined) e.utilitySubType = snap.kind.utilitySubType;
  if (snap.kind.serviceSandboxType !== undefined) e.serviceSandboxType = snap.kind.serviceSandboxType;
  if (claim) e.claim = { ...claim };
  return e;
}
