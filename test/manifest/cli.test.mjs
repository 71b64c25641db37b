// `procguard manifest` as a user runs it: the built CLI, real files, exit codes 0 / 1 / 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli, tmpdir, flipByte, onPath, cli } from './helpers.mjs';
import { makePackagedApp } from './app-fixture.mjs';

test('keygen, create, verify: a packaged app matches (exit 0), its identity read from app.asar', async () => {
  const keys = tmpdir('pg-cli-keys-');
  const k = runCli('manifest', 'keygen', '--out', keys);
  assert.equal(k.status, 0, k.stderr);
  const app = await makePackagedApp();
  const c = runCli('manifest', 'create', app.dir, '--key', path.join(keys, 'manifest-private.pem'));
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stdout, /Fixture App 3\.1\.4/, 'name and version from app.asar package.json');
  const manifest = JSON.parse(fs.readFileSync(path.join(app.resources, 'procguard-manifest.json'), 'utf8'));
  assert.ok(manifest.files.some((f) => f.path === 'resources/app.asar.unpacked/native/addon.node' && f.kind === 'elf'), 'the unpacked native module is listed');
  const v = runCli('manifest', 'verify', app.dir, '--pub', path.join(keys, 'manifest-public.pem'));
  assert.equal(v.status, 0, `${v.stdout}${v.stderr}`);
  assert.match(v.stdout, /^match: \d+ files/m);
  assert.equal(v.stderr, '', 'no progress bar when stderr is not a terminal');
});

test('verify exits 1 and lists every difference by path; --json gives the typed list', async () => {
  const keys = tmpdir('pg-cli-keys-');
  runCli('manifest', 'keygen', '--out', keys);
  const app = await makePackagedApp();
  const out = path.join(tmpdir(), 'm.json');
  assert.equal(runCli('manifest', 'create', app.dir, '--key', path.join(keys, 'manifest-private.pem'), '--out', out).status, 0);
  flipByte(path.join(app.dir, 'v8_context_snapshot.bin'), 1000);
  fs.writeFileSync(path.join(app.dir, 'version.dll'), 'MZ');
  fs.rmSync(path.join(app.dir, 'LICENSE'));
  const v = runCli('manifest', 'verify', app.dir, '--pub', path.join(keys, 'manifest-public.pem'), '--manifest', out);
  assert.equal(v.status, 1, v.stderr);
  assert.match(v.stdout, /^differs: v8_context_snapshot\.bin \(v8-snapshot, content\)/m);
  assert.match(v.stdout, /^not in manifest: version\.dll/m);
  assert.match(v.stdout, /^missing: LICENSE/m);
  assert.match(v.stdout, /^3 difference\(s\)/m);
  const j = runCli('manifest', 'verify', app.dir, '--pub', path.join(keys, 'manifest-public.pem'), '--manifest', out, '--json');
  assert.equal(j.status, 1);
  const r = JSON.parse(j.stdout);
  assert.deepEqual(r.differences.map((d) => [d.kind, d.path]).sort(), [['file-differs-from-manifest', 'v8_context_snapshot.bin'], ['file-missing', 'LICENSE'], ['file-not-in-manifest', 'version.dll']]);
});

test('a bad signature is manifest-invalid (exit 1); bad input exits 2 with the reason', async () => {
  const keys = tmpdir('pg-cli-keys-');
  runCli('manifest', 'keygen', '--out', keys);
  const pub = path.join(keys, 'manifest-public.pem');
  const app = await makePackagedApp();
  assert.equal(runCli('manifest', 'create', app.dir, '--key', path.join(keys, 'manifest-private.pem')).status, 0);
  const sig = path.join(app.resources, 'procguard-manifest.json.sig');
  const b = Buffer.from(fs.readFileSync(sig, 'utf8').trim(), 'base64');
  b[0] ^= 0x80;
  fs.writeFileSync(sig, b.toString('base64') + '\n');
  const bad = runCli('manifest', 'verify', app.dir, '--pub', pub, '--json');
  assert.equal(bad.status, 1, bad.stderr);
  assert.equal(JSON.parse(bad.stdout).reason, 'bad-signature');
  for (const [why, args, re] of [
    ['no subcommand', ['manifest'], /needs a subcommand/],
    ['unknown option', ['manifest', 'verify', app.dir, '--pub', pub, '--bogus'], /unknown option --bogus/],
    ['missing --pub', ['manifest', 'verify', app.dir], /--pub is required/],
    ['private key as --pub', ['manifest', 'verify', app.dir, '--pub', path.join(keys, 'manifest-private.pem')], /ERR_MANIFEST_KEY/],
    ['no such app', ['manifest', 'create', '/nonexistent/app', '--key', path.join(keys, 'manifest-private.pem')], /ERR_MANIFEST_INPUT/],
    ['keygen over existing keys', ['manifest', 'keygen', '--out', keys], /exists already/],
    ['bad threads', ['manifest', 'verify', app.dir, '--pub', pub, '--threads', '0'], /--threads/],
  ]) {
    const r = runCli(...args);
    assert.equal(r.status, 2, `${why}: exit ${r.status} ${r.stderr}`);
    assert.match(r.stderr, re, `${why}: ${r.stderr}`);
  }
});

test('on a terminal, create draws a progress bar on stderr', { skip: !onPath('script') && 'needs script(1) for a pseudo-terminal' }, async () => {
  const keys = tmpdir('pg-cli-keys-');
  runCli('manifest', 'keygen', '--out', keys);
  const app = await makePackagedApp({ exe: process.execPath });
  const cmd = [process.execPath, cli, 'manifest', 'create', app.dir, '--key', path.join(keys, 'manifest-private.pem'), '--threads', '1'].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /hashing \[#*\.*\]\s+\d+% \d+\/\d+ MiB \d+\/\d+ files/, `a progress line: ${JSON.stringify(r.stdout.slice(0, 300))}`);
});
