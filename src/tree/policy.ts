/**
 * What each process type must have for its sandbox, and the check of the kernel's facts against it.
 *
 * Chromium on Linux has two layer-1 sandboxes: the namespace sandbox (an unprivileged user namespace,
 * with its own PID and network namespaces: what an ordinary user gets today) and the setuid sandbox
 * (chrome-sandbox, setuid root, used when user namespaces are off). The setuid helper creates new PID
 * and network namespaces as root WITHOUT a new user namespace, so from /proc its children share the
 * browser's user namespace but have their own PID and network namespaces. Either layout passes
 * 'own-namespaces'. Layer 2 is seccomp-bpf (Seccomp: 2) with NoNewPrivs in both.
 */
import type { SandboxFacts } from '../types';
import type { ProcessKind } from './cmdline';

export interface SandboxRequirement {
  /** Seccomp filter mode (2). */
  seccomp?: boolean;
  noNewPrivs?: boolean;
  /** Own user namespace, or the setuid sandbox's own PID + network namespaces. */
  namespaces?: boolean;
  /** No effective capabilities (checked only when set; a namespace sandbox's zygote keeps CAP_SYS_ADMIN in its own namespace). */
  noCapabilities?: boolean;
}

/** Per type ('renderer', 'gpu-process', ...), or 'utility:<service-sandbox-type>' for one utility kind. null: nothing required. */
export type TreeSandboxPolicy = Readonly<Record<string, SandboxRequirement | null>>;

export const STRICT: SandboxRequirement = Object.freeze({ seccomp: true, noNewPrivs: true, namespaces: true });

/**
 * Defaults: renderers, and utilities whose --service-sandbox-type is not 'none', need seccomp 2 +
 * NoNewPrivs + the namespaces. The GPU process (no seccomp in headless mode, measured), the zygote
 * (sandboxes its children, not itself), the crashpad handler and the browser are listed but not required.
 */
export function requirementFor(kind: ProcessKind, overrides: TreeSandboxPolicy = {}): SandboxRequirement | null {
  if (kind.type === 'utility' && kind.serviceSandboxType !== undefined) {
    const specific = overrides[`utility:${kind.serviceSandboxType}`];
    if (specific !== undefined) return specific;
  }
  if (overrides[kind.type] !== undefined) return overrides[kind.type];
  if (kind.type === 'renderer') return STRICT;
  if (kind.type === 'utility') return kind.serviceSandboxType === 'none' ? null : STRICT;
  return null;
}

/** The properties that fail `req`, each a short name and the evidence. Empty: the requirement holds. */
export function sandboxFailures(f: SandboxFacts, req: SandboxRequirement): { property: string; detail: string }[] {
  const out: { property: string; detail: string }[] = [];
  if (req.seccomp && f.seccomp !== 2) out.push({ property: 'seccomp', detail: `seccomp mode ${f.seccomp ?? 'unknown'} (need 2, filter)` });
  if (req.noNewPrivs && f.noNewPrivs !== true) out.push({ property: 'no-new-privs', detail: `NoNewPrivs ${f.noNewPrivs === null ? 'unknown' : f.noNewPrivs ? 1 : 0}` });
  if (req.namespaces) {
    const setuidLayout = f.ownPidNs === true && f.ownNetNs === true;
    if (f.ownUserNs !== true && !setuidLayout) {
      out.push({
        property: 'namespace',
        detail:
          f.ownUserNs === null
            ? 'user namespace unreadable'
            : `shares the root's user namespace${f.ownPidNs ? '' : ' and PID namespace'}${f.ownNetNs ? '' : ' and network namespace'}`,
      });
    }
  }
  if (req.noCapabilities && f.capEff !== null && /[^0]/.test(f.capEff)) out.push({ property: 'capabilities', detail: `CapEff ${f.capEff}` });
  return out;
}

/** The kernel's view, whatever the policy: seccomp filter + NoNewPrivs + namespaces. */
export function isSandboxed(f: SandboxFacts): boolean {
  return sandboxFailures(f, STRICT).length === 0;
}

/** The facts that define a sandbox, for change detection (tracer excluded: it has its own finding). */
export function sandboxSignature(f: SandboxFacts): string {
  return JSON.stringify([f.seccomp, f.seccompFilters, f.noNewPrivs, f.ownUserNs, f.ownPidNs, f.ownNetNs, f.capEff, f.capPrm]);
}
