// The directory the tests load the native builds from: build/Release (the host build), or
// build/<platform>-<arch>/Release when build/Release holds another architecture's or OS's build and
// a build for this one sits there (the arm64 cross-build run under qemu-user by scripts/arm64/test.sh,
// the mingw build run under Wine in build/win32-x64/Release; src/native.ts searches the same place). Decided from the ELF header, not by trying to load.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// ELF e_machine of each Node arch the project builds for.
const MACHINE = { x64: 62, arm64: 183, ia32: 3, arm: 40 };

/** True unless `file` is an ELF object for another machine than this process (false if missing). */
function matchesArch(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const h = Buffer.alloc(20);
    if (fs.readSync(fd, h, 0, 20, 0) < 20 || h.readUInt32BE(0) !== 0x7f454c46) return true; // not ELF: let the loader judge
    if (process.platform === 'win32') return false; // a Linux build seen from Wine (npm run test:windows)
    const want = MACHINE[process.arch];
    return want === undefined || h.readUInt16LE(18) === want;
  } finally {
    fs.closeSync(fd);
  }
}

const host = path.join(root, 'build', 'Release');
const cross = path.join(root, 'build', `${process.platform}-${process.arch}`, 'Release');
export const buildDir =
  !matchesArch(path.join(host, 'procguard.node')) && fs.existsSync(path.join(cross, 'procguard.node')) ? cross : host;
