// The workload: a file of random bytes on tmpfs, mapped PROT_READ|PROT_EXEC MAP_PRIVATE into this
// process (it shows in /proc/self/maps as file-backed r-xp code, like a large library of an
// Electron main process) and made resident; plus this process's own code (node, libc, addons).
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { hooks, readMaps, regionsMod, MiB } from './common.mjs';

function shmDir() {
  for (const d of ['/dev/shm', '/run/shm', '/tmp']) {
    try {
      fs.accessSync(d, fs.constants.W_OK);
      return d;
    } catch {
      /* not writable here: try the next */
    }
  }
  throw new Error('bench: no writable tmpfs (/dev/shm) or /tmp');
}

/** Writes `bytes` of random data to a fresh tmpfs file; it is removed when the process exits. */
export function createWorkloadFile(bytes) {
  const file = path.join(shmDir(), `procguard-bench-${process.pid}.bin`);
  const fd = fs.openSync(file, 'w', 0o600);
  const chunk = Buffer.allocUnsafe(8 * MiB);
  try {
    for (let done = 0; done < bytes; done += chunk.length) {
      const n = Math.min(chunk.length, bytes - done);
      crypto.randomFillSync(chunk, 0, n);
      fs.writeSync(fd, chunk, 0, n);
    }
  } finally {
    fs.closeSync(fd);
  }
  process.on('exit', () => fs.rmSync(file, { force: true }));
  return file;
}

/** Maps the file as resident r-xp code. Returns the region { start, end } (bigint). */
export function mapWorkload(file, bytes) {
  const start = hooks.mapFileExec(file, bytes, true);
  return { start, end: start + BigInt(bytes) };
}

/**
 * File-backed code of this process other than the workload, as the code monitor sees it
 * (classified, hashable regions): node itself, libc, libstdc++, the addons.
 */
export async function ownCodeRegions(workload) {
  const maps = await readMaps();
  const regions = regionsMod.classifyRegions(maps, { mainExecutable: fs.realpathSync('/proc/self/exe') });
  return regions
    .filter((r) => regionsMod.isHashable(r) && r.klass !== 'vdso')
    .filter((r) => r.end <= workload.start || r.start >= workload.end)
    .map((r) => ({ start: r.start, end: r.end, path: r.path }));
}

export function bytesOf(regions) {
  return regions.reduce((n, r) => n + Number(r.end - r.start), 0);
}
