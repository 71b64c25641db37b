/**
 * Logger adapter: any object with the usual methods (console, electron-log, pino-like) gets one
 * structured line per finding. With electron-log (has scope()) lines go to the 'procguard' scope.
 */
import type { Finding, Severity } from './types';

export interface LoggerLike {
  error?: (...args: unknown[]) => void;
  warn?: (...args: unknown[]) => void;
  info?: (...args: unknown[]) => void;
  debug?: (...args: unknown[]) => void;
  log?: (...args: unknown[]) => void;
  scope?: (name: string) => LoggerLike;
}

export interface FindingLoggerOptions {
  /** 'json' (default): one JSON object per line; 'kv': key=value pairs. */
  format?: 'json' | 'kv';
}

type Level = 'error' | 'warn' | 'info' | 'debug';

const LEVEL: Record<Severity, Level> = { log: 'info', isolate: 'warn', restart: 'warn', degrade: 'error', 'safe-mode': 'error' };

/** JSON with bigint as decimal string; never throws on cycles (they become "[circular]"). */
function toJson(v: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return x.toString();
    if (x && typeof x === 'object') {
      if (seen.has(x)) return '[circular]';
      seen.add(x);
    }
    return x;
  });
}

function kv(rec: Record<string, unknown>): string {
  return Object.entries(rec)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const s = typeof v === 'string' ? v : toJson(v);
      return `${k}=${/^[A-Za-z0-9_.:/@+-]+$/.test(s) ? s : JSON.stringify(s)}`;
    })
    .join(' ');
}

export interface FindingLogger {
  /** A new finding. */
  finding(f: Finding): void;
  /** A finding that closed (its condition went away). */
  closed(f: Finding): void;
  /** The checker itself failed (not a finding). */
  checkerError(subsystem: string, err: unknown): void;
}

/** Wrap `logger`: picks the 'procguard' scope when available and the nearest existing method per level. */
export function createFindingLogger(logger: LoggerLike, opts: FindingLoggerOptions = {}): FindingLogger {
  if (!logger || (typeof logger !== 'object' && typeof logger !== 'function')) {
    throw new TypeError('createFindingLogger: logger must be an object with log methods');
  }
  const scoped = typeof logger.scope === 'function' ? logger.scope('procguard') : logger;
  const format = opts.format ?? 'json';
  if (format !== 'json' && format !== 'kv') throw new RangeError(`format must be 'json' or 'kv', got '${String(format)}'`);
  const methodFor = (level: Level): ((...a: unknown[]) => void) => {
    const order: (keyof LoggerLike)[] = [level, 'log', 'info', 'warn', 'error'];
    for (const m of order) {
      const fn = scoped[m];
      if (typeof fn === 'function') return (fn as (...a: unknown[]) => void).bind(scoped);
    }
    throw new TypeError('createFindingLogger: logger has none of error/warn/info/debug/log');
  };
  methodFor('info'); // fail at creation, not at the first finding
  // The scope already names procguard; without one, prefix the line.
  const prefix = scoped === logger ? 'procguard ' : '';
  const line = (rec: Record<string, unknown>) => prefix + (format === 'json' ? toJson(rec) : kv(rec));
  const record = (event: string, f: Finding) => ({
    event,
    id: f.id,
    severity: f.severity,
    subsystem: f.subsystem,
    kind: f.kind,
    key: f.key,
    detail: f.detail,
    path: f.path,
    address: f.address,
    offset: f.offset,
    page: f.page,
    before: f.before,
    after: f.after,
    evidence: f.evidence,
    firstSeen: f.firstSeen,
  });
  return {
    finding(f) {
      methodFor(LEVEL[f.severity] ?? 'warn')(line(record('finding', f)));
    },
    closed(f) {
      methodFor('info')(line(record('finding-closed', f)));
    },
    checkerError(subsystem, err) {
      const e = err as { code?: unknown; message?: unknown };
      methodFor('error')(line({ event: 'checker-error', subsystem, code: e?.code ?? 'ERR_UNKNOWN', message: String(e?.message ?? err) }));
    },
  };
}
