/** Lists an app folder: regular files and symlinks, relative '/'-separated paths, sorted. */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ManifestInputError } from './errors';
import { MANIFEST_NAME } from './format';

export interface AppEntry {
  rel: string;
  abs: string;
  type: 'file' | 'symlink';
  size: number;
  /** Any execute bit (POSIX). */
  exec: boolean;
}

export async function walkApp(root: string): Promise<AppEntry[]> {
  let st;
  try {
    st = await fs.stat(root);
  } catch (e) {
    throw new ManifestInputError(root, `cannot read the app folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`, e);
  }
  if (!st.isDirectory()) throw new ManifestInputError(root, 'is not a folder');
  const out: AppEntry[] = [];
  const visit = async (dir: string, rel: string): Promise<void> => {
    const names = (await fs.readdir(dir)).sort();
    for (const name of names) {
      const abs = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const ls = await fs.lstat(abs);
      if (ls.isDirectory()) await visit(abs, r);
      else if (ls.isSymbolicLink()) out.push({ rel: r, abs, type: 'symlink', size: 0, exec: false });
      else if (ls.isFile()) out.push({ rel: r, abs, type: 'file', size: ls.size, exec: (ls.mode & 0o111) !== 0 });
    }
  };
  await visit(root, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/**
 * Where the manifest goes by default: the app's resources folder (`resources/` on Linux and
 * Windows, `Contents/Resources/` in a macOS bundle), else the app folder itself.
 */
export async function defaultManifestDir(appDir: string): Promise<string> {
  for (const sub of ['resources', path.join('Contents', 'Resources')]) {
    const d = path.join(appDir, sub);
    try {
      if ((await fs.stat(d)).isDirectory()) return d;
    } catch {
      // not this layout
    }
  }
  return appDir;
}

/** Runs `work` over `items` with at most `limit` at a time, in order of start. */
export async function inPool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(runners);
}

/** The manifest's default path: <resources folder>/procguard-manifest.json. */
export async function defaultManifestPath(appDir: string): Promise<string> {
  return path.join(await defaultManifestDir(appDir), MANIFEST_NAME);
}
