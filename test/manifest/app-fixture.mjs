// A packaged Electron-style app folder made by the test: a real app.asar (@electron/asar) with its
// native module unpacked to app.asar.unpacked, V8 snapshot blobs, .pak files, a shared library and
// the executable (a copy of a real ELF).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPackageWithOptions } from '@electron/asar';
import { root, tmpdir } from './helpers.mjs';

/** A real ELF shared object to stand for a native module (procguard's own addon). */
export const realNode = path.join(root, 'build/Release/procguard.node');

export async function makePackagedApp({ exe = '/bin/ls', blobBytes = 256 * 1024 } = {}) {
  const dir = tmpdir('pg-app-');
  const src = tmpdir('pg-app-src-');
  fs.writeFileSync(path.join(src, 'package.json'), JSON.stringify({ name: 'fixture-app', productName: 'Fixture App', version: '3.1.4', main: 'main.js' }));
  fs.writeFileSync(path.join(src, 'main.js'), "require('./native/addon.node'); console.log('hello');\n");
  fs.mkdirSync(path.join(src, 'native'));
  fs.copyFileSync(realNode, path.join(src, 'native', 'addon.node'));
  const resources = path.join(dir, 'resources');
  fs.mkdirSync(resources);
  await createPackageWithOptions(src, path.join(resources, 'app.asar'), { unpack: '*.node' });
  fs.copyFileSync(exe, path.join(dir, 'fixture-app'));
  fs.chmodSync(path.join(dir, 'fixture-app'), 0o755);
  fs.copyFileSync(realNode, path.join(dir, 'libffmpeg.so'));
  const bytes = (n, seed) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 131 + seed) & 0xff;
    return b;
  };
  fs.writeFileSync(path.join(dir, 'v8_context_snapshot.bin'), bytes(blobBytes, 1));
  fs.writeFileSync(path.join(dir, 'snapshot_blob.bin'), bytes(blobBytes / 2, 2));
  fs.writeFileSync(path.join(dir, 'resources.pak'), bytes(blobBytes, 3));
  fs.mkdirSync(path.join(dir, 'locales'));
  fs.writeFileSync(path.join(dir, 'locales', 'en-US.pak'), bytes(4096 + 17, 4));
  fs.writeFileSync(path.join(dir, 'LICENSE'), 'MIT\n');
  return { dir, resources, unpackedNode: path.join(resources, 'app.asar.unpacked', 'native', 'addon.node'), src };
}
