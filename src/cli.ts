#!/usr/bin/env node
/**
 * procguard CLI: scan | watch | selftest | bench. Runs the checks headless.
 *   procguard scan [--json] [--mode blake3|fast]
 *   procguard watch [--period-ms N] [--duration-s N] [--json]
 *   procguard selftest [--json]
 *   procguard bench [bench options]
 *   procguard manifest keygen|create|verify (src/cli/manifest.ts)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ProcguardError } from './errors';
import { formatScan, scan } from './cli/scan';
import { selftest } from './cli/selftest';
import { watch } from './cli/watch';
import { manifestCommand, MANIFEST_USAGE } from './cli/manifest';

const USAGE = `usage: procguard <command> [options]
  scan [--json] [--mode blake3|fast]     every executable region: bytes, resident share, hash time
  watch [--period-ms N] [--duration-s N] [--json]
                                         harden this process, start a Guard, print live status
  selftest [--json]                      flip a bit in a never-run code page, show the finding, restore it
  bench [--quick] [--json]               run the benchmark (npm run bench)
${MANIFEST_USAGE}`;

class UsageError extends Error {}

function flagValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new UsageError(`${name} needs a value`);
  return v;
}

function positiveNumber(args: string[], name: string, dflt: number | null): number | null {
  const v = flagValue(args, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, got '${v}'`);
  return n;
}

function checkFlags(args: string[], allowed: string[]): void {
  for (const a of args) if (a.startsWith('--') && !allowed.includes(a)) throw new UsageError(`unknown option ${a}`);
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  const out = (s: string) => process.stdout.write(s + '\n');
  switch (cmd) {
    case 'scan': {
      checkFlags(args, ['--json', '--mode']);
      const mode = flagValue(args, '--mode') ?? 'blake3';
      if (mode !== 'blake3' && mode !== 'fast') throw new UsageError(`--mode must be blake3 or fast, got '${mode}'`);
      const r = await scan(mode);
      out(args.includes('--json') ? JSON.stringify(r) : formatScan(r));
      return 0;
    }
    case 'watch': {
      checkFlags(args, ['--json', '--period-ms', '--duration-s']);
      const periodMs = positiveNumber(args, '--period-ms', 2000)!;
      const dur = positiveNumber(args, '--duration-s', null);
      await watch({ periodMs, durationMs: dur === null ? null : dur * 1000, json: args.includes('--json') }, out);
      return 0;
    }
    case 'selftest': {
      checkFlags(args, ['--json']);
      const json = args.includes('--json');
      const r = await selftest(json ? undefined : out);
      if (json) out(JSON.stringify(r));
      else out(r.ok ? 'selftest passed' : 'selftest FAILED');
      return r.ok ? 0 : 1;
    }
    case 'manifest':
      return manifestCommand(args, out);
    case 'bench': {
      const script = path.resolve(__dirname, '..', 'bench', 'run.mjs');
      if (!fs.existsSync(script)) throw new UsageError(`the benchmark is not installed with this package (${script} missing); run it from a source checkout`);
      return spawnSync(process.execPath, [script, ...args], { stdio: 'inherit' }).status ?? 1;
    }
    case undefined:
    case '--help':
    case 'help':
      out(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`procguard: ${err.message}\n${USAGE}\n`);
      process.exitCode = 2;
    } else if (err instanceof ProcguardError) {
      process.stderr.write(`procguard: ${err.code}: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`procguard: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
