/** Typed failures of the manifest: a document that cannot be trusted, or input that cannot be used. */
import { ProcguardError } from '../errors';

/**
 * The manifest cannot be trusted: 'missing' (no file), 'bad-signature' (signature absent or not by
 * the key), 'malformed' (not a valid document), 'unsupported-version'.
 */
export class ManifestInvalidError extends ProcguardError {
  readonly reason: 'missing' | 'bad-signature' | 'malformed' | 'unsupported-version';
  constructor(reason: ManifestInvalidError['reason'], message: string, cause?: unknown) {
    super('ERR_MANIFEST_INVALID', message, { cause });
    this.reason = reason;
  }
}

/** A key file that is not an Ed25519 key in a form procguard reads (PEM or 32 raw bytes). */
export class ManifestKeyError extends ProcguardError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('ERR_MANIFEST_KEY', `${path}: ${message}`);
    this.path = path;
  }
}

/** The app folder cannot be read (missing, not a folder, unreadable file). */
export class ManifestInputError extends ProcguardError {
  readonly path: string;
  constructor(path: string, message: string, cause?: unknown) {
    super('ERR_MANIFEST_INPUT', `${path}: ${message}`, { cause });
    this.path = path;
  }
}
