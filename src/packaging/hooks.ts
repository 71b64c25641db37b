/**
 * `procguard/build`: packaging hooks that write the signed manifest into the packaged app
 * (<resources>/procguard-manifest.json and .sig). See docs/manifest.md "Packaging".
 *
 * electron-builder: `"afterPack": "procguard/build"` (or `afterSign`; same function, same context).
 * Electron Forge: `hooks: forgeHooks()` in forge.config.js (packageAfterCopy + postPackage).
 *
 * The private key: option `privateKey` (a path), else $PROCGUARD_MANIFEST_KEY (a path), else
 * $PROCGUARD_MANIFEST_KEY_PEM (the PEM text, for CI secrets). Without one the build fails: an app
 * packaged without its manifest would fail every check at run time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createManifest, type CreateResult } from '../manifest/create';
import { decodeKey, publicKeyPem, readKeyFile } from '../manifest/keys';
import { publicKeyOf } from '../manifest/signature';
import { ManifestInputError, ManifestKeyError } from '../manifest/errors';
import { guessIdentity } from '../manifest/app-identity';
import { defaultManifestDir } from '../manifest/walk';
import type { AppIdentity } from '../manifest/format';

export interface BuildHookOptions {
  /** Path of the Ed25519 private key (PEM or 32 raw bytes). */
  privateKey?: string;
  /** Native hashing threads. Default 2. */
  threads?: number;
  /** Forge packageAfterCopy: file name of the public key written into the app's sources (default procguard-manifest-public.pem; null: none). */
  publicKeyFile?: string | null;
  /** Log line per manifest written (default console.log). */
  log?: (line: string) => void;
}

function secretKey(opts: BuildHookOptions): Uint8Array {
  const file = opts.privateKey ?? process.env.PROCGUARD_MANIFEST_KEY;
  if (file) return readKeyFile(file, 'private');
  const pem = process.env.PROCGUARD_MANIFEST_KEY_PEM;
  if (pem) return decodeKey(pem, 'private', '$PROCGUARD_MANIFEST_KEY_PEM');
  throw new ManifestKeyError('(no key)', 'procguard/build needs the manifest private key: the privateKey option, $PROCGUARD_MANIFEST_KEY (a path) or $PROCGUARD_MANIFEST_KEY_PEM');
}

/** Writes the signed manifest of the packaged app at `appDir` (a folder, or a macOS .app bundle). */
export async function writeAppManifest(appDir: string, app: AppIdentity, opts: BuildHookOptions = {}): Promise<CreateResult> {
  const r = await createManifest(appDir, { secretKey: secretKey(opts), app, threads: opts.threads ?? 2 });
  (opts.log ?? console.log)(`procguard: manifest of ${r.manifest.files.length} files (${(r.bytesHashed / 1048576).toFixed(1)} MiB) -> ${r.manifestPath}`);
  return r;
}

/** electron-builder's Arch enum (builder-util): ia32 0, x64 1, armv7l 2, arm64 3, universal 4. */
const BUILDER_ARCH = ['ia32', 'x64', 'armv7l', 'arm64', 'universal'];

/** The part of electron-builder's AfterPackContext the hook reads. */
export interface ElectronBuilderContext {
  appOutDir: string;
  electronPlatformName: string;
  arch: number;
  packager: { appInfo: { productName: string; productFilename: string; version: string } };
}

const isMac = (platform: string) => platform === 'darwin' || platform === 'mas';

/** An electron-builder hook (afterPack or afterSign) with these options. */
export function electronBuilderHook(opts: BuildHookOptions = {}): (context: ElectronBuilderContext) => Promise<void> {
  return async (context) => {
    const info = context.packager.appInfo;
    const appDir = isMac(context.electronPlatformName) ? path.join(context.appOutDir, `${info.productFilename}.app`) : context.appOutDir;
    const app = { name: info.productName, version: info.version, platform: context.electronPlatformName, arch: BUILDER_ARCH[context.arch] ?? String(context.arch) };
    await writeAppManifest(appDir, app, opts);
  };
}

/** The result Forge passes to postPackage. */
export interface ForgePackageResult {
  platform: string;
  arch: string;
  outputPaths: string[];
}

/**
 * Electron Forge hooks. packageAfterCopy(config, buildPath, electronVersion, platform, arch) runs on
 * the app's sources copied for packaging (before app.asar is made): it writes the public key there,
 * so it ships inside app.asar. postPackage(config, { platform, arch, outputPaths }) runs on each
 * packaged app folder: it writes the manifest.
 */
export function forgeHooks(opts: BuildHookOptions = {}): {
  packageAfterCopy: (config: unknown, buildPath: string, electronVersion: string, platform: string, arch: string) => Promise<void>;
  postPackage: (config: unknown, result: ForgePackageResult) => Promise<void>;
} {
  return {
    packageAfterCopy: async (_config, buildPath) => {
      const name = opts.publicKeyFile === undefined ? 'procguard-manifest-public.pem' : opts.publicKeyFile;
      if (name === null) return;
      fs.writeFileSync(path.join(buildPath, name), publicKeyPem(await publicKeyOf(secretKey(opts))));
    },
    postPackage: async (_config, result) => {
      for (const out of result.outputPaths) {
        const bundle = isMac(result.platform) ? fs.readdirSync(out).find((n) => n.endsWith('.app')) : undefined;
        if (isMac(result.platform) && !bundle) throw new ManifestInputError(out, 'no .app bundle in the packaged output');
        const appDir = bundle ? path.join(out, bundle) : out;
        const id = await guessIdentity(appDir, await defaultManifestDir(appDir));
        await writeAppManifest(appDir, { name: id.name, version: id.version, platform: result.platform, arch: result.arch }, opts);
      }
    },
  };
}

const defaultHook = electronBuilderHook();
/** electron-builder resolves `"afterPack": "procguard/build"` to the export named like the hook. */
export const afterPack = defaultHook;
export const afterSign = defaultHook;
export default defaultHook;
