// The hash suites, unchanged, on the Windows build: the official BLAKE3 vectors (every backend
// the CPU has), CRC32C check values and references, and @noble/hashes as a second BLAKE3 oracle.
// Importing a test file registers its tests here; test/hash/native.mjs finds the Windows addon.
import { test } from 'node:test';
import { skipOffWindows } from './helpers.mjs';

if (skipOffWindows) {
  test('the hash suites on the Windows build', { skip: skipOffWindows }, () => {});
} else {
  await import('../hash/blake3-vectors.test.mjs');
  await import('../hash/crc32c.test.mjs');
  await import('../hash/blake3-noble.test.mjs');
}
