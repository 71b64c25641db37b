/** Reading and writing a signed manifest: `<file>` (the JSON) and `<file>.sig` (base64 Ed25519 signature). */
import * as fs from 'node:fs/promises';
import { ManifestInvalidError } from './errors';
import { parseManifest, SIGNATURE_SUFFIX, type Manifest } from './format';
import { signBytes, verifyBytes } from './signature';

export async function writeSigned(file: string, text: string, secretKey: Uint8Array): Promise<{ manifest: string; signature: string }> {
  const sig = await signBytes(Buffer.from(text, 'utf8'), secretKey);
  await fs.writeFile(file, text);
  await fs.writeFile(file + SIGNATURE_SUFFIX, Buffer.from(sig).toString('base64') + '\n');
  return { manifest: file, signature: file + SIGNATURE_SUFFIX };
}

/**
 * Reads the manifest and its signature, checks the signature over the exact bytes first, then
 * parses. Throws ManifestInvalidError ('missing', 'bad-signature', 'malformed', 'unsupported-version').
 */
export async function loadSigned(file: string, publicKey: Uint8Array): Promise<{ manifest: Manifest; bytes: Buffer }> {
  const read = async (p: string, what: string): Promise<Buffer> => {
    try {
      return await fs.readFile(p);
    } catch (e) {
      throw new ManifestInvalidError('missing', `${what} ${p} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, e);
    }
  };
  const bytes = await read(file, 'manifest');
  const sigText = (await read(file + SIGNATURE_SUFFIX, 'signature')).toString('utf8').trim();
  const sig = /^[A-Za-z0-9+/]{86}==$/.test(sigText) ? Buffer.from(sigText, 'base64') : null;
  if (!sig || sig.length !== 64) throw new ManifestInvalidError('bad-signature', `signature ${file}${SIGNATURE_SUFFIX} is not a base64 Ed25519 signature`);
  if (!(await verifyBytes(sig, bytes, publicKey))) throw new ManifestInvalidError('bad-signature', `the signature of ${file} does not match the manifest and the public key`);
  return { manifest: parseManifest(bytes.toString('utf8')), bytes };
}
