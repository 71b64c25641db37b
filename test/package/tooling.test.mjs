// The developer tooling works on a fresh machine after `npm install`: lint's clang-format half needs no
// system clang-format (the pinned npm package brings one), and no npm pre/post hook doubles a build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const script = path.join(root, 'scripts', 'clang-format.js');

/** PATH without any directory holding a clang-format, plus node's own directory: a machine without one. */
function pathWithoutClangFormat() {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d && !fs.existsSync(path.join(d, 'clang-format')));
  return [path.dirname(process.execPath), ...dirs].join(path.delimiter);
}

function runFormatter(args) {
  const env = { ...process.env, PATH: pathWithoutClangFormat() };
  delete env.CLANG_FORMAT;
  return spawnSync(process.execPath, [script, ...args], { cwd: root, env, encoding: 'utf8' });
}

test('npm run lint checks the C/C++ sources with scripts/clang-format.js --check', () => {
  assert.match(pkg.scripts.lint, /node scripts\/clang-format\.js --check/, `lint script does not run the clang-format check: ${pkg.scripts.lint}`);
  assert.match(pkg.scripts.format, /node scripts\/clang-format\.js(?! --check)/, `format script does not run clang-format: ${pkg.scripts.format}`);
  assert.equal(pkg.devDependencies['clang-format'], '1.8.0', 'clang-format is not pinned as a devDependency');
});

test('the clang-format check passes on the tree with no clang-format on PATH, using the npm package', () => {
  const r = runFormatter(['--check']);
  assert.equal(r.status, 0, `clang-format --check failed without a system clang-format:\n${r.stderr}\n${r.stdout}`);
  assert.match(r.stderr, /clang-format version 15\.\S* .*\(npm package clang-format\)/, `did not say it ran the pinned npm binary: ${r.stderr}`);
});

test('the clang-format check fails on a misformatted file and names it (no system clang-format)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-format-'));
  try {
    const bad = path.join(dir, 'bad.cc');
    fs.writeFileSync(bad, 'int  f( int a ){return a;}\n');
    const r = runFormatter(['--check', bad]);
    assert.equal(r.status, 1, `a misformatted file passed the check:\n${r.stderr}`);
    assert.ok(r.stderr.includes(bad), `the report does not name ${bad}:\n${r.stderr}`);
    // Format mode rewrites it; the check then passes.
    const fix = runFormatter([bad]);
    assert.equal(fix.status, 0, `format mode failed:\n${fix.stderr}`);
    assert.equal(runFormatter(['--check', bad]).status, 0, `still misformatted after format: ${fs.readFileSync(bad, 'utf8')}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('no npm pre/post hook runs another script around one (npm run build compiles the addon once)', () => {
  const names = Object.keys(pkg.scripts);
  const hooks = names.filter((n) => /^(pre|post)/.test(n) && names.includes(n.replace(/^(pre|post)/, '')));
  assert.deepEqual(hooks, [], `scripts that npm runs as hooks of another script: ${hooks.join(', ')}`);
  assert.match(pkg.scripts['build:prebuilds'] ?? '', /scripts\/prebuild\.js/, 'the prebuilds script is missing');
});
