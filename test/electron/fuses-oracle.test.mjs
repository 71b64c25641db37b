// readFuseWires / checkFuses against @electron/fuses (Electron's own package) as the oracle:
// synthetic binaries laid out as Electron's build lays the wire out (build/fuses/build.py:
// `kFuseWire[] = { sentinel, fuse_version (0x01), fuse_wire_length, initial_config }` in the
// middle of other bytes), fuses flipped by @electron/fuses' flipFuses, read back by both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { flipFuses, getCurrentFuseWire, pathToFuseFile, FuseV1Options, FuseVersion } from '@electron/fuses';
import { readFuseWires, checkFuses, fuseFilePath, FUSE_SENTINEL, FUSE_V1_NAMES } from '../../dist/electron/fuses.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procguard-fuses-oracle-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

// Electron's shipped defaults (build/fuses/fuses.json5, v1, nine fuses).
const ELECTRON_DEFAULTS = '101100011';
const BYTE_STATE = { 0x30: 'disabled', 0x31: 'enabled', 0x72: 'removed' };

/** One architecture slice: random code bytes with kFuseWire somewhere inside (never a stray sentinel). */
function slice(initial = ELECTRON_DEFAULTS, { before = 40_000, after = 30_000 } = {}) {
  const wire = Buffer.concat([Buffer.from(FUSE_SENTINEL, 'ascii'), Buffer.from([0x01, initial.length]), Buffer.from(initial, 'ascii')]);
  return Buffer.concat([crypto.randomBytes(before), wire, crypto.randomBytes(after)]);
}
function write(buf, name = `electron${n++}`) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, buf);
  return file;
}

/** @electron/fuses' view of the first wire: index -> state name. */
async function oracle(file) {
  const cfg = await getCurrentFuseWire(file);
  assert.equal(cfg.version, FuseVersion.V1, `@electron/fuses reads version "1" in ${file}`);
  const out = [];
  for (let i = 0; cfg[i] !== undefined; i++) out.push(BYTE_STATE[cfg[i]] ?? `byte 0x${cfg[i].toString(16)}`);
  return out;
}

test('fuses oracle: every fuse in every state, written by flipFuses, reads back as @electron/fuses reads it', async () => {
  const names = FUSE_V1_NAMES;
  // Each fuse on and off while the others take the opposite value, plus all-on and all-off.
  const configs = [Object.fromEntries(names.map((nm) => [FuseV1Options[nm], true])), Object.fromEntries(names.map((nm) => [FuseV1Options[nm], false]))];
  for (let i = 0; i < names.length; i++) {
    for (const v of [true, false]) configs.push(Object.fromEntries(names.map((nm, j) => [FuseV1Options[nm], j === i ? v : !v])));
  }
  for (const config of configs) {
    const file = write(slice());
    const flipped = await flipFuses(file, { version: FuseVersion.V1, ...config });
    assert.equal(flipped, 1, 'flipFuses finds one wire');
    const want = await oracle(file);
    assert.deepEqual(want, names.map((nm) => (config[FuseV1Options[nm]] ? 'enabled' : 'disabled')), 'the oracle sees what was flipped');
    const wires = await readFuseWires(file, { chunkSize: 4096 });
    assert.equal(wires.length, 1, 'readFuseWires finds the one wire');
    assert.equal(wires[0].version, 1, 'version 1 (the byte 0x01)');
    assert.equal(wires[0].offset, 40_000, 'the sentinel offset');
    assert.deepEqual(wires[0].fuses.map((f) => f.state), want, `readFuseWires agrees with getCurrentFuseWire for ${JSON.stringify(config)}`);
  }
});

test('fuses oracle: the untouched Electron defaults, a removed fuse, a shorter and a longer wire', async () => {
  for (const initial of [ELECTRON_DEFAULTS, '1r1100011', 'rrrrrrrrr', '1011', '1011000110r1']) {
    const file = write(slice(initial));
    const want = await oracle(file);
    const [wire] = await readFuseWires(file);
    assert.deepEqual(wire.fuses.map((f) => f.state), want, `wire ${initial}: readFuseWires agrees with @electron/fuses`);
    assert.deepEqual(wire.fuses.map((f) => f.name), [...FUSE_V1_NAMES, 'fuse9', 'fuse10', 'fuse11'].slice(0, initial.length), `wire ${initial}: names by index`);
  }
  // flipFuses leaves a removed fuse alone when it is not configured; both readers say 'removed'.
  const file = write(slice('1r1100011'));
  await flipFuses(file, { version: FuseVersion.V1, [FuseV1Options.RunAsNode]: false });
  const want = await oracle(file);
  assert.deepEqual(want.slice(0, 2), ['disabled', 'removed'], 'the oracle flipped RunAsNode and kept the removed fuse');
  assert.deepEqual((await readFuseWires(file))[0].fuses.map((f) => f.state), want, 'readFuseWires agrees after flipping next to a removed fuse');
  const { observations } = await checkFuses(file, { RunAsNode: false, EnableCookieEncryption: true }, { platform: 'linux' });
  assert.deepEqual(observations.map((o) => [o.kind, o.evidence.fuse, o.evidence.actual]), [['fuse-mismatch', 'EnableCookieEncryption', 'removed']],
    'a removed fuse expected enabled is reported as removed');
  // Configuring a removed fuse: @electron/fuses warns ("a noop") but writes the byte; the readers agree on what is there.
  const forced = write(slice('1r1100011'));
  const warn = console.warn;
  const warned = [];
  console.warn = (m) => warned.push(m);
  try {
    await flipFuses(forced, { version: FuseVersion.V1, [FuseV1Options.EnableCookieEncryption]: true });
  } finally {
    console.warn = warn;
  }
  assert.match(warned.join('\n'), /marked as removed/, '@electron/fuses warns about the removed fuse');
  assert.deepEqual((await readFuseWires(forced))[0].fuses.map((f) => f.state), await oracle(forced), 'readFuseWires agrees with the oracle on a forced removed fuse');
});

test('fuses oracle: a universal binary (two slices) is flipped in both and read back wire by wire', async () => {
  const a = slice(ELECTRON_DEFAULTS, { before: 10_000, after: 20_000 });
  const b = slice(ELECTRON_DEFAULTS, { before: 5_000, after: 7_000 });
  const file = write(Buffer.concat([a, b]));
  const config = { version: FuseVersion.V1, [FuseV1Options.RunAsNode]: false, [FuseV1Options.OnlyLoadAppFromAsar]: true, [FuseV1Options.EnableNodeCliInspectArguments]: false };
  assert.equal(await flipFuses(file, config), 2, 'flipFuses writes both slices');
  const wires = await readFuseWires(file, { chunkSize: 1000 });
  assert.deepEqual(wires.map((w) => w.offset), [10_000, a.length + 5_000], 'both wires found at their offsets');
  // The oracle reads the first wire of a file: give it each slice as its own file.
  const whole = fs.readFileSync(file);
  for (const [i, part] of [whole.subarray(0, a.length), whole.subarray(a.length)].entries()) {
    const want = await oracle(write(part));
    assert.deepEqual(wires[i].fuses.map((f) => f.state), want, `wire ${i} agrees with @electron/fuses`);
  }
  const { observations } = await checkFuses(file, { RunAsNode: false, OnlyLoadAppFromAsar: true, EnableNodeOptionsEnvironmentVariable: false }, { platform: 'linux' });
  assert.deepEqual(observations.map((o) => o.key).sort(), ['launch:fuse:EnableNodeOptionsEnvironmentVariable@10000', `launch:fuse:EnableNodeOptionsEnvironmentVariable@${a.length + 5_000}`].sort(),
    'one mismatch per wire, keyed by the wire offset');
});

test('fuses oracle: fuseFilePath resolves each platform\'s file as @electron/fuses does', () => {
  const darwin = [
    '/Applications/Foo.app',
    '/Applications/Foo.app/Contents/MacOS/Foo',
    '/Users/me/out/My App-darwin-arm64/My App.app/Contents/MacOS/My App',
    '/Users/me/.app/bin/electron',
    '/opt/my.app.win/electron',
  ];
  for (const p of darwin) {
    assert.equal(fuseFilePath(p, 'darwin'), pathToFuseFile(p), `darwin ${p}: same file as @electron/fuses`);
  }
  assert.equal(fuseFilePath('/Applications/Foo.app/Contents/MacOS/Foo', 'darwin'), '/Applications/Foo.app/Contents/Frameworks/Electron Framework.framework/Electron Framework',
    'process.execPath of a macOS app resolves to the framework binary');
  for (const [platform, p] of [['linux', '/opt/foo/foo'], ['linux', '/tmp/x.app/Contents/MacOS/x'], ['win32', 'C:\\Program Files\\Foo\\Foo.exe'], ['freebsd', '/usr/local/foo']]) {
    assert.equal(fuseFilePath(p, platform), p, `${platform}: the executable itself holds the wire`);
  }
  assert.throws(() => fuseFilePath('', 'linux'), TypeError, 'an empty path is a TypeError');
});

test('fuses oracle: checkFuses on a macOS bundle layout reads the framework binary, not the executable', async () => {
  const app = path.join(dir, 'Demo.app');
  const exe = path.join(app, 'Contents', 'MacOS', 'Demo');
  const fw = path.join(app, 'Contents', 'Frameworks', 'Electron Framework.framework', 'Electron Framework');
  fs.mkdirSync(path.dirname(exe), { recursive: true });
  fs.mkdirSync(path.dirname(fw), { recursive: true });
  fs.writeFileSync(exe, crypto.randomBytes(50_000)); // the stub executable has no wire
  fs.writeFileSync(fw, slice());
  await flipFuses(exe, { version: FuseVersion.V1, [FuseV1Options.RunAsNode]: false }); // @electron/fuses resolves the same file
  const { wires, observations } = await checkFuses(exe, { RunAsNode: false, OnlyLoadAppFromAsar: true }, { platform: 'darwin' });
  assert.equal(wires.length, 1, 'the wire is found in the framework binary');
  assert.deepEqual(wires[0].fuses.map((f) => f.state), await oracle(app), 'agrees with @electron/fuses on the .app');
  assert.deepEqual(observations.map((o) => [o.evidence.fuse, o.path]), [['OnlyLoadAppFromAsar', fw]], 'observations name the framework file');
  await assert.rejects(checkFuses(exe, { RunAsNode: false }, { platform: 'linux' }), { code: 'ERR_FUSE_SENTINEL_MISSING' },
    'read as a Linux executable, the stub has no wire (what every macOS check said before)');
});
