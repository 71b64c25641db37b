// Code signing after packaging: a manifest made before signing still holds after it, and any change
// to the code does not. PE: a mingw build signed with osslsigncode (Authenticode, self-signed
// certificate). Mach-O: ld64.lld links a minimal program unsigned and ad-hoc signed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { m, tmpdir, keys, APP, flipByte, onPath } from './helpers.mjs';

const sh = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r;
};

const havePe = onPath('x86_64-w64-mingw32-gcc') && onPath('osslsigncode') && onPath('openssl');
const ld64 = ['ld64.lld', 'ld64.lld-14'].find(onPath);
const haveMachO = ld64 && onPath('llvm-mc');
const lipo = ['llvm-lipo', 'llvm-lipo-14'].find(onPath);

async function manifestOf(dir, k) {
  const r = await m.createManifest(dir, { secretKey: k.secretKey, app: { ...APP, platform: 'win32' } });
  return (await m.loadSigned(r.manifestPath, k.pubKey)).manifest;
}

/** A Windows program built here and an Authenticode signature over it by a self-signed certificate. */
function buildAndSignPe(dir) {
  fs.writeFileSync(path.join(dir, 'main.c'), 'int helper(int x) { return x * 3 + 1; }\nint main(void) { return helper(13); }\n');
  sh('x86_64-w64-mingw32-gcc', ['-O1', '-o', path.join(dir, 'unsigned.exe'), path.join(dir, 'main.c')]);
  sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=procguard test signer']);
  sh('osslsigncode', ['sign', '-certs', path.join(dir, 'cert.pem'), '-key', path.join(dir, 'key.pem'), '-n', 'procguard test', '-in', path.join(dir, 'unsigned.exe'), '-out', path.join(dir, 'signed.exe')]);
  const v = spawnSync('osslsigncode', ['verify', '-in', path.join(dir, 'signed.exe')], { encoding: 'utf8' });
  assert.match(v.stdout + v.stderr, /Signature Index|Message digest|Current message digest/, 'osslsigncode sees a signature in the signed file');
}

test('PE: a manifest made before Authenticode signing verifies the signed file; one byte in .text does not', { skip: !havePe && 'needs mingw-w64, osslsigncode and openssl' }, async () => {
  const work = tmpdir('pg-pe-');
  buildAndSignPe(work);
  const unsigned = fs.readFileSync(path.join(work, 'unsigned.exe'));
  const signed = fs.readFileSync(path.join(work, 'signed.exe'));
  assert.ok(signed.length > unsigned.length && !signed.equals(unsigned.subarray(0, signed.length)), 'signing changed the file');
  const app = path.join(work, 'app');
  fs.mkdirSync(path.join(app, 'resources'), { recursive: true });
  fs.copyFileSync(path.join(work, 'unsigned.exe'), path.join(app, 'app.exe'));
  const k = await keys();
  const manifest = await manifestOf(app, k);
  const entry = manifest.files.find((f) => f.path === 'app.exe');
  assert.equal(entry.rule, 'pe-authenticode');
  const text = entry.code.find((c) => c.name === '.text');
  assert.ok(text, `the .text section has code digests: ${JSON.stringify(entry.code)}`);

  fs.copyFileSync(path.join(work, 'signed.exe'), path.join(app, 'app.exe'));
  const afterSigning = await m.verifyApp(app, manifest);
  assert.deepEqual(afterSigning.differences, [], 'the signed file matches the manifest made before signing');

  // Flip a byte inside .text of the signed file.
  flipByte(path.join(app, 'app.exe'), text.offset + 64);
  const tampered = await m.verifyApp(app, manifest);
  assert.equal(tampered.differences.length, 1, JSON.stringify(tampered.differences));
  const d = tampered.differences[0];
  assert.equal(d.kind, 'file-differs-from-manifest');
  assert.equal(d.reason, 'content');
  assert.deepEqual(d.code, [{ name: '.text', offset: text.offset, size: Math.min(65536, text.size) }], 'located in .text');
});

test('PE: exactly the Authenticode fields are left out: checksum and certificate bytes do not count, the timestamp does', { skip: !havePe && 'needs mingw-w64, osslsigncode and openssl' }, async () => {
  const work = tmpdir('pg-pe-');
  buildAndSignPe(work);
  const app = path.join(work, 'app');
  fs.mkdirSync(app);
  fs.copyFileSync(path.join(work, 'signed.exe'), path.join(app, 'app.exe'));
  const manifest = await manifestOf(app, await keys());
  const file = path.join(app, 'app.exe');
  const b = fs.readFileSync(file);
  const pe = b.readUInt32LE(0x3c);
  const opt = pe + 24;
  const dirs = opt + (b.readUInt16LE(opt) === 0x20b ? 112 : 96);
  const certOffset = b.readUInt32LE(dirs + 32);
  flipByte(file, opt + 64); // CheckSum
  flipByte(file, certOffset + 200); // inside the certificate table
  assert.deepEqual((await m.verifyApp(app, manifest)).differences, [], 'checksum and certificate table are outside the digest');
  flipByte(file, pe + 8); // TimeDateStamp of the COFF header: covered
  const r = await m.verifyApp(app, manifest);
  assert.equal(r.differences[0]?.reason, 'content', `a header byte outside the exclusions is covered: ${JSON.stringify(r.differences)}`);
});

/** Links a minimal macOS program (x86_64, or arm64) with ld64.lld; `sign`: -adhoc_codesign. */
function linkMachO(dir, name, sign, code = 'movl $42, %eax\n  ret', arch = 'x86_64') {
  const s = path.join(dir, `${name}.s`);
  fs.writeFileSync(s, `.section __TEXT,__text\n.globl _main\n_main:\n  ${code}\n`);
  sh('llvm-mc', ['-triple', `${arch}-apple-macos11`, '-filetype=obj', s, '-o', path.join(dir, `${name}.o`)]);
  sh(ld64, ['-arch', arch, '-platform_version', 'macos', '11.0', '11.0', '-e', '_main', ...(sign ? ['-adhoc_codesign'] : ['-no_adhoc_codesign']), '-o', path.join(dir, name), path.join(dir, `${name}.o`)]);
  return path.join(dir, name);
}

async function codeOf(file, rule = 'macho-codesign') {
  const app = tmpdir('pg-macho-app-');
  fs.copyFileSync(file, path.join(app, 'bin'));
  const r = await m.createManifest(app, { secretKey: (await keys()).secretKey, app: { ...APP, platform: 'darwin' } });
  const f = r.manifest.files.find((x) => x.path === 'bin');
  assert.equal(f.rule, rule);
  return { entry: f, manifest: r.manifest, app, code: f.code.map(({ name, size, runs }) => ({ name, size, runs })) };
}

/**
 * What codesign does to a linked file, done by hand on the unsigned link (Apple's tool does not run
 * here): the LC_CODE_SIGNATURE command written into the header padding, ncmds and sizeofcmds grown,
 * the blob appended 16-aligned at the end of __LINKEDIT and that segment's sizes grown.
 */
function signInPlace(file) {
  const b = fs.readFileSync(file);
  const ncmds = b.readUInt32LE(16);
  const sizeofcmds = b.readUInt32LE(20);
  const at = 32 + sizeofcmds;
  assert.ok(b.subarray(at, at + 16).every((x) => x === 0), 'header padding is free for the command');
  const dataoff = Math.ceil(b.length / 16) * 16;
  const blob = Buffer.concat([Buffer.from([0xfa, 0xde, 0x0c, 0xc0]), Buffer.alloc(188, 0x5a)]);
  b.writeUInt32LE(0x1d, at);
  b.writeUInt32LE(16, at + 4);
  b.writeUInt32LE(dataoff, at + 8);
  b.writeUInt32LE(blob.length, at + 12);
  b.writeUInt32LE(ncmds + 1, 16);
  b.writeUInt32LE(sizeofcmds + 16, 20);
  for (let i = 0, c = 32; i < ncmds; i++, c += b.readUInt32LE(c + 4)) {
    if (b.readUInt32LE(c) === 0x19 && b.subarray(c + 8, c + 18).toString('latin1') === '__LINKEDIT') {
      const fileoff = Number(b.readBigUInt64LE(c + 40));
      const filesize = dataoff + blob.length - fileoff;
      b.writeBigUInt64LE(BigInt(filesize), c + 48);
      b.writeBigUInt64LE(BigInt(Math.ceil(filesize / 4096) * 4096), c + 32);
    }
  }
  fs.writeFileSync(file, Buffer.concat([b, Buffer.alloc(dataoff - b.length), blob]));
}

test('Mach-O: the unsigned and the ad-hoc signed link give the same code digests; one changed code byte does not', { skip: !haveMachO && 'needs lld (ld64.lld) and llvm-mc' }, async () => {
  const dir = tmpdir('pg-macho-');
  const unsigned = await codeOf(linkMachO(dir, 'unsigned', false));
  const signed = await codeOf(linkMachO(dir, 'signed', true));
  assert.notEqual(unsigned.entry.size, signed.entry.size, 'the signed link is larger (it holds a signature)');
  assert.deepEqual(signed.code, unsigned.code, 'same code digests, signed or not');
  assert.equal(unsigned.code[0].name, '__TEXT,__text');
  const changed = await codeOf(linkMachO(dir, 'changed', true, 'movl $43, %eax\n  ret'));
  assert.notDeepEqual(changed.code, unsigned.code, 'one changed code byte changes the code digests');
});

test('Mach-O: signing in place (what codesign writes) keeps the whole-file digest; a code byte or an added load command does not', { skip: !haveMachO && 'needs lld (ld64.lld) and llvm-mc' }, async () => {
  const dir = tmpdir('pg-macho-');
  const file = linkMachO(dir, 'prog', false);
  const { manifest, app, entry } = await codeOf(file);
  const bin = path.join(app, 'bin');
  signInPlace(bin);
  const otool = ['llvm-otool', 'llvm-otool-14'].find(onPath);
  if (otool) assert.match(sh(otool, ['-l', bin]).stdout, /LC_CODE_SIGNATURE/, 'otool reads the hand-signed file and sees the signature command');
  assert.deepEqual((await m.verifyApp(app, manifest)).differences, [], 'a signed-in-place file matches the manifest made before');
  flipByte(bin, entry.code[0].offset + 1);
  const r = await m.verifyApp(app, manifest);
  assert.equal(r.differences[0]?.reason, 'content');
  assert.deepEqual(r.differences[0].code, [{ name: '__TEXT,__text', offset: entry.code[0].offset, size: entry.code[0].size }], 'located to the section');
  flipByte(bin, entry.code[0].offset + 1);
  // An extra load command (what injection tools add: here an LC_RPATH in the free header padding)
  // is not something signing does: covered.
  const b = fs.readFileSync(bin);
  const at = 32 + b.readUInt32LE(20);
  assert.ok(b.subarray(at, at + 16).every((x) => x === 0), 'room for one more command');
  b.writeUInt32LE(0x8000001c, at);
  b.writeUInt32LE(16, at + 4);
  b.writeUInt32LE(12, at + 8);
  b.write('@x', at + 12, 'latin1');
  b.writeUInt32LE(b.readUInt32LE(16) + 1, 16);
  b.writeUInt32LE(b.readUInt32LE(20) + 16, 20);
  fs.writeFileSync(bin, b);
  assert.equal((await m.verifyApp(app, manifest)).differences[0]?.reason, 'content', 'an added load command is a difference');
});

test('universal Mach-O: each slice signed in place and the file re-made keeps the digest; a code byte in the arm64 slice does not', { skip: !(haveMachO && lipo) && 'needs lld (ld64.lld), llvm-mc and llvm-lipo' }, async () => {
  const dir = tmpdir('pg-fat-');
  const x86 = linkMachO(dir, 'x86', false);
  const arm = linkMachO(dir, 'arm', false, 'mov w0, #42\n  ret', 'arm64');
  const fat = path.join(dir, 'fat');
  sh(lipo, ['-create', x86, arm, '-output', fat]);
  const { manifest, app, entry } = await codeOf(fat, 'macho-fat-codesign');
  assert.deepEqual(entry.code.map((c) => c.name), ['x86_64 __TEXT,__text', 'arm64 __TEXT,__text'], 'code of both slices, named by CPU');
  // Sign each slice as codesign does, then make the universal file again (slices grow and move).
  signInPlace(x86);
  signInPlace(arm);
  sh(lipo, ['-create', x86, arm, '-output', path.join(app, 'bin')]);
  assert.notEqual(fs.statSync(path.join(app, 'bin')).size, entry.size, 'the signed universal file differs in size');
  assert.deepEqual((await m.verifyApp(app, manifest)).differences, [], 'both slices signed: the manifest made before holds');
  const armCode = entry.code[1];
  const b = fs.readFileSync(path.join(app, 'bin'));
  const at = b.indexOf(Buffer.from([0x40, 0x05, 0x80, 0x52])); // mov w0, #42
  assert.ok(at > 0, 'the arm64 instruction is in the file');
  flipByte(path.join(app, 'bin'), at);
  const r = await m.verifyApp(app, manifest);
  assert.equal(r.differences[0]?.reason, 'content', `a changed arm64 code byte is a difference (code at 0x${armCode.offset.toString(16)})`);
});
