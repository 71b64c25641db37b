/**
 * Electron fuses: feature switches baked into the binary ("fuse wire"). Layout, as Electron's
 * build writes it (build/fuses/build.py: `kFuseWire[] = { sentinel, fuse_version, length, fuses }`)
 * and @electron/fuses reads it: the ASCII sentinel below, one version byte whose unsigned value is
 * the version (0x01 for v1, not the digit '1'), one length byte, then one byte per fuse: '0' (0x30)
 * disabled, '1' (0x31) enabled, 'r' (0x72) removed.
 * The reader streams the file in chunks (the sentinel can straddle a chunk boundary) and reports
 * every wire it finds (a macOS universal binary holds one per architecture).
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { ProcguardError } from '../errors';
import type { Observation } from '../types';

export const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

/** Fuse names by wire index (v1), as in @electron/fuses' FuseV1Options. */
export const FUSE_V1_NAMES = Object.freeze([
  'RunAsNode',
  'EnableCookieEncryption',
  'EnableNodeOptionsEnvironmentVariable',
  'EnableNodeCliInspectArguments',
  'EnableEmbeddedAsarIntegrityValidation',
  'OnlyLoadAppFromAsar',
  'LoadBrowserProcessSpecificV8Snapshot',
  'GrantFileProtocolExtraPrivileges',
  'WasmTrapHandlers',
] as const);

export type FuseName = (typeof FUSE_V1_NAMES)[number];
export type FuseState = 'enabled' | 'disabled' | 'removed';

export interface FuseEntry {
  index: number;
  /** Known name, or `fuse<index>` for a fuse newer than this list. */
  name: string;
  state: FuseState;
}

export interface FuseWire {
  /** Byte offset of the sentinel in the file. */
  offset: number;
  version: number;
  fuses: FuseEntry[];
}

export type FuseWireErrorReason = 'sentinel-missing' | 'truncated' | 'unsupported-version' | 'malformed' | 'unreadable';

/** The fuse wire of a binary could not be read. `reason` says why. */
export class FuseWireError extends ProcguardError {
  readonly reason: FuseWireErrorReason;
  readonly path: string;
  constructor(reason: FuseWireErrorReason, path: string, message: string, cause?: unknown) {
    super(`ERR_FUSE_${reason.toUpperCase().replace(/-/g, '_')}`, `${path}: ${message}`, { cause });
    this.reason = reason;
    this.path = path;
  }
}

/** The only wire version known (Electron 12 to at least 45). */
export const FUSE_WIRE_VERSION = 1;

const SENTINEL = Buffer.from(FUSE_SENTINEL, 'ascii');
const STATE_BY_BYTE: Record<number, FuseState> = { 0x30: 'disabled', 0x31: 'enabled', 0x72: 'removed' };

export interface ReadFuseOptions {
  /** Bytes per read (default 1 MiB); tests use small chunks to exercise boundaries. */
  chunkSize?: number;
}

/**
 * Reads every fuse wire in `binaryPath`. Throws FuseWireError when there is none, when one is cut
 * off by the end of the file, has an unknown version, or holds a byte that is not a fuse state.
 */
export async function readFuseWires(binaryPath: string, options: ReadFuseOptions = {}): Promise<FuseWire[]> {
  const chunkSize = options.chunkSize ?? 1 << 20;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError('chunkSize must be a positive integer');
  let fh;
  try {
    fh = await open(binaryPath, 'r');
  } catch (err) {
    throw new FuseWireError('unreadable', binaryPath, `cannot open: ${(err as Error).message}`, err);
  }
  try {
    const size = (await fh.stat()).size;
    const offsets: number[] = [];
    const keep = SENTINEL.length - 1;
    // carry = the last (sentinel length - 1) bytes of the previous chunk, so a sentinel that
    // straddles two reads is still found exactly once.
    let carry = Buffer.alloc(0);
    let pos = 0;
    const buf = Buffer.allocUnsafe(chunkSize);
    while (pos < size) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(chunkSize, size - pos), pos);
      if (bytesRead === 0) break;
      const window = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      const base = pos - carry.length;
      for (let i = window.indexOf(SENTINEL); i !== -1; i = window.indexOf(SENTINEL, i + 1)) offsets.push(base + i);
      carry = Buffer.from(window.subarray(Math.max(0, window.length - keep)));
      pos += bytesRead;
    }
    if (offsets.length === 0) throw new FuseWireError('sentinel-missing', binaryPath, 'no Electron fuse sentinel found (not an Electron binary?)');
    const wires: FuseWire[] = [];
    for (const offset of offsets) wires.push(await readWireAt(fh, binaryPath, offset, size));
    return wires;
  } finally {
    await fh.close();
  }
}

async function readWireAt(fh: import('node:fs/promises').FileHandle, path: string, offset: number, size: number): Promise<FuseWire> {
  const head = offset + SENTINEL.length;
  if (head + 2 > size) throw new FuseWireError('truncated', path, `fuse wire at ${offset} ends before its version and length bytes`);
  const hdr = Buffer.alloc(2);
  await fh.read(hdr, 0, 2, head);
  const versionByte = hdr[0];
  const length = hdr[1];
  // The version is the byte's unsigned value (build.py writes c_hex(1) = 0x01).
  if (versionByte !== FUSE_WIRE_VERSION) {
    throw new FuseWireError('unsupported-version', path, `fuse wire at ${offset} has version byte 0x${versionByte.toString(16)}; only version 1 is known`);
  }
  if (head + 2 + length > size) throw new FuseWireError('truncated', path, `fuse wire at ${offset} declares ${length} fuses but the file ends first`);
  const body = Buffer.alloc(length);
  if (length > 0) await fh.read(body, 0, length, head + 2);
  const fuses: FuseEntry[] = [];
  for (let i = 0; i < length; i++) {
    const state = STATE_BY_BYTE[body[i]];
    if (state === undefined) throw new FuseWireError('malformed', path, `fuse ${i} at ${offset} has byte 0x${body[i].toString(16)}, not '0', '1' or 'r'`);
    fuses.push({ index: i, name: FUSE_V1_NAMES[i] ?? `fuse${i}`, state });
  }
  return { offset, version: 1, fuses };
}

/** Expected fuse settings: true = enabled, false = disabled. */
export type ExpectedFuses = Partial<Record<FuseName, boolean>>;

/** What a packaged, hardened app should have (see docs/electron.md). */
export const RECOMMENDED_FUSES: Readonly<ExpectedFuses> = Object.freeze({
  RunAsNode: false,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
});

export interface CheckFuseOptions extends ReadFuseOptions {
  /** Whose layout to resolve `appPath` with (default process.platform; see fuseFilePath). */
  platform?: NodeJS.Platform;
}

export interface FuseCheck {
  wires: FuseWire[];
  /** One per fuse that differs from `expected` (subsystem 'launch', kind 'fuse-mismatch' / 'fuse-missing'). */
  observations: Observation[];
}

// A macOS bundle's executable: "<X>.app/Contents/MacOS/<name>" (the same test as @electron/fuses'
// pathToFuseFile, so an ancestor directory merely named ".app" does not count).
const APP_BUNDLE_BINARY = /\.app[\\/]Contents[\\/]MacOS[\\/]/;
const FRAMEWORK_BINARY = ['Frameworks', 'Electron Framework.framework', 'Electron Framework'] as const;

/**
 * The file that holds the fuse wire of the Electron app at `appPath`, on `platform`. On macOS the
 * wire is in the framework binary, not the executable: for "<X>.app" it is
 * "<X>.app/Contents/Frameworks/Electron Framework.framework/Electron Framework", and for the
 * executable "<X>.app/Contents/MacOS/<name>" (process.execPath) the same file, as @electron/fuses
 * resolves it. Elsewhere (Linux, Windows) the executable itself. Pure: no file is read.
 */
export function fuseFilePath(appPath: string, platform: NodeJS.Platform = process.platform): string {
  if (typeof appPath !== 'string' || appPath === '') throw new TypeError('fuseFilePath: appPath must be a non-empty string');
  if (platform !== 'darwin') return appPath;
  const p = path.posix;
  if (appPath.endsWith('.app')) return p.resolve(appPath, 'Contents', ...FRAMEWORK_BINARY);
  if (APP_BUNDLE_BINARY.test(appPath)) return p.resolve(appPath, '..', '..', ...FRAMEWORK_BINARY);
  return appPath;
}

/**
 * Reads the fuse wire(s) of the Electron app at `appPath` (default: the running executable; on
 * macOS the framework binary is read, see fuseFilePath) and compares them with `expected`.
 * Mismatches are Observations; an unreadable or malformed wire is a FuseWireError naming the file read.
 */
export async function checkFuses(appPath: string = process.execPath, expected: ExpectedFuses = RECOMMENDED_FUSES, options: CheckFuseOptions = {}): Promise<FuseCheck> {
  if (typeof expected !== 'object' || expected === null) throw new TypeError('checkFuses: expected must be an object of fuse name -> boolean');
  for (const [name, want] of Object.entries(expected)) {
    if (!(FUSE_V1_NAMES as readonly string[]).includes(name)) throw new TypeError(`checkFuses: unknown fuse name ${JSON.stringify(name)}`);
    if (typeof want !== 'boolean') throw new TypeError(`checkFuses: expected.${name} must be a boolean`);
  }
  const binaryPath = fuseFilePath(appPath, options.platform ?? process.platform);
  const wires = await readFuseWires(binaryPath, options);
  const observations: Observation[] = [];
  for (const wire of wires) {
    const suffix = wires.length > 1 ? `@${wire.offset}` : '';
    for (const [name, want] of Object.entries(expected) as [FuseName, boolean][]) {
      const wantState: FuseState = want ? 'enabled' : 'disabled';
      const entry = wire.fuses.find((f) => f.name === name);
      const actual = entry?.state ?? 'missing';
      const base = { subsystem: 'launch' as const, path: binaryPath, evidence: { fuse: name, actual, expected: wantState, wireOffset: wire.offset } };
      if (entry === undefined) {
        observations.push({
          ...base,
          key: `launch:fuse:${name}${suffix}:missing`,
          kind: 'fuse-missing',
          detail: `fuse ${name} is not in this binary's wire (${wire.fuses.length} fuses); expected ${wantState}`,
        });
      } else if (entry.state !== wantState) {
        observations.push({
          ...base,
          key: `launch:fuse:${name}${suffix}`,
          kind: 'fuse-mismatch',
          detail: `fuse ${name} is ${entry.state}, expected ${wantState}`,
        });
      }
    }
  }
  return { wires, observations };
}
