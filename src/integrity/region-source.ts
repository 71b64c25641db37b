/**
 * Where code regions come from: /proc/self/maps on Linux (parsed, then classified), the native
 * region walk on Windows, macOS and FreeBSD (regions-native.ts). Also the fresh look at the
 * mappings that confirms a change where the native engine cannot read a maps file itself.
 * Shared by the code monitor and `procguard scan`.
 */
import * as fs from 'node:fs';
import type { NativeBinding } from '../native';
import { readMapsAt } from '../procfs/maps';
import { classifyRegions, type CodeRegion, type JitSpan } from './regions';
import { discoverNativeRegions } from './regions-native';
import { mainExecutableKey } from './main-exe';

/** Linux reads /proc/self/maps; Windows, macOS and FreeBSD walk memory natively. */
export const USE_PROCFS = process.platform === 'linux';

export interface RegionSourceOptions {
  mainExecutableOnly?: boolean;
  includeWritable?: boolean;
  jitSpans?: JitSpan[];
  /** Where to read the mappings from. Default /proc/self/maps (tests point it elsewhere). */
  mapsPath?: string;
}

function mainExecutablePath(): string | null {
  if (!USE_PROCFS) return process.execPath;
  try {
    return fs.realpathSync('/proc/self/exe');
  } catch {
    return null;
  }
}

export class RegionSource {
  readonly mainExecutable = mainExecutablePath();
  /** The main executable's `dev:inode` at start (Linux): identity, not path text (main-exe.ts). */
  readonly mainExecutableKey = USE_PROCFS ? mainExecutableKey() : undefined;
  /** Windows module identities by load address (regions-native.ts). */
  private readonly identityCache = new Map<string, string | null>();

  constructor(
    private readonly native: NativeBinding,
    private readonly opts: RegionSourceOptions = {},
  ) {}

  /** Every executable region, classified. ProcfsUnreadableError / ProcfsParseError when maps cannot be had. */
  async read(): Promise<CodeRegion[]> {
    const classify = {
      mainExecutable: this.mainExecutable,
      mainExecutableKey: this.mainExecutableKey,
      mainExecutableOnly: this.opts.mainExecutableOnly ?? false,
      includeWritable: this.opts.includeWritable ?? false,
      jitSpans: this.opts.jitSpans ?? [],
    };
    if (USE_PROCFS) return classifyRegions(await readMapsAt(this.opts.mapsPath ?? '/proc/self/maps'), classify);
    return discoverNativeRegions(this.native, { ...classify, identityCache: this.identityCache });
  }

  /**
   * Does `addr` still show page `fileOffset` of `fileKey`? Only needed where the native engine
   * could not check the mapping itself (no maps file): a synchronous region walk, run only for
   * confirmed changes.
   */
  stillMapped(addr: bigint, fileKey: string, fileOffset: number): boolean {
    const regions = discoverNativeRegions(this.native, { mainExecutable: this.mainExecutable, identityCache: this.identityCache });
    const r = regions.find((x) => x.start <= addr && addr < x.end);
    return !!r && r.fileKey === fileKey && r.fileOffset + Number(addr - r.start) === fileOffset;
  }
}
