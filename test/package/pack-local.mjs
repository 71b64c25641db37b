// Packs procguard and, from this checkout's node_modules, every package its dependencies pull in
// (transitively, the versions installed here), so a test can `npm install --offline` the tarballs
// without a registry or a cache.
//   node test/package/pack-local.mjs <dest-dir>    prints the tarball paths as JSON (procguard's first)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** npm's own CLI, run by this node: `npm_execpath` under npm, else npm next to node. */
export function npmCli() {
  const candidates = [process.env.npm_execpath, path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')];
  const found = candidates.find((p) => p && p.endsWith('.js') && fs.existsSync(p));
  if (!found) throw new Error(`npm-cli.js not found (tried ${candidates.filter(Boolean).join(', ')})`);
  return found;
}

function pack(dir, dest) {
  const r = spawnSync(process.execPath, [npmCli(), 'pack', '--json', '--ignore-scripts', '--pack-destination', dest, dir], { cwd: dest, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`npm pack ${dir} exited ${r.status ?? r.signal}:\n${r.stderr}`);
  const [info] = JSON.parse(r.stdout);
  return { file: path.join(dest, info.filename), files: info.files.map((f) => f.path) };
}

/** The installed directories of procguard's runtime dependencies, transitively. */
export function runtimeDependencies() {
  const seen = new Map();
  const visit = (name) => {
    if (seen.has(name)) return;
    const dir = path.join(root, 'node_modules', ...name.split('/'));
    if (!fs.existsSync(path.join(dir, 'package.json'))) throw new Error(`dependency ${name} is not installed in ${root}/node_modules`);
    seen.set(name, dir);
    for (const d of Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).dependencies ?? {})) visit(d);
  };
  for (const d of Object.keys(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).dependencies)) visit(d);
  return [...seen.values()];
}

/** Packs procguard and its dependencies into `dest`: { tarball, files (procguard's), deps }. */
export function packWithDeps(dest) {
  fs.mkdirSync(dest, { recursive: true });
  const own = pack(root, dest);
  return { tarball: own.file, files: own.files, deps: runtimeDependencies().map((d) => pack(d, dest).file) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dest = process.argv[2];
  if (!dest) {
    console.error('usage: node test/package/pack-local.mjs <dest-dir>');
    process.exit(2);
  }
  const { tarball, deps } = packWithDeps(path.resolve(dest));
  console.log(JSON.stringify([tarball, ...deps]));
}
