/** The signed integrity manifest (docs/manifest.md): format, keys, create, verify. */
export * from './format';
export * from './errors';
export * from './differences';
export { createManifest, type CreateOptions, type CreateResult } from './create';
export { verifyApp, type VerifyOptions } from './verify';
export { loadSigned, writeSigned } from './io';
export { decodeKey, readKeyFile, writeKeyPair, privateKeyPem, publicKeyPem } from './keys';
export { generateKeyPair, publicKeyOf } from './signature';
export type { ManifestProgress, ProgressListener } from './progress';
export { defaultManifestDir, defaultManifestPath } from './walk';
