/** What verification found: every way the app folder differs from the signed manifest. */
import type { FileKind } from './format';

/** A code range of a changed file whose run digest differs: `offset`/`size` in the file (Mach-O: `name` is the section). */
export interface CodeDifference {
  name?: string;
  offset: number;
  size: number;
}

export type Difference =
  | { kind: 'file-missing'; path: string; expectedKind: FileKind }
  | {
      kind: 'file-differs-from-manifest';
      path: string;
      fileKind: FileKind;
      /** 'content' digest differs; 'size'; 'kind' (now another kind of file); 'type' (file <-> symlink);
       *  'layout' (headers the digest rule needs are gone); 'unreadable'. */
      reason: 'content' | 'size' | 'kind' | 'type' | 'layout' | 'unreadable';
      detail: string;
      /** Executable code that differs, by 64 KiB run (first 32), where the manifest has code digests. */
      code?: CodeDifference[];
      codeRunsDiffering?: number;
    }
  | { kind: 'file-not-in-manifest'; path: string; fileKind: FileKind };

export interface VerifyReport {
  state: 'match' | 'differs';
  filesChecked: number;
  bytesChecked: number;
  differences: Difference[];
}

export function describeDifference(d: Difference): string {
  switch (d.kind) {
    case 'file-missing':
      return `missing: ${d.path} (${d.expectedKind})`;
    case 'file-not-in-manifest':
      return `not in manifest: ${d.path} (${d.fileKind})`;
    default: {
      const where = d.code?.length ? `; code differs at ${d.code.map((c) => `${c.name ? c.name + ' ' : ''}0x${c.offset.toString(16)}+0x${c.size.toString(16)}`).join(', ')}${(d.codeRunsDiffering ?? 0) > d.code.length ? ` (+${d.codeRunsDiffering! - d.code.length} more)` : ''}` : '';
      return `differs: ${d.path} (${d.fileKind}, ${d.reason}): ${d.detail}${where}`;
    }
  }
}
