/**
 * harden({ portals: 'allow' }) keeps the process dumpable so xdg-desktop-portal can identify it.
 * This lists, read back from the kernel, what still protects the process then.
 */
import * as fs from 'node:fs';
import type { RemainingProtection } from '../types';

export const YAMA_PTRACE_SCOPE = '/proc/sys/kernel/yama/ptrace_scope';

/** /proc/sys/kernel/yama/ptrace_scope as a number, or null when the kernel has no Yama (or it cannot be read). */
export function readYamaPtraceScope(file: string = YAMA_PTRACE_SCOPE): number | null {
  try {
    const v = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(v) && v >= 0 ? v : null;
  } catch {
    return null;
  }
}

const YAMA_TEXT: Record<number, string> = {
  1: 'Yama ptrace_scope 1: same-user processes other than ancestors (the launcher, the shell) cannot ptrace, process_vm_readv or open /proc/<pid>/mem of this process',
  2: 'Yama ptrace_scope 2: only CAP_SYS_PTRACE holders can ptrace or read the memory of this process',
  3: 'Yama ptrace_scope 3: no process can ptrace or read the memory of this process',
};

/**
 * What protects a dumpable process: `coreLimitInForce` is whether harden()'s core-limit step is
 * applied/already and read back; `tracerWatch` whether a Guard will watch for a tracer.
 */
export function remainingProtection(coreLimitInForce: boolean, yamaPtraceScope: number | null = readYamaPtraceScope()): RemainingProtection {
  const protections: string[] = [];
  protections.push(coreLimitInForce ? 'RLIMIT_CORE 0/0: no kernel core files (read back)' : 'no core limit (the core-limit step is not in force)');
  if (yamaPtraceScope === null) {
    protections.push(`no Yama (${YAMA_PTRACE_SCOPE} missing): ANY process of the same user can ptrace this process and read its memory`);
  } else if (yamaPtraceScope === 0) {
    protections.push(`Yama ptrace_scope 0 (classic): ANY process of the same user can ptrace this process and read its memory`);
  } else {
    protections.push(YAMA_TEXT[yamaPtraceScope] ?? `Yama ptrace_scope ${yamaPtraceScope}`);
  }
  protections.push(
    "the Guard's kernel watch (kernelTickMs, default 200 ms) reports a tracer attaching as 'tracer-attached'; memory reads through process_vm_readv or /proc/<pid>/mem leave no trace it can see",
  );
  return { yamaPtraceScope, protections };
}
