/**
 * harden(): close this process to other processes of the same user (ptrace, memory reads,
 * core dumps, handles with VM rights), read every change back, and report it step by step.
 * The OS work lives in native/harden/harden_<os>.cc; this module validates options, chooses steps
 * and assembles the report.
 */
import { loadNative } from './native';
import type { HardenPortals, HardenReport, PortalPrediction, HardenStep, HardenStepId, HardenStepStatus, TracerReport } from './types';
import { predictPortals } from './portals/predict';
import { remainingProtection } from './portals/remaining';
import { PORTAL_WARNING_PREFIX } from './portals/check';
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
  /**
   * Linux desktop portals (file dialogs, screen cast, settings, Wayland clipboard). 'default':
   * the process becomes non-dumpable and xdg-desktop-portal refuses every D-Bus connection it
   * opens afterwards (the report warns when a portal is reachable). 'allow': every other step,
   * but the process stays dumpable so portals keep working; `report.portals.remaining` lists what
   * still protects it (core limit, Yama ptrace_scope, the Guard's tracer watch). 'auto': 'allow'
   * when a portal is likely reachable (a desktop session bus with a portal installed, Flatpak,
   * snap; see predictPortals()), else 'default'. `report.portals.mode` is the mode applied.
   */
  portals?: 'default' | 'allow' | 'auto';
}

const OPTION_KEYS = new Set(['dryRun', 'skip', 'crashReporter', 'dacl', 'portals']);

interface ValidOptions {
  dryRun: boolean;
  /** Step id -> why it is skipped. */
  skip: Map<HardenStepId, string>;
  keepDumps: boolean;
  dacl: ReturnType<typeof normalizeDacl> | null;
  /** The portal mode applied ('auto' resolved) and the one asked for. */
  portals: 'default' | 'allow';
  portalsRequested: 'default' | 'allow' | 'auto';
  prediction: PortalPrediction | null;
}

const PORTALS_ALLOW_SKIP =
  "skipped: portals 'allow' keeps the process dumpable so xdg-desktop-portal can identify it (it opens /proc/<pid>/root on each new D-Bus connection)";

function validate(options: unknown): ValidOptions {
  if (options === undefined) return { dryRun: false, skip: new Map(), keepDumps: false, dacl: null, portals: 'default', portalsRequested: 'default', prediction: null };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('harden: options must be an object');
  }
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!OPTION_KEYS.has(k)) {
      throw new TypeError(`harden: unknown option "${k}" (expected dryRun, skip, crashReporter, dacl, portals)`);
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
  let requested: ValidOptions['portalsRequested'] = 'default';
  if (o.portals !== undefined) {
    if (typeof o.portals !== 'string') throw new TypeError("harden: options.portals must be 'default', 'allow' or 'auto'");
    if (o.portals !== 'default' && o.portals !== 'allow' && o.portals !== 'auto') {
      throw new RangeError(`harden: options.portals must be 'default', 'allow' or 'auto', got "${o.portals}"`);
    }
    requested = o.portals;
  }
  const dacl = o.dacl === undefined ? null : normalizeDacl(o.dacl);
  // The prediction reads only the environment and a few file names (no D-Bus): cheap enough to run on every call.
  const prediction = process.platform === 'linux' ? predictPortals() : null;
  const portals = requested === 'auto' ? (prediction?.likely ? 'allow' : 'default') : requested;
  if (portals === 'allow' && !skip.has('dumpable')) {
    skip.set('dumpable', requested === 'auto' ? `${PORTALS_ALLOW_SKIP}; portals 'auto' chose 'allow': ${prediction?.detail}` : PORTALS_ALLOW_SKIP);
  }
  return { dryRun: o.dryRun === true, skip, keepDumps, dacl, portals, portalsRequested: requested, prediction };
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
 * Linux desktops: a non-dumpable process is refused by xdg-desktop-portal on every D-Bus
 * connection it opens later (file dialogs never open). `report.portals` predicts that without
 * D-Bus traffic and the report warns; `options.portals` ('allow' / 'auto') keeps the process
 * dumpable instead; checkPortals() measures what the portal does (docs/harden.md).
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
  const tracerBefore = native.queryTracer();
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
  const report: HardenReport = { platform, dryRun: opts.dryRun, steps, verified, tracerBefore, warnings };
  if (platform === 'linux') report.portals = portalsReport(opts, steps, native.processState().dumpable, warnings);
  return report;
}

/**
 * Linux: what the hardening does to xdg-desktop-portal calls, from a prediction without D-Bus
 * traffic (checkPortals() measures it). Pushes the matching warning onto `warnings`.
 */
function portalsReport(opts: ValidOptions, steps: HardenStep[], dumpableNow: number, warnings: string[]): HardenPortals {
  const prediction = opts.prediction ?? predictPortals();
  const dumpable = steps.find((s) => s.id === 'dumpable');
  // Non-dumpable after this call: applied/already, or (dry run) what the step would do.
  const nonDumpable = dumpableNow === 0 || (opts.dryRun && dumpable?.status === 'skipped' && dumpable.detail.startsWith('dry run'));
  const where = `${prediction.via === 'session-bus' ? 'xdg-desktop-portal' : `a portal (${prediction.via})`} is reachable (${prediction.detail})`;
  const portals: HardenPortals = { mode: opts.portals, requested: opts.portalsRequested, prediction, expected: 'no-portal' };
  if (prediction.likely) portals.expected = nonDumpable ? 'refused-new-connections' : 'allowed';
  if (prediction.likely && nonDumpable) {
    const already = opts.portals === 'allow' ? " portals 'allow' cannot undo that: the process was non-dumpable before this call." : '';
    warnings.push(
      `${PORTAL_WARNING_PREFIX} ${where} and this process ${opts.dryRun && dumpableNow !== 0 ? 'would be' : 'is'} non-dumpable, so the portal refuses every call on a D-Bus connection opened from now on ` +
        '(AccessDenied "Unable to open /proc/<pid>/root"): file chooser dialogs, screen cast, settings, the Wayland clipboard, ... ' +
        `Connections that made a portal call before hardening keep working.${already} To keep portals working use harden({ portals: 'allow' }) or { portals: 'auto' }; ` +
        'checkPortals() (or guard.checkPortals()) measures what the portal does now (docs/harden.md, "Desktop portals").',
    );
  }
  if (opts.portals === 'allow') {
    if (dumpableNow === 0 && dumpable?.status === 'skipped') {
      dumpable.detail = "skipped (portals 'allow'), but PR_GET_DUMPABLE is already 0: the process was made non-dumpable before this call";
    }
    const core = steps.find((s) => s.id === 'core-limit');
    const remaining = remainingProtection((core?.status === 'applied' || core?.status === 'already') && core.verified === true);
    portals.remaining = remaining;
    if (dumpableNow !== 0) {
      const weak = remaining.yamaPtraceScope === null || remaining.yamaPtraceScope === 0;
      warnings.push(
        `${PORTAL_WARNING_PREFIX} portals 'allow': the process stays dumpable so portals keep working; ` +
          (weak
            ? `with ${remaining.yamaPtraceScope === null ? 'no Yama' : 'Yama ptrace_scope 0'} any process of the same user can attach to it and read its memory`
            : `Yama ptrace_scope ${remaining.yamaPtraceScope} keeps non-ancestor same-user processes from attaching or reading its memory`) +
          '; the core limit and the Guard\'s tracer watch remain',
      );
    }
  }
  return portals;
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
  return { dumpable: s.dumpable, coreSoft: s.coreSoft, coreHard: s.coreHard, tracer: native.queryTracer() };
}
