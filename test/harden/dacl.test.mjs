// The custom Windows DACL option: validation messages, aliases, masks and canonical order.
// Pure TypeScript, so it runs on every OS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  normalizeDacl, DEFAULT_PROCESS_DACL, PROCESS_ACCESS, hasOwnerRightsEntry, grantsMemoryAccess,
} from '../../dist/harden-dacl.js';

const LIMITED = 0x1000 | 0x1 | 0x100000;

test('the default DACL grants USER and OWNER RIGHTS only query-limited | terminate | synchronize', () => {
  assert.deepEqual(normalizeDacl(DEFAULT_PROCESS_DACL), [
    { allow: true, sid: 'USER', mask: LIMITED },
    { allow: true, sid: 'S-1-3-4', mask: LIMITED },
  ]);
  assert.equal(LIMITED, 0x101001, 'PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_TERMINATE | SYNCHRONIZE');
  assert.ok(hasOwnerRightsEntry(normalizeDacl(DEFAULT_PROCESS_DACL)));
  assert.equal(grantsMemoryAccess(normalizeDacl(DEFAULT_PROCESS_DACL)), false);
});

test('deny entries come before allow entries, otherwise in the given order', () => {
  const out = normalizeDacl([
    { type: 'allow', sid: 'USER', access: ['query-limited'] },
    { type: 'deny', sid: 'S-1-5-21-1-2-3-1001', access: ['vm-read', 'vm-write'] },
    { type: 'allow', sid: 'SYSTEM', access: 0x1fffff },
    { type: 'deny', sid: 'OWNER_RIGHTS', access: ['write-dac'] },
  ]);
  assert.deepEqual(out, [
    { allow: false, sid: 'S-1-5-21-1-2-3-1001', mask: 0x30 },
    { allow: false, sid: 'S-1-3-4', mask: 0x40000 },
    { allow: true, sid: 'USER', mask: 0x1000 },
    { allow: true, sid: 'S-1-5-18', mask: 0x1fffff },
  ]);
  assert.equal(grantsMemoryAccess(out), true, 'SYSTEM gets PROCESS_ALL_ACCESS here');
});

test('access names map to winnt.h values', () => {
  assert.equal(PROCESS_ACCESS['vm-read'], 0x10);
  assert.equal(PROCESS_ACCESS['query-limited'], 0x1000);
  assert.equal(PROCESS_ACCESS.all, 0x1fffff);
  assert.equal(normalizeDacl([{ type: 'allow', sid: 'USER', access: ['all'] }])[0].mask, 0x1fffff);
  assert.equal(normalizeDacl([{ type: 'allow', sid: 'USER', access: 0x101001 }])[0].mask, 0x101001);
});

test('bad DACL entries raise exact TypeError/RangeError messages', () => {
  const bad = [
    ['nope', TypeError, 'harden: options.dacl must be an array'],
    [[], RangeError, 'harden: options.dacl must not be empty (an empty DACL denies everyone, even terminate)'],
    [[null], TypeError, 'harden: options.dacl[0] must be an object'],
    [[{ type: 'permit', sid: 'USER', access: 1 }], RangeError, "harden: options.dacl[0].type must be 'allow' or 'deny'"],
    [[{ type: 'allow', sid: 5, access: 1 }], TypeError, 'harden: options.dacl[0].sid must be a string'],
    [[{ type: 'allow', sid: 'Everyone', access: 1 }], RangeError,
      'harden: options.dacl[0].sid "Everyone" is not a SID (expected "S-1-..." or one of USER, OWNER_RIGHTS, SYSTEM)'],
    [[{ type: 'allow', sid: 'S-1-5-4294967296', access: 1 }], RangeError,
      'harden: options.dacl[0].sid "S-1-5-4294967296" is not a SID (expected "S-1-..." or one of USER, OWNER_RIGHTS, SYSTEM)'],
    [[{ type: 'allow', sid: 'USER', access: 0 }], RangeError, 'harden: options.dacl[0].access mask must be an integer from 0x1 to 0x1FFFFF (PROCESS_ALL_ACCESS)'],
    [[{ type: 'allow', sid: 'USER', access: 1.5 }], RangeError, 'harden: options.dacl[0].access mask must be an integer from 0x1 to 0x1FFFFF (PROCESS_ALL_ACCESS)'],
    [[{ type: 'allow', sid: 'USER', access: 0x10000000 }], RangeError, 'harden: options.dacl[0].access mask must be an integer from 0x1 to 0x1FFFFF (PROCESS_ALL_ACCESS)'],
    [[{ type: 'allow', sid: 'USER', access: 'vm-read' }], TypeError,
      'harden: options.dacl[0].access must be an array of access right names or a number'],
    [[{ type: 'allow', sid: 'USER', access: [] }], RangeError, 'harden: options.dacl[0].access must not be empty'],
  ];
  for (const [input, cls, message] of bad) {
    assert.throws(() => normalizeDacl(input), (e) => e instanceof cls && e.message === message,
      `${JSON.stringify(input)} must throw ${cls.name}: ${message}`);
  }
  assert.throws(
    () => normalizeDacl([{ type: 'allow', sid: 'USER', access: ['query-limited'] }, { type: 'deny', sid: 'USER', access: ['peek'] }]),
    (e) => e instanceof RangeError && e.message.startsWith('harden: options.dacl[1].access: unknown access right "peek" (expected one of terminate, create-thread,'),
    'unknown access right names the entry index',
  );
});

test('OWNER_RIGHTS detection', () => {
  assert.equal(hasOwnerRightsEntry(normalizeDacl([{ type: 'allow', sid: 'USER', access: ['terminate'] }])), false);
  assert.equal(hasOwnerRightsEntry(normalizeDacl([{ type: 'allow', sid: 'S-1-3-4', access: ['terminate'] }])), true);
});

test('rightsBeyondLimited names every right past query-limited|terminate|synchronize, in mask order', async () => {
  const { rightsBeyondLimited } = await import('../../dist/harden-dacl.js');
  assert.deepEqual(rightsBeyondLimited(normalizeDacl(DEFAULT_PROCESS_DACL)), []);
  const ace = (access, type = 'allow') => normalizeDacl([{ type, sid: 'USER', access }]);
  assert.deepEqual(rightsBeyondLimited(ace(['terminate', 'suspend-resume', 'create-process', 'set-information', 'set-quota'])),
    ['create-process', 'set-quota', 'set-information', 'suspend-resume']);
  assert.deepEqual(rightsBeyondLimited(ace(['vm-read', 'write-dac'])), ['vm-read', 'write-dac']);
  assert.deepEqual(rightsBeyondLimited(ace(['suspend-resume'], 'deny')), [], 'a deny entry grants nothing');
  assert.deepEqual(rightsBeyondLimited(ace(0x001fffff)).length, 15, 'PROCESS_ALL_ACCESS: the 14 other named rights and the unnamed bits as one hex entry');
});
