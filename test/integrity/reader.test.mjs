// The safe reader does not hang on one syscall: where process_vm_readv is refused (EPERM or
// ENOSYS from a seccomp profile here; ENOSYS natively under qemu-user), code is read through the
// /proc/self/mem fd opened at prepare(), which still fails cleanly on unmapped memory; where neither
// works, the checker says so (an ERR_SCANNER error and coverage.reader 'none'), never a pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children', 'reader-child.mjs');
const isRoot = process.getuid() === 0;
const NOBODY = 65534;

function run(args, opts = {}) {
  const r = spawnSync(process.execPath, [child, ...args], { encoding: 'utf8', timeout: 240000, ...opts });
  assert.equal(r.status, 0, `child ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

for (const name of ['EPERM', 'ENOSYS']) {
  test(`process_vm_readv refused with ${name}: code is read through /proc/self/mem and a flipped bit is found`, () => {
    const out = run(['fallback', String(os.constants.errno[name])]);
    assert.ok(out.seccomp === 'installed' || out.seccomp === 'ENOSYS', `seccomp filter: ${out.seccomp}`);
    assert.equal(out.coverage.reader, 'proc-mem', `reader: ${JSON.stringify(out.readerState)}`);
    assert.equal(out.readerState.errno, out.seccomp === 'installed' ? os.constants.errno[name] : os.constants.errno.ENOSYS,
      `the refusal is remembered: ${JSON.stringify(out.readerState)}`);
    assert.ok(out.coverage.hashedBytes > 1 << 20, `code must be hashed through the fallback: ${JSON.stringify(out.coverage)}`);
    assert.equal(out.unmappedRead, null, 'an unmapped address reads as null through /proc/self/mem (EIO), not a fault');
    assert.deepEqual(out.modified, [out.libPath], 'the bit flip is found with the fallback reader');
  });
}

test('neither reader works: the check is a checker error with coverage.reader none, not a clean pass', () => {
  // As root, DAC lets a non-dumpable process still open its /proc/self/mem: run as nobody.
  const out = run(['none', String(os.constants.errno.EPERM)], isRoot ? { uid: NOBODY, gid: NOBODY } : {});
  assert.ok(out.seccomp === 'installed' || out.seccomp === 'ENOSYS', `seccomp filter: ${out.seccomp}`);
  assert.equal(out.readerState.reader, 'none', JSON.stringify(out.readerState));
  assert.equal(out.readerState.memFdOpen, false);
  assert.equal(out.coverage.reader, 'none', `status coverage: ${JSON.stringify(out.coverage)}`);
  assert.equal(out.coverage.hashedBytes, 0);
  const errs = out.checkerErrors.filter((e) => e.subsystem === 'code');
  assert.equal(errs.length, 1, `one code checker error expected: ${JSON.stringify(out.checkerErrors)}`);
  assert.equal(errs[0].code, 'ERR_SCANNER');
  assert.match(errs[0].message, /no safe memory reader: process_vm_readv: .*\/proc\/self\/mem is not open/);
  assert.equal(out.findings, 0, 'a checker failure is not a finding');
});
