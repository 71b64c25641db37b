/**
 * `procguard manifest keygen|create|verify` (docs/manifest.md). Exit codes: 0 the app matches (or
 * the command did its job), 1 differences (each listed by path) or a manifest that is not valid,
 * 2 bad input (arguments, keys, an app folder that cannot be read).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { ProcguardError } from '../errors';
import { createManifest, defaultManifestPath, describeDifference, loadSigned, readKeyFile, verifyApp, writeKeyPair, ManifestInvalidError, type VerifyReport } from '../manifest';
import { guessIdentity } from '../manifest/app-identity';
import { defaultManifestDir } from '../manifest/walk';
import { progressBar } from './progress-bar';

export const MANIFEST_USAGE = `  manifest keygen --out DIR              write an Ed25519 key pair (manifest-private.pem, manifest-public.pem)
  manifest create APPDIR --key PRIVATE [--out FILE] [--name N] [--app-version V] [--platform P] [--arch A] [--threads N]
                                         sign a manifest of every file of the packaged app
  manifest verify APPDIR --pub PUBLIC [--manifest FILE] [--json] [--threads N]
                                         exit 0 match, 1 differences (listed by path), 2 bad input`;

class ManifestUsage extends Error {}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parse(args: string[], valued: string[], bare: string[]): Parsed {
  const p: Parsed = { positional: [], flags: new Map() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) p.positional.push(a);
    else if (bare.includes(a)) p.flags.set(a, true);
    else if (valued.includes(a)) {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new ManifestUsage(`${a} needs a value`);
      p.flags.set(a, v);
    } else throw new ManifestUsage(`unknown option ${a}`);
  }
  return p;
}

const value = (p: Parsed, k: string): string | undefined => p.flags.get(k) as string | undefined;

function need(p: Parsed, k: string): string {
  const v = value(p, k);
  if (v === undefined) throw new ManifestUsage(`${k} is required`);
  return v;
}

function threads(p: Parsed): number {
  const v = value(p, '--threads');
  if (v === undefined) return Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length));
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new ManifestUsage(`--threads must be an integer from 1 to 64, got '${v}'`);
  return n;
}

function oneApp(p: Parsed): string {
  if (p.positional.length !== 1) throw new ManifestUsage(`give exactly one APPDIR (got ${p.positional.length})`);
  return path.resolve(p.positional[0]);
}

async function run(sub: string | undefined, args: string[], out: (s: string) => void): Promise<number> {
  switch (sub) {
    case 'keygen': {
      const p = parse(args, ['--out'], []);
      if (p.positional.length) throw new ManifestUsage(`unexpected argument '${p.positional[0]}'`);
      const k = await writeKeyPair(path.resolve(need(p, '--out')));
      out(`private key: ${k.privateKey} (keep it off the build output; mode 0600)\npublic key:  ${k.publicKey} (ship it with the app)`);
      return 0;
    }
    case 'create': {
      const p = parse(args, ['--key', '--out', '--name', '--app-version', '--platform', '--arch', '--threads'], []);
      const app = oneApp(p);
      const secretKey = readKeyFile(need(p, '--key'), 'private');
      const n = threads(p);
      const guess = await guessIdentity(app, await defaultManifestDir(app));
      const identity = { name: value(p, '--name') ?? guess.name, version: value(p, '--app-version') ?? guess.version, platform: value(p, '--platform') ?? guess.platform, arch: value(p, '--arch') ?? guess.arch };
      const bar = progressBar('hashing');
      const out2 = value(p, '--out');
      const r = await createManifest(app, { secretKey, app: identity, out: out2 === undefined ? undefined : path.resolve(out2), threads: n, onProgress: bar.update }).finally(bar.done);
      out(`manifest: ${r.manifestPath}\nsignature: ${r.signaturePath}\n${r.manifest.files.length} files, ${(r.bytesHashed / 1048576).toFixed(1)} MiB hashed (${identity.name} ${identity.version} ${identity.platform}-${identity.arch})`);
      return 0;
    }
    case 'verify': {
      const p = parse(args, ['--pub', '--manifest', '--threads'], ['--json']);
      const app = oneApp(p);
      const publicKey = readKeyFile(need(p, '--pub'), 'public');
      const mf = value(p, '--manifest');
      const file = mf === undefined ? await defaultManifestPath(app) : path.resolve(mf);
      const json = p.flags.has('--json');
      const n = threads(p);
      let report: VerifyReport;
      try {
        const { manifest } = await loadSigned(file, publicKey);
        const bar = progressBar('verifying');
        report = await verifyApp(app, manifest, { threads: n, onProgress: bar.update }).finally(bar.done);
      } catch (e) {
        if (!(e instanceof ManifestInvalidError)) throw e;
        if (json) out(JSON.stringify({ state: 'invalid', manifest: file, reason: e.reason, message: e.message, differences: [] }));
        else out(`manifest-invalid (${e.reason}): ${e.message}`);
        return 1;
      }
      if (json) out(JSON.stringify({ manifest: file, ...report }));
      else {
        for (const d of report.differences) out(describeDifference(d));
        out(`${report.state === 'match' ? 'match' : `${report.differences.length} difference(s)`}: ${report.filesChecked} files, ${(report.bytesChecked / 1048576).toFixed(1)} MiB checked against ${file}`);
      }
      return report.state === 'match' ? 0 : 1;
    }
    default:
      throw new ManifestUsage(sub === undefined ? 'manifest needs a subcommand' : `unknown manifest subcommand '${sub}'`);
  }
}

/** Runs `procguard manifest ...`; never throws (usage and input errors are exit code 2). */
export async function manifestCommand(args: string[], out: (s: string) => void): Promise<number> {
  try {
    return await run(args[0], args.slice(1), out);
  } catch (e) {
    if (e instanceof ManifestUsage) {
      process.stderr.write(`procguard manifest: ${e.message}\nusage:\n${MANIFEST_USAGE}\n`);
      return 2;
    }
    if (e instanceof ProcguardError) {
      process.stderr.write(`procguard manifest: ${e.code}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
