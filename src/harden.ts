/**
 * harden(): close this process to other processes of the same user (ptrace, memory reads,
 * core dumps, handles with VM rights), read every change back, and report it step by step.
 * The OS work lives in native/harden_<os>.cc; this module validates options, chooses steps
 * and assembles the report.
 */
import { loadNative } from './native';
import type { HardenReport, HardenStep, HardenStepId, HardenStepStatus, TracerReport } from './types';
import { DEFAULT_PROCESS_DACL, hasOwnerRightsEntry, grantsMemoryAccess, normalizeDacl, rightsBeyondLimited, type DaclEntry } from './harden-dacl';

export type { DaclEntry, ProcessAccessRight } from './harden-dacl';
export { DEFAULT_PROCESS_DACL, PROCESS_ACCESS, LIMITED_ACCESS } from './harden-dacl';

/** Every step id, in the order the report lists them. */
export const HARDEN_STEP_IDS: readonly HardenStepId[] = Object.freeze([
  'dumpable',
  'core-limit',
  'deny-attach',
  'trace-ctl',
  'process-dacl',
  'thread-dacl',
] as HardenStepId[]);

/** Platforms with a native implementation; on any other, every step is `unsupported`. */
const SUPPORTED_PLATFORMS: readonly NodeJS.Platform[] = ['linux', 'darwin', 'freebsd', 'win32'];

/**
 * Steps the 'keep-dumps' crash-reporter mode leaves out: the ones that stop another process of
 * the same user from reading this one, which is exactly what an out-of-process crash handler
 * (Crashpad, Breakpad) does. `core-limit` stays (it only affects kernel core files), and so does
 * macOS `deny-attach` (Crashpad on macOS gets the task port through its exception port, not ptrace).
 */
export const KEEP_DUMPS_SKIPS: readonly HardenStepId[] = Object.freeze(['dumpable', 'trace-ctl', 'process-dacl', 'thread-dacl'] as HardenStepId[]);

export interface HardenOptions {
  /** Report what would be done and change nothing. Steps already in force still report `already`. */
  dryRun?: boolean;
  /** Step ids not to run; they report `skipped`. */
  skip?: HardenStepId[];
  /**
   * 'default' (all steps) or 'keep-dumps': leave the process readable by an out-of-process crash
   * handler (skips `dumpable`, `trace-ctl`, `process-dacl`, `thread-dacl`; keeps `core-limit` and `deny-attach`).
   */
  crashReporter?: 'default' | 'keep-dumps';
  /** Windows: a custom process DACL instead of DEFAULT_PROCESS_DACL (validated, emitted deny-first). */
  dacl?: DaclEntry[];
}

const OPTION_KEYS = new Set(['dryRun', 'skip', 'crashReporter', 'dacl']);

interface ValidOptions {
  dryRun: boolean;
  /** Step id -> why it is skipped. */
  skip: Map<HardenStepId, string>;
  keepDumps: boolean;
  dacl: ReturnType<typeof normalizeDacl> | null;
}

function validate(options: unknown): ValidOptions {
  if (options === undefined) return { dryRun: false, skip: new Map(), keepDumps: false, dacl: null };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('harden: options must be an object');
  }
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!OPTION_KEYS.has(k)) {
      throw new TypeError(`harden: unknown option "${k}" (expected dryRun, skip, crashReporter, dacl)`);
    }
  }
  if (o.dryRun !== undefined && typeof o.dryRun !== 'boolean') {
    throw new TypeError('harden: options.dryRun must be a boolean');
  }
  const skip = new Map<HardenStepId, string>();
  if (o.skip !== undefined) {
    if (!Array.isArray(o.skip)) throw new TypeError('harden: options.skip must be an array of step ids');
    for (const id of o.skip) {
      if (typeof id !== 'string') throw new TypeError('harden: options.skip must be an array of step ids');
      if (!(HARDEN_STEP_IDS as readonly string[]).includes(id)) {
        throw new RangeError(`harden: unknown step id "${id}" in options.skip (expected one of ${HARDEN_STEP_IDS.join(', ')})`);
      }
      skip.set(id as HardenStepId, 'skipped: listed in options.skip');
    }
  }
  let keepDumps = false;
  if (o.crashReporter !== undefined) {
    if (typeof o.crashReporter !== 'string') throw new TypeError("harden: options.crashReporter must be 'default' or 'keep-dumps'");
    if (o.crashReporter !== 'default' && o.crashReporter !== 'keep-dumps') {
      throw new RangeError(`harden: options.crashReporter must be 'default' or 'keep-dumps', got "${o.crashReporter}"`);
    }
    keepDumps = o.crashReporter === 'keep-dumps';
  }
  if (keepDumps) {
    for (const id of KEEP_DUMPS_SKIPS) {
      if (!skip.has(id)) {
        skip.set(id, "skipped: crashReporter 'keep-dumps' leaves the process readable by an out-of-process crash handler");
      }
    }
  }
  const dacl = o.dacl === undefined ? null : normalizeDacl(o.dacl);
  return { dryRun: o.dryRun === true, skip, keepDumps, dacl };
}

function allUnsupported(platform: NodeJS.Platform, dryRun: boolean): HardenReport {
  return {
    platform,
    dryRun,
    steps: HARDEN_STEP_IDS.map((id) => ({ id, status: 'unsupported' as const, detail: `procguard has no hardening for ${platform}` })),
    verified: false,
    tracerBefore: { state: 'unsupported', detail: `tracer detection is not implemented on ${platform}` },
    warnings: [`harden: ${platform} is not supported; nothing was changed`],
  };
}

const STATUSES: readonly HardenStepStatus[] = ['applied', 'already', 'failed', 'unsupported', 'skipped'];

/**
 * Harden this process. Synchronous and idempotent: a second call reports `already` for steps in
 * force and never fails because of the first. Irreversible: lowered limits and the dumpable
 * flag cannot be restored by an unprivileged process.
 *
 * Call it early in the main process, after anything that must open this process's own
 * /proc files (start the Guard first: it opens /proc/self/pagemap, which hardening locks away).
 *
 * `report.verified` is true when at least one step is in force, every applied/already step was
 * read back and matched, no step failed, and no tracer was attached to any thread beforehand.
 *
 * @throws TypeError / RangeError for bad options (before anything changes);
 *   NativeLoadError (code ERR_NATIVE_LOAD) when the native addon is missing on a supported OS.
 */
export function harden(options?: HardenOptions): HardenReport {
  const opts = validate(options);
  const platform = process.platform;
  if (!SUPPORTED_PLATFORMS.includes(platform)) return allUnsupported(platform, opts.dryRun);

  const native = loadNative();
  // The tracer check comes first: a tracer attached now keeps its access whatever we do.
  const tracerBefore = native.queryTracer() as TracerReport;
  const warnings: string[] = [];
  if (tracerBefore.state === 'attached') {
    const who = tracerBefore.tracerPid ? ` (pid ${tracerBefore.tracerPid})` : '';
    warnings.push(
      `a tracer/debugger${who} was attached before harden(); hardening does not detach it and it keeps full access to this process`,
    );
  }
  if (opts.keepDumps) {
    warnings.push(
      "crashReporter 'keep-dumps': the process stays readable by other processes of the same user so a crash handler can write minidumps",
    );
  }

  let dacl = opts.dacl;
  if (dacl && platform !== 'win32') warnings.push(`options.dacl is ignored on ${platform} (Windows only)`);
  if (dacl && platform === 'win32') {
    if (!hasOwnerRightsEntry(dacl)) {
      warnings.push('custom DACL has no OWNER_RIGHTS entry: the process owner keeps an implicit WRITE_DAC and can rewrite it');
    }
    const extra = rightsBeyondLimited(dacl);
    if (extra.length > 0) {
      warnings.push(
        `custom DACL allows ${extra.join(', ')} (beyond query-limited, terminate, synchronize): ` +
          (grantsMemoryAccess(dacl)
            ? 'memory, thread, handle or DACL rights do not keep same-user processes out'
            : 'each of these lets a same-user process change or stall this process'),
      );
    }
  }
  if (!dacl) dacl = normalizeDacl(DEFAULT_PROCESS_DACL);

  const raw = native.harden({ dryRun: opts.dryRun, skip: [...opts.skip.keys()], dacl });
  const byId = new Map(raw.map((s) => [s.id, s]));
  const steps: HardenStep[] = HARDEN_STEP_IDS.map((id) => {
    const s = byId.get(id);
    if (!s || !STATUSES.includes(s.status)) {
      return { id, status: 'unsupported', detail: `the native layer reported nothing for ${id} on ${platform}` };
    }
    const step: HardenStep = { id, status: s.status, detail: s.detail };
    if (s.status === 'skipped' && opts.skip.has(id) && !s.detail.startsWith('dry run')) step.detail = opts.skip.get(id)!;
    if (s.errno !== undefined) step.errno = s.errno;
    if (s.verified !== undefined) step.verified = s.verified;
    return step;
  });

  for (const s of steps) {
    if (s.status === 'failed') warnings.push(`step ${s.id} failed: ${s.detail}`);
    else if ((s.status === 'applied' || s.status === 'already') && s.verified !== true) {
      warnings.push(`step ${s.id} could not be verified by read-back: ${s.detail}`);
    }
  }
  const inForce = steps.filter((s) => s.status === 'applied' || s.status === 'already');
  // A tracer attached before harden() keeps its access whatever the steps did: not verified.
  const verified =
    inForce.length > 0 && inForce.every((s) => s.verified === true) && !steps.some((s) => s.status === 'failed') && tracerBefore.state !== 'attached';
  return { platform, dryRun: opts.dryRun, steps, verified, tracerBefore, warnings };
}

/** What the process's hardening-relevant state is now (read-only; no change). */
export interface HardeningState {
  /** PR_GET_DUMPABLE (Linux), or -1 where the OS has no such flag. */
  dumpable: number;
  /** RLIMIT_CORE soft/hard; -1 is unlimited; null where the OS has no core limit. */
  coreSoft: number | null;
  coreHard: number | null;
  tracer: TracerReport;
}

/**
 * Read the current dumpable flag, core limit and tracer without changing anything.
 * @throws NativeLoadError when the native addon is missing.
 */
export function hardeningState(): HardeningState {
  const native = loadNative();
  const s = native.processState();
  return { dumpable: s.dumpable, coreSoft: s.coreSoft, coreHard: s.coreHard, tracer: native.queryTracer() as TracerReport };
}
