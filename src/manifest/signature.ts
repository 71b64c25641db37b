/**
 * Ed25519 over the manifest's exact bytes, with @noble/curves (audited, pure JS). The package is
 * ESM only, so it is loaded with import() from this CommonJS build.
 */
/** The part of @noble/curves' ed25519 used here. */
interface Ed25519 {
  keygen(): { secretKey: Uint8Array; publicKey: Uint8Array };
  getPublicKey(secretKey: Uint8Array): Uint8Array;
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

let curve: Promise<Ed25519> | null = null;
function ed25519(): Promise<Ed25519> {
  curve ??= import('@noble/curves/ed25519.js').then((m) => m.ed25519 as Ed25519);
  return curve;
}

export async function generateKeyPair(): Promise<{ secretKey: Uint8Array; publicKey: Uint8Array }> {
  const ed = await ed25519();
  return ed.keygen();
}

export async function publicKeyOf(secretKey: Uint8Array): Promise<Uint8Array> {
  return (await ed25519()).getPublicKey(secretKey);
}

export async function signBytes(message: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array> {
  return (await ed25519()).sign(message, secretKey);
}

/** False for a wrong or malformed signature; never throws on bad input. */
export async function verifyBytes(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
  const ed = await ed25519();
  try {
    return signature.length === 64 && publicKey.length === 32 && ed.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}
