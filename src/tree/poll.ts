/**
 * The status poll of the Linux tree monitor: the tracer and sandbox state of each tracked process.
 *  - reads: each process's kept /proc/<pid>/status fd (one read; only the security lines are compared
 *    with the previous read, and a full parse happens only when they changed), its ns links then; and
 *    for the thread scan, the first bytes of /proc/<pid>/task/<tid>/status of every other thread;
 *  - cadence: without the native fast loop, a tick every pollMs / 3 (~167 ms) reads a third of the
 *    processes, so each one every pollMs (500 ms); the thread scan runs with the code pass (codeMs)
 *    and on check(). With the native fast loop, refreshOne() runs only when it says the leader's
 *    isolation lines changed (sentinel-loop.ts), and for a process it starts watching;
 *  - emits: new facts into the tracked entry (snap.status, facts, threadTracer), and true when a
 *    security line changed (the coordinator then settles and publishes); an exit marks discovery dirty.
 */
import * as fs from 'node:fs';
import { parseStatus } from '../procfs/status';
import type { SandboxFacts } from '../types';
import { sandboxFailures, sandboxSignature, STRICT } from './policy';
import { readNsLinks, sandboxFacts } from './snapshot';
import { ageMs, sameProcess, type Tracked, type TreeContext } from './tracked';

const STATUS_BUF = Buffer.alloc(16384);
/** The poll reads 1/POLL_SLICES of the processes per tick. */
export const POLL_SLICES = 3;

const QUICK_KEYS = ['TracerPid:', 'Seccomp:', 'Seccomp_filters:', 'NoNewPrivs:', 'CapEff:', 'CapPrm:'];

/** The security-relevant lines of a status text, concatenated (no parse). */
export function quickLines(text: string): string {
  let s = '';
  for (const k of QUICK_KEYS) {
    const i = text.indexOf('\n' + k);
    if (i < 0) continue;
    const e = text.indexOf('\n', i + 1);
    s += text.slice(i + 1, e < 0 ? text.length : e) + ';';
  }
  return s;
}

/** Every sandbox property that failed before still fails or passes now, and fewer fail: entering the sandbox. */
export function strengthened(before: SandboxFacts, after: SandboxFacts): boolean {
  const b = new Set(sandboxFailures(before, STRICT).map((f) => f.property));
  const a = sandboxFailures(after, STRICT).map((f) => f.property);
  return a.length < b.size && a.every((p) => b.has(p));
}

/** The tracer of a thread from the first lines of its status text, or null when none. */
export function threadTracerPid(text: string): number | null {
  const m = /\nTracerPid:\t([0-9]+)/.exec(text);
  return m && m[1] !== '0' ? Number(m[1]) : null;
}

export class StatusPoll {
  private tickNo = 0;

  constructor(private readonly ctx: TreeContext) {}

  /** One poll tick: the next slice of the processes; true when a security line changed. */
  tick(): boolean {
    this.tickNo = (this.tickNo + 1) % POLL_SLICES;
    return this.refreshStatuses(this.tickNo);
  }

  /** Re-reads every known process's status (or one slice of them); true when a security line changed. */
  refreshStatuses(slice = -1): boolean {
    let changed = false;
    let i = 0;
    for (const t of this.ctx.tracked.values()) {
      if (slice >= 0 && i++ % POLL_SLICES !== slice) continue;
      if (this.refreshOne(t)) changed = true;
    }
    return changed;
  }

  /** Re-reads one process's status through its kept fd; true when a security line changed. */
  refreshOne(t: Tracked): boolean {
    const { procRoot, settleMs } = this.ctx.opts;
    const p = `${procRoot}/${t.snap.pid}/status`;
    let text: string;
    try {
      if (t.statusFd === null) throw new Error('no fd');
      const n = fs.readSync(t.statusFd, STATUS_BUF, 0, STATUS_BUF.length, 0);
      if (n <= 0) throw new Error('empty');
      text = STATUS_BUF.toString('latin1', 0, n);
    } catch {
      this.ctx.markDirty(); // exited (ESRCH on the kept fd): the next discovery drops it
      return false;
    }
    const q = quickLines(text);
    if (q === t.quick) return false;
    t.quick = q;
    const status = parseStatus(text, p);
    t.snap = { ...t.snap, status, ns: readNsLinks(t.snap.pid, procRoot) };
    t.facts = sandboxFacts(status, t.snap.ns, this.ctx.rootNs());
    // A young process that finished entering its sandbox after it was judged (a loaded machine can
    // take longer than settleMs): the sandboxed state becomes its baseline, not a change.
    if (t.baseFacts && strengthened(t.baseFacts, t.facts) && ageMs(t, procRoot) < 5 * settleMs + 5000) {
      t.baseFacts = t.facts;
      t.baseSig = sandboxSignature(t.facts);
    }
    return true;
  }

  /** A tracer can PTRACE_SEIZE one thread, leaving the leader's TracerPid 0: read every thread (slow loop). */
  scanThreads(): void {
    const { procRoot } = this.ctx.opts;
    for (const t of this.ctx.tracked.values()) {
      t.threadTracer = null;
      let tids: string[];
      try {
        tids = fs.readdirSync(`${procRoot}/${t.snap.pid}/task`);
      } catch {
        continue;
      }
      for (const tid of tids) {
        if (Number(tid) === t.snap.pid) continue;
        let text: string;
        let fd: number;
        try {
          fd = fs.openSync(`${procRoot}/${t.snap.pid}/task/${tid}/status`, 'r');
        } catch {
          continue; // the thread exited meanwhile
        }
        try {
          // TracerPid is within the first lines: a short read into the shared buffer, no allocation.
          text = STATUS_BUF.toString('latin1', 0, fs.readSync(fd, STATUS_BUF, 0, 512, 0));
        } catch {
          continue;
        } finally {
          fs.closeSync(fd);
        }
        const tracer = threadTracerPid(text);
        if (tracer !== null) {
          t.threadTracer = { tid: Number(tid), pid: tracer };
          break;
        }
      }
      // Read by pid: only this process's if it is still the one of this start time now.
      if (!sameProcess(t, procRoot)) {
        t.threadTracer = null;
        this.ctx.markDirty();
      }
    }
  }
}
