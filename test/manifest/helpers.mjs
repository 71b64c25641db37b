// Shared helpers of the manifest tests: the built package, temp folders, keys.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const m = await import(path.join(root, 'dist/manifest/index.js'));
export const cli = path.join(root, 'dist/cli.js');

const made = [];
process.on('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tmpdir(prefix = 'pg-manifest-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** A fresh key pair as PEM files; returns the paths and the decoded keys. */
export async function keys(dir = tmpdir('pg-keys-')) {
  const k = await m.writeKeyPair(dir);
  return { ...k, secretKey: m.readKeyFile(k.privateKey, 'private'), pubKey: m.readKeyFile(k.publicKey, 'public') };
}

export function runCli(...args) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120000 });
}

export const APP = { name: 'demo', version: '1.2.3', platform: process.platform, arch: process.arch };

/** Flips one bit of `file` at `offset`. */
export function flipByte(file, offset) {
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, offset);
  b[0] ^= 0x01;
  fs.writeSync(fd, b, 0, 1, offset);
  fs.closeSync(fd);
}

export function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}
