/**
 * electron-log integration: logs each new finding, and each change of the overall state, under
 * a `procguard` scope. Kept tiny on purpose; a generic logger adapter may live in src/logging.ts.
 */
import type { Finding, Severity, Status } from '../types';

/** The part of an electron-log logger (or any console-like logger) used here. */
export interface LogFunctions {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info(...args: unknown[]): void;
}
export interface ElectronLogLike extends LogFunctions {
  scope?(name: string): LogFunctions;
}

/** What the logger listens to: a Guard (events 'finding' and 'status'). */
export interface FindingSource {
  on(event: 'finding', listener: (f: Finding) => void): unknown;
  on(event: 'status', listener: (s: Status) => void): unknown;
  off(event: 'finding', listener: (f: Finding) => void): unknown;
  off(event: 'status', listener: (s: Status) => void): unknown;
}

const LEVEL: Record<Severity, 'warn' | 'error'> = { log: 'warn', isolate: 'error', restart: 'error', degrade: 'error', 'safe-mode': 'error' };

/** One log line for a finding: severity, subsystem/kind, where, detail. */
export function formatFinding(f: Finding): string {
  const where = [f.path, typeof f.offset === 'number' ? `offset 0x${f.offset.toString(16)}` : undefined, f.address]
    .filter((x): x is string => typeof x === 'string' && x !== '')
    .join(' ');
  return `[${f.severity}] ${f.subsystem}/${f.kind}${where !== '' ? ` at ${where}` : ''}: ${f.detail} (${f.id})`;
}

/**
 * Logs findings and state changes of `source` to `log` (electron-log's default logger, or any
 * object with error/warn/info). Returns a function that stops logging.
 */
export function logToElectronLog(source: FindingSource, log: ElectronLogLike, scopeName = 'procguard'): () => void {
  if (typeof log !== 'object' || log === null || typeof log.warn !== 'function' || typeof log.error !== 'function' || typeof log.info !== 'function') {
    throw new TypeError('logToElectronLog: log must have error(), warn() and info()');
  }
  const out: LogFunctions = typeof log.scope === 'function' ? log.scope(scopeName) : log;
  let lastState: string | null = null;
  const onFinding = (f: Finding): void => {
    const line = formatFinding(f);
    if (f.transient === true) out.info(line);
    else out[LEVEL[f.severity] ?? 'error'](line);
  };
  const onStatus = (s: Status): void => {
    if (s.state === lastState) return;
    const prev = lastState;
    lastState = s.state;
    const msg = `state ${prev ?? '(none)'} -> ${s.state} (${s.findings.length} open findings)`;
    if (s.state === 'compromised') out.error(msg);
    else if (s.state === 'findings' || s.state === 'stalled') out.warn(msg);
    else out.info(msg);
  };
  source.on('finding', onFinding);
  source.on('status', onStatus);
  return () => {
    source.off('finding', onFinding);
    source.off('status', onStatus);
  };
}
