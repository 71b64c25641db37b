// Shared by the hash tests: the built addon, required by its path so these tests do not depend on
// the other native areas (nor on dist/native.js).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildDir } from '../build-dir.mjs';

const require = createRequire(import.meta.url);
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const native = require(path.join(buildDir, 'procguard.node'));

export const backends = native.hashBackends();

/** Deterministic pseudo-random bytes (xorshift32) so a failure can be reproduced from its seed. */
export function seededBytes(len, seed) {
  const out = new Uint8Array(len);
  let x = (seed >>> 0) || 0x9e3779b9;
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export { randomBytes };
export const hex = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('hex');
