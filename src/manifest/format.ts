/**
 * The manifest document (format version 1): what the vendor shipped, file by file. The signed bytes
 * are the exact bytes of the JSON file; the signature lives next to it (`<file>.sig`). See
 * docs/manifest.md for every field and the digest rules.
 */
import { ManifestInvalidError } from './errors';

export const MANIFEST_FORMAT = 'procguard-manifest';
export const MANIFEST_VERSION = 1;
/** The digest scheme of every `digest` and `runs` value (docs/manifest.md "Digests"). */
export const DIGEST_SCHEME = 'blake3-pages-v1';
/** Pages per code run: one 16-byte run digest covers 16 page digests (64 KiB of code). */
export const RUN_PAGES = 16;
/** Default file names, inside the app's resources folder. */
export const MANIFEST_NAME = 'procguard-manifest.json';
export const SIGNATURE_SUFFIX = '.sig';

/** What a file is; decides the digest rule and whether an unlisted copy is a finding. */
export type FileKind = 'elf' | 'pe' | 'macho' | 'macho-fat' | 'asar' | 'v8-snapshot' | 'pak' | 'symlink' | 'data';

/**
 * How `digest` was computed: 'whole' every byte; 'pe-authenticode' without what Authenticode
 * signing changes; 'macho-codesign' without what codesign adds or rewrites ('macho-fat-codesign':
 * the same per slice of a universal file); 'link' the target text.
 */
export type DigestRule = 'whole' | 'pe-authenticode' | 'macho-codesign' | 'macho-fat-codesign' | 'link';

/** Digests of one executable range: `runs` holds one 16-byte digest per RUN_PAGES pages (base64). */
export interface CodeRange {
  /** Mach-O only: "__TEXT,__text". */
  name?: string;
  /** File offset of the range (ELF, PE: page-aligned, the engine's key: page = offset / 4096). */
  offset: number;
  size: number;
  runs: string;
}

export interface ManifestFile {
  /** Relative to the app folder, '/'-separated. */
  path: string;
  kind: FileKind;
  rule: DigestRule;
  /** Size in bytes when the manifest was made (signing may change it for 'pe-authenticode', 'macho-codesign'). */
  size: number;
  /** 32 bytes, base64. */
  digest: string;
  /** Executable ranges (ELF, PE, Mach-O). */
  code?: CodeRange[];
  /** Symlinks: the link text. */
  target?: string;
}

export interface AppIdentity {
  name: string;
  version: string;
  platform: string;
  arch: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  digestScheme: typeof DIGEST_SCHEME;
  runPages: typeof RUN_PAGES;
  app: AppIdentity;
  createdAt: string;
  /** Files the manifest leaves out on purpose (itself and its signature), relative paths. */
  excluded: string[];
  files: ManifestFile[];
}

const KINDS: readonly FileKind[] = ['elf', 'pe', 'macho', 'macho-fat', 'asar', 'v8-snapshot', 'pak', 'symlink', 'data'];
const RULES: readonly DigestRule[] = ['whole', 'pe-authenticode', 'macho-codesign', 'macho-fat-codesign', 'link'];
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fail(why: string): never {
  throw new ManifestInvalidError('malformed', `manifest: ${why}`);
}

function str(o: Record<string, unknown>, k: string, where: string): string {
  const v = o[k];
  if (typeof v !== 'string') fail(`${where}.${k} must be a string`);
  return v;
}

function uint(o: Record<string, unknown>, k: string, where: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${where}.${k} must be a non-negative integer`);
  return v;
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`${where} must be an object`);
  return v as Record<string, unknown>;
}

function base64(o: Record<string, unknown>, k: string, where: string, bytes?: number, multiple?: number): string {
  const v = str(o, k, where);
  if (!B64.test(v) || v.length % 4 !== 0) fail(`${where}.${k} is not base64`);
  const n = Buffer.from(v, 'base64').length;
  if (bytes !== undefined && n !== bytes) fail(`${where}.${k} must hold ${bytes} bytes, has ${n}`);
  if (multiple !== undefined && n % multiple !== 0) fail(`${where}.${k} must hold a multiple of ${multiple} bytes, has ${n}`);
  return v;
}

/** A relative path that stays inside the app folder: no '..', no absolute, no backslash, no empty part. */
export function isSafeRelativePath(p: string): boolean {
  if (p.length === 0 || p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

function parseCode(v: unknown, where: string): CodeRange {
  const o = obj(v, where);
  const r: CodeRange = { offset: uint(o, 'offset', where), size: uint(o, 'size', where), runs: base64(o, 'runs', where, undefined, 16) };
  if (o.name !== undefined) r.name = str(o, 'name', where);
  const want = Math.ceil(Math.ceil(r.size / 4096) / RUN_PAGES) * 16;
  if (Buffer.from(r.runs, 'base64').length !== want) fail(`${where}.runs must hold ${want} bytes for ${r.size} bytes of code`);
  return r;
}

function parseFile(v: unknown, i: number): ManifestFile {
  const where = `files[${i}]`;
  const o = obj(v, where);
  const p = str(o, 'path', where);
  if (!isSafeRelativePath(p)) fail(`${where}.path '${p}' is not a relative path inside the app`);
  const kind = str(o, 'kind', where) as FileKind;
  if (!KINDS.includes(kind)) fail(`${where}.kind '${kind}' is unknown`);
  const rule = str(o, 'rule', where) as DigestRule;
  if (!RULES.includes(rule)) fail(`${where}.rule '${rule}' is unknown`);
  const f: ManifestFile = { path: p, kind, rule, size: uint(o, 'size', where), digest: base64(o, 'digest', where, 32) };
  if (o.code !== undefined) {
    if (!Array.isArray(o.code)) fail(`${where}.code must be an array`);
    f.code = o.code.map((c, j) => parseCode(c, `${where}.code[${j}]`));
  }
  if (o.target !== undefined) f.target = str(o, 'target', where);
  if ((kind === 'symlink') !== (rule === 'link') || (kind === 'symlink' && f.target === undefined)) fail(`${where}: a symlink needs rule 'link' and a target`);
  return f;
}

/** Parses and checks a manifest (after its signature was verified); throws ManifestInvalidError. */
export function parseManifest(text: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    fail(`not JSON (${(e as Error).message})`);
  }
  const o = obj(raw, 'the document');
  if (o.format !== MANIFEST_FORMAT) fail(`format must be '${MANIFEST_FORMAT}'`);
  if (o.version !== MANIFEST_VERSION) throw new ManifestInvalidError('unsupported-version', `manifest: version ${String(o.version)} is not supported (this procguard reads version ${MANIFEST_VERSION})`);
  if (o.digestScheme !== DIGEST_SCHEME) fail(`digestScheme must be '${DIGEST_SCHEME}'`);
  if (o.runPages !== RUN_PAGES) fail(`runPages must be ${RUN_PAGES}`);
  const a = obj(o.app, 'app');
  const app: AppIdentity = { name: str(a, 'name', 'app'), version: str(a, 'version', 'app'), platform: str(a, 'platform', 'app'), arch: str(a, 'arch', 'app') };
  const createdAt = str(o, 'createdAt', 'the document');
  if (!Array.isArray(o.excluded) || !o.excluded.every((x) => typeof x === 'string' && isSafeRelativePath(x))) fail('excluded must be an array of relative paths');
  if (!Array.isArray(o.files)) fail('files must be an array');
  const files = o.files.map(parseFile);
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) fail(`'${f.path}' is listed twice`);
    seen.add(f.path);
  }
  return { format: MANIFEST_FORMAT, version: MANIFEST_VERSION, digestScheme: DIGEST_SCHEME, runPages: RUN_PAGES, app, createdAt, excluded: o.excluded as string[], files };
}

/** The bytes that are signed: the document as written (stable key order, one file per line). */
export function serializeManifest(m: Manifest): string {
  const head = { format: m.format, version: m.version, digestScheme: m.digestScheme, runPages: m.runPages, app: m.app, createdAt: m.createdAt, excluded: m.excluded };
  const lines = m.files.map((f) => '    ' + JSON.stringify(f));
  const headText = JSON.stringify(head, null, 2);
  return `${headText.slice(0, -2)},\n  "files": [\n${lines.join(',\n')}\n  ]\n}\n`;
}
