import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { readFuseWires, checkFuses, FuseWireError, FUSE_SENTINEL, FUSE_V1_NAMES, RECOMMENDED_FUSES } from '../../dist/electron/fuses.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procguard-fuses-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Random bytes with a fuse wire written at `offset` (the random bytes never contain the sentinel). */
function binary({ size = 64 * 1024, offset, wire = '101100011', version = 0x01, length, truncateAfter }) {
  const buf = crypto.randomBytes(size);
  const w = Buffer.concat([Buffer.from(FUSE_SENTINEL, 'ascii'), Buffer.from([version, length ?? wire.length]), Buffer.from(wire, 'ascii')]);
  let out = buf;
  if (offset !== undefined) {
    if (offset + w.length > buf.length) out = Buffer.concat([buf, Buffer.alloc(offset + w.length - buf.length)]);
    w.copy(out, offset);
  }
  if (truncateAfter !== undefined) out = out.subarray(0, truncateAfter);
  const file = path.join(dir, `bin${n++}`);
  fs.writeFileSync(file, out);
  return file;
}

const expectedStates = (wire) => [...wire].map((c) => ({ '0': 'disabled', '1': 'enabled', r: 'removed' })[c]);

test('fuses: the wire is found at any offset, including straddling every chunk boundary', async () => {
  const chunk = 4096;
  const offsets = [0, 17, chunk - 1, chunk - 16, chunk - 32, chunk - 33, chunk, 3 * chunk - 5, 64 * 1024 - 60];
  for (const offset of offsets) {
    const file = binary({ offset, wire: '10r100011' });
    const wires = await readFuseWires(file, { chunkSize: chunk });
    assert.equal(wires.length, 1, `one wire expected at offset ${offset}`);
    assert.equal(wires[0].offset, offset, `wire offset should be ${offset}`);
    assert.deepEqual(wires[0].fuses.map((f) => f.state), expectedStates('10r100011'), `states at offset ${offset}`);
    assert.deepEqual(wires[0].fuses.map((f) => f.name), [...FUSE_V1_NAMES], 'fuses are named in v1 order');
  }
  // Tiny chunks: the sentinel is spread over many reads.
  const file = binary({ offset: 1000, wire: '0000' });
  const [w] = await readFuseWires(file, { chunkSize: 7 });
  assert.equal(w.offset, 1000, 'found with 7-byte chunks');
});

test('fuses: unknown trailing fuses are named by index; two wires are both reported', async () => {
  const [w] = await readFuseWires(binary({ offset: 500, wire: '1011000111' }));
  assert.equal(w.fuses.length, 10, 'ten fuses read');
  assert.deepEqual(w.fuses[9], { index: 9, name: 'fuse9', state: 'enabled' }, 'a fuse newer than the name list gets fuse<index>');
  const file = binary({ offset: 100, wire: '0' });
  const buf = fs.readFileSync(file);
  Buffer.concat([Buffer.from(FUSE_SENTINEL), Buffer.from([0x01, 1, 0x31])]).copy(buf, 9000);
  fs.writeFileSync(file, buf);
  const wires = await readFuseWires(file, { chunkSize: 1024 });
  assert.deepEqual(wires.map((x) => [x.offset, x.fuses[0].state]), [[100, 'disabled'], [9000, 'enabled']], 'both wires (universal binary) reported');
});

test('fuses: typed errors for a missing, truncated, unknown-version or malformed wire', async () => {
  const cases = [
    [binary({}), 'sentinel-missing', 'ERR_FUSE_SENTINEL_MISSING'],
    [binary({ offset: 2000, truncateAfter: 2000 + 32 + 1 }), 'truncated', 'ERR_FUSE_TRUNCATED'],
    [binary({ offset: 2000, wire: '1111', truncateAfter: 2000 + 32 + 2 + 2 }), 'truncated', 'ERR_FUSE_TRUNCATED'],
    [binary({ offset: 2000, version: 0x02 }), 'unsupported-version', 'ERR_FUSE_UNSUPPORTED_VERSION'],
    // The ASCII digit '1' is not version 1 (Electron writes the byte value 1).
    [binary({ offset: 2000, version: 0x31 }), 'unsupported-version', 'ERR_FUSE_UNSUPPORTED_VERSION'],
    [binary({ offset: 2000, wire: '10x1' }), 'malformed', 'ERR_FUSE_MALFORMED'],
    [path.join(dir, 'does-not-exist'), 'unreadable', 'ERR_FUSE_UNREADABLE'],
  ];
  for (const [file, reason, code] of cases) {
    await assert.rejects(readFuseWires(file, { chunkSize: 1024 }), (err) => {
      assert.ok(err instanceof FuseWireError, `${reason}: should be a FuseWireError, got ${err}`);
      assert.equal(err.reason, reason, `reason should be ${reason}`);
      assert.equal(err.code, code, `code should be ${code}`);
      assert.equal(err.path, file, 'the error names the file');
      return true;
    });
  }
  await assert.rejects(readFuseWires(binary({ offset: 0 }), { chunkSize: 0 }), RangeError, 'chunkSize 0 is a RangeError');
});

test('fuses: checkFuses reports each mismatch against the expected configuration', async () => {
  // Electron's shipped defaults: RunAsNode, cookie enc off, NODE_OPTIONS and inspect on, asar checks off.
  const stock = binary({ offset: 12345, wire: '101100011' });
  const { wires, observations } = await checkFuses(stock, RECOMMENDED_FUSES);
  assert.equal(wires.length, 1, 'one wire');
  assert.deepEqual(observations.map((o) => o.evidence.fuse).sort(), [
    'EnableEmbeddedAsarIntegrityValidation', 'EnableNodeCliInspectArguments', 'EnableNodeOptionsEnvironmentVariable', 'OnlyLoadAppFromAsar', 'RunAsNode',
  ], 'every recommended fuse differs on a stock binary');
  const runAsNode = observations.find((o) => o.evidence.fuse === 'RunAsNode');
  assert.equal(runAsNode.kind, 'fuse-mismatch', 'kind is fuse-mismatch');
  assert.equal(runAsNode.key, 'launch:fuse:RunAsNode', 'stable key');
  assert.equal(runAsNode.detail, 'fuse RunAsNode is enabled, expected disabled', 'detail says actual and expected');

  const hardened = binary({ offset: 99, wire: '010011001' });
  assert.deepEqual((await checkFuses(hardened, RECOMMENDED_FUSES)).observations, [], 'a hardened binary matches');

  const old = binary({ offset: 99, wire: '0100' });
  const missing = (await checkFuses(old, { OnlyLoadAppFromAsar: true, RunAsNode: false })).observations;
  assert.deepEqual(missing.map((o) => [o.kind, o.evidence.fuse]), [['fuse-missing', 'OnlyLoadAppFromAsar']], 'a fuse beyond the wire is fuse-missing');

  await assert.rejects(checkFuses(hardened, { RunAsNoed: false }), { name: 'TypeError', message: 'checkFuses: unknown fuse name "RunAsNoed"' });
  await assert.rejects(checkFuses(hardened, { RunAsNode: 'off' }), { name: 'TypeError', message: 'checkFuses: expected.RunAsNode must be a boolean' });
});
