/**
 * Typed failures of procguard itself. A finding (something the checker observed) is data and
 * never an error; an error means the checker could not do its job. Each class has a stable `code`.
 */

export class ProcguardError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The native addon could not be loaded. `message` lists every path tried and the remedy. */
export class NativeLoadError extends ProcguardError {
  readonly tried: string[];
  constructor(message: string, tried: string[], cause?: unknown) {
    super('ERR_NATIVE_LOAD', message, { cause });
    this.tried = tried;
  }
}

/** A /proc (or other OS) source could not be read. */
export class ProcfsUnreadableError extends ProcguardError {
  readonly path: string;
  constructor(path: string, cause?: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('ERR_PROCFS_UNREADABLE', `cannot read ${path}: ${reason}`, { cause });
    this.path = path;
  }
}

/** Text from /proc did not have the expected format. */
export class ProcfsParseError extends ProcguardError {
  readonly source: string;
  readonly line: number;
  constructor(source: string, line: number, reason: string) {
    super('ERR_PROCFS_PARSE', `${source}: line ${line}: ${reason}`);
    this.source = source;
    this.line = line;
  }
}

/** The requested feature does not exist on this OS. */
export class UnsupportedPlatformError extends ProcguardError {
  readonly feature: string;
  constructor(feature: string, platform: string = process.platform) {
    super('ERR_UNSUPPORTED_PLATFORM', `${feature} is not supported on ${platform}`);
    this.feature = feature;
  }
}

/** A memory read, hash or scanner operation failed in native code. */
export class ScannerError extends ProcguardError {
  constructor(message: string, cause?: unknown) {
    super('ERR_SCANNER', message, { cause });
  }
}

/** The Guard was used in a state that does not allow the call (e.g. check() after stop()). */
export class GuardStateError extends ProcguardError {
  constructor(message: string) {
    super('ERR_GUARD_STATE', message);
  }
}
