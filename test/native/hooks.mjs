// The one place tests and the bench find the test-only native code (test/native/binding.gyp, built by
// `npm test` / `npm run bench` through scripts/test-native.js). Importing this never throws for a
// missing build: `hooksMissing` is false when the hooks are loaded, else the reason to skip.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
// A cross build for this platform-arch (the arm64 build run under qemu-user) sits in
// build/<platform>-<arch>/Release and wins when present; the host build is build/Release.
const cross = path.join(here, 'build', `${process.platform}-${process.arch}`, 'Release');
export const buildDir = fs.existsSync(path.join(cross, 'pg_testhooks.node')) ? cross : path.join(here, 'build', 'Release');
export const hooksPath = path.join(buildDir, 'pg_testhooks.node');
export const testLibPath = path.join(buildDir, 'pgtestlib.so');
/** LD_PRELOAD shims (test/native/clockshift.c, prctlshim.c): preload into test children only. */
export const clockShiftPath = path.join(buildDir, 'pg_clockshift.so');
export const prctlShimPath = path.join(buildDir, 'pg_prctlshim.so');

function missingReason() {
  if (process.platform !== 'linux') return `the test hooks are Linux-only (this is ${process.platform})`;
  for (const p of [hooksPath, testLibPath]) {
    if (!fs.existsSync(p)) return `test addon not built: ${p} (\`npm test\` builds it; or run node scripts/test-native.js)`;
  }
  return false;
}

/** false when the hooks are available, else why not (a string suitable for node:test's `skip`). */
export const hooksMissing = missingReason();
/** The loaded pg_testhooks addon, or null when `hooksMissing`. A build that exists but fails to load throws. */
export const hooks = hooksMissing ? null : require(hooksPath);
