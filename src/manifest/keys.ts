/**
 * Ed25519 keys as files: PEM (PKCS#8 "PRIVATE KEY", SPKI "PUBLIC KEY", the forms OpenSSL writes and
 * reads) or exactly 32 raw bytes. The key math is @noble/curves (signature.ts); this file only
 * encodes and decodes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ManifestKeyError } from './errors';

// DER prefixes of the two structures for Ed25519 (RFC 8410); the 32-byte key follows.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export type KeyKind = 'private' | 'public';

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

export function privateKeyPem(secret: Uint8Array): string {
  return pem('PRIVATE KEY', Buffer.concat([PKCS8_PREFIX, Buffer.from(secret)]));
}

export function publicKeyPem(pub: Uint8Array): string {
  return pem('PUBLIC KEY', Buffer.concat([SPKI_PREFIX, Buffer.from(pub)]));
}

/** Decodes a key given as PEM text or 32 raw bytes; `where` names it in errors. */
export function decodeKey(data: Uint8Array | string, kind: KeyKind, where: string): Uint8Array {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  if (bytes.length === 32 && typeof data !== 'string') return new Uint8Array(bytes);
  const text = bytes.toString('utf8');
  const label = kind === 'private' ? 'PRIVATE KEY' : 'PUBLIC KEY';
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text);
  if (!m) {
    const other = kind === 'private' ? 'PUBLIC KEY' : 'PRIVATE KEY';
    if (text.includes(`-----BEGIN ${other}-----`)) throw new ManifestKeyError(where, `is a ${kind === 'private' ? 'public' : 'private'} key; a ${kind} key is needed here`);
    throw new ManifestKeyError(where, `is not an Ed25519 ${kind} key (expected PEM "${label}" or 32 raw bytes, got ${bytes.length} bytes)`);
  }
  const der = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  const prefix = kind === 'private' ? PKCS8_PREFIX : SPKI_PREFIX;
  if (der.length !== prefix.length + 32 || !der.subarray(0, prefix.length).equals(prefix)) {
    throw new ManifestKeyError(where, `holds a ${label} that is not Ed25519 (only Ed25519 keys sign manifests)`);
  }
  return new Uint8Array(der.subarray(prefix.length));
}

export function readKeyFile(file: string, kind: KeyKind): Uint8Array {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (e) {
    throw new ManifestKeyError(file, `cannot read the key (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return decodeKey(data, kind, file);
}

/** Writes a new key pair as `manifest-private.pem` (mode 0600) and `manifest-public.pem` in `dir`. */
export async function writeKeyPair(dir: string): Promise<{ privateKey: string; publicKey: string }> {
  const { generateKeyPair } = await import('./signature.js');
  const { secretKey, publicKey } = await generateKeyPair();
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new ManifestKeyError(dir, `cannot make the key folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const priv = path.join(dir, 'manifest-private.pem');
  const pub = path.join(dir, 'manifest-public.pem');
  for (const p of [priv, pub]) if (fs.existsSync(p)) throw new ManifestKeyError(p, 'exists already (EEXIST); keygen never overwrites a key that may sign shipped manifests');
  fs.writeFileSync(priv, privateKeyPem(secretKey), { mode: 0o600, flag: 'wx' });
  fs.writeFileSync(pub, publicKeyPem(publicKey), { flag: 'wx' });
  return { privateKey: priv, publicKey: pub };
}
