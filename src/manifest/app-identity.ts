/**
 * The app's name and version for a manifest made without them: from resources/app.asar's
 * package.json (read from the archive header, no extraction), or resources/app/package.json, else
 * the folder's name and '0.0.0'. Platform and arch default to the machine making the manifest.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { AppIdentity } from './format';

interface AsarNode {
  files?: Record<string, AsarNode>;
  offset?: string;
  size?: number;
}

/** package.json from an asar archive: an 8-byte pickle with the header size, the JSON header, then the files. */
async function fromAsar(file: string): Promise<Record<string, unknown> | null> {
  const fh = await fs.open(file, 'r');
  try {
    const pre = Buffer.alloc(16);
    await fh.read(pre, 0, 16, 0);
    const headerSize = pre.readUInt32LE(4);
    const jsonLen = pre.readUInt32LE(12);
    if (jsonLen > 64 * 1024 * 1024) return null;
    const json = Buffer.alloc(jsonLen);
    await fh.read(json, 0, jsonLen, 16);
    const header = JSON.parse(json.toString('utf8')) as AsarNode;
    const pkg = header.files?.['package.json'];
    if (!pkg || pkg.offset === undefined || typeof pkg.size !== 'number') return null;
    const body = Buffer.alloc(pkg.size);
    await fh.read(body, 0, pkg.size, 8 + headerSize + Number(pkg.offset));
    return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } finally {
    await fh.close();
  }
}

export async function guessIdentity(appDir: string, resourcesDir: string): Promise<AppIdentity> {
  const attempt = async (read: () => Promise<Record<string, unknown> | null>) => {
    try {
      return await read();
    } catch {
      return null; // not this layout, or not readable: the next source, then the fallback
    }
  };
  const pkg =
    (await attempt(() => fromAsar(path.join(resourcesDir, 'app.asar')))) ??
    (await attempt(async () => JSON.parse(await fs.readFile(path.join(resourcesDir, 'app', 'package.json'), 'utf8')) as Record<string, unknown>));
  const name = typeof pkg?.productName === 'string' ? pkg.productName : typeof pkg?.name === 'string' ? pkg.name : path.basename(path.resolve(appDir));
  const version = typeof pkg?.version === 'string' ? pkg.version : '0.0.0';
  return { name, version, platform: process.platform, arch: process.arch };
}
