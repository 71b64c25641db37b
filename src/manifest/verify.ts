/** Checking an app folder against a manifest whose signature was already verified (io.ts loadSigned). */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { DIGEST_SIZE, PAGE_SIZE } from '../integrity/constants';
import { RUN_PAGES, type Manifest, type ManifestFile } from './format';
import { classify, isCodeFile } from './kinds';
import { digestPlan, openForDigest, planFor, readHead } from './digest';
import { LayoutError } from './plan';
import { PageHasher } from './page-hasher';
import { inPool, walkApp } from './walk';
import { ProgressCounter, type ProgressListener } from './progress';
import type { CodeDifference, Difference, VerifyReport } from './differences';

export interface VerifyOptions {
  /** Native hashing threads. Default 1. */
  threads?: number;
  onProgress?: ProgressListener;
  /** Paths (relative) to leave out besides the manifest's own `excluded` list. */
  alsoExcluded?: string[];
  /** Use this hasher (the runtime keeps one); closed by the caller. */
  hasher?: PageHasher;
}

const MAX_CODE_DIFFS = 32;

function codeDifferences(f: ManifestFile, runs: Buffer[]): { code: CodeDifference[]; total: number } {
  const code: CodeDifference[] = [];
  let total = 0;
  const runBytes = RUN_PAGES * PAGE_SIZE;
  (f.code ?? []).forEach((c, i) => {
    const expected = Buffer.from(c.runs, 'base64');
    for (let r = 0; r * DIGEST_SIZE < expected.length; r++) {
      if (expected.subarray(r * DIGEST_SIZE, (r + 1) * DIGEST_SIZE).equals(runs[i].subarray(r * DIGEST_SIZE, (r + 1) * DIGEST_SIZE))) continue;
      total++;
      if (code.length < MAX_CODE_DIFFS) code.push({ ...(c.name ? { name: c.name } : {}), offset: c.offset + r * runBytes, size: Math.min(runBytes, c.size - r * runBytes) });
    }
  });
  return { code, total };
}

/** Checks one listed file; null when it matches. */
export async function verifyFile(appDir: string, f: ManifestFile, hasher: PageHasher, onBytes?: (n: number) => void): Promise<{ diff: Difference | null; bytes: number }> {
  const abs = path.join(appDir, ...f.path.split('/'));
  const differs = (reason: Extract<Difference, { kind: 'file-differs-from-manifest' }>['reason'], detail: string, extra: Partial<Difference> = {}): { diff: Difference; bytes: number } => ({
    diff: { kind: 'file-differs-from-manifest', path: f.path, fileKind: f.kind, reason, detail, ...extra } as Difference,
    bytes: 0,
  });
  let st;
  try {
    st = await fs.lstat(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return { diff: { kind: 'file-missing', path: f.path, expectedKind: f.kind }, bytes: 0 };
    return differs('unreadable', (e as NodeJS.ErrnoException).code ?? String(e));
  }
  if (f.kind === 'symlink') {
    if (!st.isSymbolicLink()) return differs('type', 'a symlink in the manifest, now not a symlink');
    const target = await fs.readlink(abs);
    return target === f.target ? { diff: null, bytes: 0 } : differs('content', `links to '${target}', the manifest says '${f.target}'`);
  }
  if (!st.isFile()) return differs('type', st.isSymbolicLink() ? 'a file in the manifest, now a symlink' : 'a file in the manifest, now not a regular file');
  if (f.rule === 'whole' && st.size !== f.size) return differs('size', `${st.size} bytes, the manifest says ${f.size}`);
  let fh: FileHandle;
  try {
    fh = await openForDigest(abs);
  } catch (e) {
    return differs('unreadable', (e as NodeJS.ErrnoException).code ?? String(e));
  }
  try {
    const size = (await fh.stat()).size;
    const head = await readHead(fh, size);
    const kind = classify(f.path, head);
    if (kind !== f.kind) return differs('kind', `now ${kind}, the manifest says ${f.kind}`);
    const plan = await planFor(f.rule, fh, size, head);
    const d = await digestPlan(fh, plan, f.code ?? [], hasher, onBytes, Buffer.from(f.digest, 'base64'));
    if (d.digest.toString('base64') === f.digest) return { diff: null, bytes: d.bytes };
    const { code, total } = codeDifferences(f, d.runs);
    const extra = f.code?.length ? { code, codeRunsDiffering: total } : {};
    const r = differs('content', total ? `${total} code run(s) of 64 KiB differ` : f.code?.length ? 'differs outside the executable pages' : 'the content digest differs', extra);
    r.bytes = d.bytes;
    return r;
  } catch (e) {
    if (e instanceof LayoutError) return differs('layout', e.message);
    return differs('unreadable', (e as Error).message);
  } finally {
    await fh.close();
  }
}

/** Every listed file checked, then every code file in the folder the manifest does not list. */
export async function verifyApp(appDir: string, manifest: Manifest, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const root = path.resolve(appDir);
  const hasher = opts.hasher ?? new PageHasher(opts.threads ?? 1);
  try {
    const progress = new ProgressCounter(
      manifest.files.reduce((n, f) => n + f.size, 0),
      manifest.files.length,
      opts.onProgress,
    );
    const found = new Array<Difference | null>(manifest.files.length).fill(null);
    let bytes = 0;
    await inPool(
      manifest.files.map((f, i) => ({ f, i })),
      hasher.threads * 2,
      async ({ f, i }) => {
        const r = await verifyFile(root, f, hasher, progress.bytes);
        found[i] = r.diff;
        bytes += r.bytes;
        progress.file();
      },
    );
    const differences = found.filter((d): d is Difference => d !== null);
    differences.push(...(await unlistedCode(root, manifest, opts.alsoExcluded)));
    return { state: differences.length ? 'differs' : 'match', filesChecked: manifest.files.length, bytesChecked: bytes, differences };
  } finally {
    if (!opts.hasher) hasher.close();
  }
}

/** Code files in the folder that the manifest does not list (side-loaded libraries, dropped .node, ...). */
export async function unlistedCode(root: string, manifest: Manifest, alsoExcluded: string[] = []): Promise<Difference[]> {
  const out: Difference[] = [];
  const listed = new Set(manifest.files.map((f) => f.path));
  const skip = new Set([...manifest.excluded, ...alsoExcluded]);
  for (const e of await walkApp(root)) {
    if (listed.has(e.rel) || skip.has(e.rel)) continue;
    let head: Buffer = Buffer.alloc(0);
    if (e.type === 'file') {
      try {
        const fh = await openForDigest(e.abs);
        try {
          head = await readHead(fh, Math.min(e.size, 4096));
        } finally {
          await fh.close();
        }
      } catch {
        // unreadable: judged by name and mode alone
      }
    }
    const kind = e.type === 'symlink' ? 'symlink' : classify(e.rel, head);
    if (isCodeFile(e.rel, kind, e.exec)) out.push({ kind: 'file-not-in-manifest', path: e.rel, fileKind: kind });
  }
  return out;
}
