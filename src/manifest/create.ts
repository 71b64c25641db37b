/** Making a manifest: every file of the app folder, digested on the engine's threads, then signed. */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MANIFEST_FORMAT, MANIFEST_VERSION, DIGEST_SCHEME, RUN_PAGES, SIGNATURE_SUFFIX, serializeManifest, type AppIdentity, type Manifest, type ManifestFile } from './format';
import { classify, ruleFor } from './kinds';
import { digestPlan, openForDigest, planFor, readHead } from './digest';
import { LayoutError } from './plan';
import { PageHasher } from './page-hasher';
import { defaultManifestPath, inPool, walkApp } from './walk';
import { ProgressCounter, type ProgressListener } from './progress';
import { writeSigned } from './io';
import { ManifestInputError } from './errors';

export interface CreateOptions {
  /** Ed25519 secret key (32 bytes). */
  secretKey: Uint8Array;
  app: AppIdentity;
  /** Where to write the manifest. Default: <resources folder>/procguard-manifest.json. */
  out?: string;
  /** Native hashing threads. Default 1. */
  threads?: number;
  onProgress?: ProgressListener;
}

export interface CreateResult {
  manifest: Manifest;
  manifestPath: string;
  signaturePath: string;
  bytesHashed: number;
}

function relInside(root: string, p: string): string | null {
  const r = path.relative(root, p);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r.split(path.sep).join('/') : null;
}

/** Digests every file of `appDir` (the manifest itself and its signature excluded). */
export async function buildManifest(appDir: string, app: AppIdentity, excluded: string[], hasher: PageHasher, onProgress?: ProgressListener): Promise<{ manifest: Manifest; bytes: number }> {
  const entries = (await walkApp(appDir)).filter((e) => !excluded.includes(e.rel));
  const progress = new ProgressCounter(entries.reduce((n, e) => n + e.size, 0), entries.length, onProgress);
  const files = new Array<ManifestFile>(entries.length);
  let bytes = 0;
  await inPool(
    entries.map((e, i) => ({ e, i })),
    hasher.threads * 2,
    async ({ e, i }) => {
      if (e.type === 'symlink') {
        const target = await fs.readlink(e.abs);
        files[i] = { path: e.rel, kind: 'symlink', rule: 'link', size: 0, digest: hasher.blake3(Buffer.from(target, 'utf8')).toString('base64'), target };
        progress.file();
        return;
      }
      let fh;
      try {
        fh = await openForDigest(e.abs);
      } catch (err) {
        throw new ManifestInputError(e.abs, `cannot open (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err);
      }
      try {
        const size = (await fh.stat()).size;
        const head = await readHead(fh, size);
        const kind = classify(e.rel, head);
        let rule = ruleFor(kind, head);
        let plan;
        try {
          plan = await planFor(rule, fh, size, head);
        } catch (err) {
          // Headers the signing rule cannot use (an odd or damaged PE or Mach-O): every byte counts.
          if (!(err instanceof LayoutError)) throw err;
          rule = 'whole';
          plan = await planFor(rule, fh, size, head);
        }
        const d = await digestPlan(fh, plan, plan.code, hasher, progress.bytes);
        const f: ManifestFile = { path: e.rel, kind, rule, size, digest: d.digest.toString('base64') };
        if (plan.code.length) f.code = plan.code.map((c, j) => ({ ...(c.name ? { name: c.name } : {}), offset: c.offset, size: c.size, runs: d.runs[j].toString('base64') }));
        files[i] = f;
        bytes += d.bytes;
      } catch (err) {
        if (err instanceof ManifestInputError) throw err;
        throw new ManifestInputError(e.abs, `cannot digest: ${(err as Error).message}`, err);
      } finally {
        await fh.close();
      }
      progress.file();
    },
  );
  const manifest: Manifest = { format: MANIFEST_FORMAT, version: MANIFEST_VERSION, digestScheme: DIGEST_SCHEME, runPages: RUN_PAGES, app, createdAt: new Date().toISOString(), excluded, files };
  return { manifest, bytes };
}

export async function createManifest(appDir: string, opts: CreateOptions): Promise<CreateResult> {
  const root = path.resolve(appDir);
  const out = path.resolve(opts.out ?? (await defaultManifestPath(root)));
  const excluded = [out, out + SIGNATURE_SUFFIX].map((p) => relInside(root, p)).filter((r): r is string => r !== null);
  const hasher = new PageHasher(opts.threads ?? 1);
  try {
    const { manifest, bytes } = await buildManifest(root, opts.app, excluded, hasher, opts.onProgress);
    await fs.mkdir(path.dirname(out), { recursive: true });
    const written = await writeSigned(out, serializeManifest(manifest), opts.secretKey);
    return { manifest, manifestPath: written.manifest, signaturePath: written.signature, bytesHashed: bytes };
  } finally {
    hasher.close();
  }
}
