/**
 * The Guard's options: one name per option, validated once here at the API boundary. The lower
 * layers (the code monitor, the stall verdict, the native pacing) receive the validated values and
 * do not check them again; the code monitor's own options are listed here and mapped once
 * (codeMonitorOptions), so no code-monitor option leaks into the Guard under a second name.
 */
import type { CodeMonitorOptions } from '../integrity/monitor';
import type { KernelMonitorOptions } from '../kernel/monitor';
import type { LaunchAuditOptions } from '../launch/audit';
import { defaultPolicy, type Policy, type PolicyActions } from '../policy';
import type { LoggerLike } from '../logging';
import type { ProcessTreeOptions } from '../tree/monitor';
import type { DebuggerWatchOptions } from '../kernel/debuggers';
import type { ManifestGuardOptions } from '../manifest/runtime';

/**
 * The code monitor's options a Guard takes, by name (its documentation is in
 * src/integrity/monitor.ts). Its pacing is not among them: the Guard's `cpuBudget` paces each check.
 */
export type GuardCodeOptions = Pick<CodeMonitorOptions, 'hashMode' | 'mainExecutableOnly' | 'includeWritable' | 'compareDisk' | 'residentOnly' | 'discoverOnce' | 'jitSpans' | 'mapsPath' | 'firstRead'>;

export interface GuardOptions extends GuardCodeOptions {
  /** Period of the full sweep in ms. Default 10 000. */
  periodMs?: number;
  /** Tick of the tamper sentinel in ms (a native loop that wakes JS only on a change). Default 200, the
   *  kernel watch loop's tick: both run on one native ticker thread, and equal ticks share every
   *  wakeup (on a VM the wakeup costs more than the tick's work). 0 turns it off. */
  sentinelMs?: number;
  /** Share of one core the periodic sweeps may use. Default 0.001 (0.1 %; a 282 MiB pass takes
   *  ~60-80 s, the first paced one ~3 min on a VM with shadow paging while it maps the file views):
   *  with large code the sweep is paced by this, so a pass can take longer than `periodMs`.
   *  The fast loops (tracer, page-cache writes, copy-on-write tamper) do not wait for it. */
  cpuBudget?: number;
  /** Share of one core the tamper sentinel's page-table walks may use. Default 0.001 (0.1 %). A tick
   *  walks only when the file-backed page count changed (or every 2 s), paid from a token bucket
   *  that fills at this rate and holds four walks. */
  sentinelBudget?: number;
  /** Turn subsystems off. All default to true. */
  code?: boolean;
  kernel?: boolean | KernelMonitorOptions;
  launch?: boolean | LaunchAuditOptions;
  /** Finding -> severity. Default: fdir's ladder (see policy.ts). */
  policy?: Policy;
  /** What to do at each severity (default: nothing, log-and-advise). Errors in actions are contained. */
  actions?: PolicyActions;
  /** Any logger with error/warn/info methods (console, electron-log); one line per finding. */
  logger?: LoggerLike;
  /** A sweep without progress for this long is a stalled checker. Default: follows the expected pace
   *  (the last pass's CPU cost / cpuBudget, or the period between passes), capped by stallCapMs. */
  stallAfterMs?: number;
  /** Absolute cap on time without sweep progress before checker-stalled. Default 60 000. */
  stallCapMs?: number;
  /** Tick of the native kernel watch loop (Linux; every thread's TracerPid and the other isolation
   *  fields; wakes JS only on a change). Default 200 (a tracer is seen within ~200 ms plus the JS
   *  check); 0 turns the loop off (kernel checks then run every periodMs only). */
  kernelTickMs?: number;
  /** Watch the files behind executable mappings with inotify and re-check a file's pages at once
   *  on a write. Default true (Linux). */
  watchFiles?: boolean;
  /** Pristine copies of code files this process's user can write, to locate a page-cache write to
   *  the byte, up to this many bytes in all. Default 32 MiB; 0 keeps none (the page is still reported). */
  pristineBytes?: number;
  /** Keep the process alive while started (CLI watch). Default false: timers are unref'd. */
  keepAlive?: boolean;
  /** Watch the descendants of this process (true) or of `rootPid` (Linux): see src/tree/monitor.ts. Default off. */
  processTree?: boolean | ProcessTreeOptions;
  /** Debuggers switched on after start: the Node inspector (checked every 500 ms), DevTools listeners of
   *  this process and the watched tree (Linux, every 1000 ms); `allow` names the ones the app runs on
   *  purpose (see src/kernel/debuggers.ts). Default on; false turns it off. */
  debuggers?: boolean | DebuggerWatchOptions;
  /** The vendor's signed manifest (docs/manifest.md): every app file checked against it, and the
   *  app's own code mappings compared with its page digests. Default off. */
  manifest?: ManifestGuardOptions;
}

/** The options after validation, with every numeric default filled in. */
export type ResolvedGuardOptions = GuardOptions &
  Required<Pick<GuardOptions, 'periodMs' | 'sentinelMs' | 'cpuBudget' | 'sentinelBudget' | 'kernelTickMs' | 'stallCapMs' | 'pristineBytes' | 'policy'>>;

/** Validates the options once (TypeError / RangeError on bad input) and fills the defaults. */
export function resolveGuardOptions(options: GuardOptions): ResolvedGuardOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('Guard options must be an object');
  const periodMs = options.periodMs ?? 10_000;
  if (!Number.isFinite(periodMs) || periodMs < 50) throw new RangeError('periodMs must be a number >= 50');
  const sentinelMs = options.sentinelMs ?? 200;
  if (!Number.isFinite(sentinelMs) || (sentinelMs !== 0 && sentinelMs < 10)) throw new RangeError('sentinelMs must be 0 (off) or a number >= 10');
  const cpuBudget = options.cpuBudget ?? 0.001;
  if (!(cpuBudget > 0 && cpuBudget <= 1)) throw new RangeError('cpuBudget must be a number in (0, 1]');
  const sentinelBudget = options.sentinelBudget ?? 0.001;
  if (!(sentinelBudget > 0 && sentinelBudget <= 1)) throw new RangeError('sentinelBudget must be a number in (0, 1]');
  const kernelTickMs = options.kernelTickMs ?? 200;
  if (!Number.isFinite(kernelTickMs) || (kernelTickMs !== 0 && kernelTickMs < 10)) throw new RangeError('kernelTickMs must be 0 (off) or a number >= 10');
  const stallCapMs = options.stallCapMs ?? 60_000;
  if (!Number.isFinite(stallCapMs) || stallCapMs < 100) throw new RangeError('stallCapMs must be a number >= 100');
  const pristineBytes = options.pristineBytes ?? 32 * 1024 * 1024;
  if (!Number.isFinite(pristineBytes) || pristineBytes < 0) throw new RangeError('pristineBytes must be a number >= 0');
  const policy = options.policy ?? defaultPolicy();
  if (typeof policy?.classify !== 'function') throw new TypeError('policy must have a classify(observation, context) function');
  return { ...options, periodMs, sentinelMs, cpuBudget, sentinelBudget, kernelTickMs, stallCapMs, pristineBytes, policy };
}

/**
 * The code monitor's options, from the Guard's. The Guard hands cpuBudget to each paced check
 * itself (the baseline and check() run unpaced), so the monitor's own default budget stays 0.
 */
export function codeMonitorOptions(o: GuardOptions): CodeMonitorOptions {
  const out: CodeMonitorOptions = {};
  if (o.hashMode !== undefined) out.hashMode = o.hashMode;
  if (o.mainExecutableOnly !== undefined) out.mainExecutableOnly = o.mainExecutableOnly;
  if (o.includeWritable !== undefined) out.includeWritable = o.includeWritable;
  if (o.compareDisk !== undefined) out.compareDisk = o.compareDisk;
  if (o.residentOnly !== undefined) out.residentOnly = o.residentOnly;
  if (o.discoverOnce !== undefined) out.discoverOnce = o.discoverOnce;
  if (o.jitSpans !== undefined) out.jitSpans = o.jitSpans;
  if (o.mapsPath !== undefined) out.mapsPath = o.mapsPath;
  if (o.firstRead !== undefined) out.firstRead = o.firstRead;
  return out;
}

/** The debugger watch's options; an inspector the launch audit expects ('inspector', '--inspect*') is allowed too. */
export function debuggerOptions(o: GuardOptions): DebuggerWatchOptions {
  const d = typeof o.debuggers === 'object' ? o.debuggers : {};
  const expected = typeof o.launch === 'object' ? (o.launch.expected ?? []) : [];
  const inspectorExpected = expected.some((e) => e === 'inspector' || (typeof e === 'string' && /^--inspect(-brk|-wait)?$/.test(e)));
  return inspectorExpected ? { ...d, allow: [...(d.allow ?? []), { kind: 'inspector', reason: 'expected by the launch audit options' }] } : d;
}
