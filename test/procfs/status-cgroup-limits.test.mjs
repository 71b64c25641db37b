// /proc/<pid>/status, cgroup and limits parsers: captured real text, live reads, fast-check fuzzing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseStatus, readStatus, readStatusSync } from '../../dist/procfs/status.js';
import { parseCgroup, readCgroup } from '../../dist/procfs/cgroup.js';
import { parseLimits, coreLimit, readLimits } from '../../dist/procfs/limits.js';
import { ProcfsParseError, ProcfsUnreadableError } from '../../dist/errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name) => fs.readFileSync(path.join(here, '..', 'fixtures', 'procfs', name), 'utf8');

function onlyParseError(fn, what) {
  try {
    return fn();
  } catch (err) {
    assert.ok(err instanceof ProcfsParseError, `${what}: threw ${err?.constructor?.name}: ${err?.message}`);
    assert.ok(Number.isInteger(err.line) && err.line >= 1, `${what}: line number`);
    return undefined;
  }
}

function mutate(s, ops) {
  for (const op of ops) {
    const at = s.length === 0 ? 0 : op.at % (s.length + 1);
    if (op.kind === 'delete') s = s.slice(0, at) + s.slice(at + op.ch.length);
    else if (op.kind === 'insert') s = s.slice(0, at) + op.ch + s.slice(at);
    else if (op.kind === 'replace') s = s.slice(0, at) + op.ch + s.slice(at + op.ch.length);
    else s = s.slice(0, at);
  }
  return s;
}
const mutations = fc.array(
  fc.record({
    kind: fc.constantFrom('delete', 'insert', 'replace', 'truncate'),
    at: fc.nat(),
    ch: fc.string({ unit: fc.constantFrom(...'0123456789abcdefxz:\t\n ()/,=-'), minLength: 1, maxLength: 3 }),
  }),
  { minLength: 1, maxLength: 3 },
);

test('status: real root process', () => {
  const s = parseStatus(fixture('status-root-cat.txt'));
  assert.equal(s.name, 'cat');
  assert.deepEqual([s.state, s.stateText], ['R', 'running']);
  assert.equal(s.tracerPid, 0);
  assert.deepEqual(s.uid, { real: 0, effective: 0, saved: 0, fs: 0 });
  assert.deepEqual([s.seccomp, s.seccompFilters, s.noNewPrivs], [0, 0, false]);
  assert.equal(s.capEff, 0x1fffeffffffn, 'CapEff as bigint');
  assert.equal(s.capBnd, 0x1fffeffffffn);
  assert.equal(s.capAmb, 0n);
});

test('status: unprivileged, seccomp + NoNewPrivs + dropped bounding caps, traced, odd name, old kernel', () => {
  const nobody = parseStatus(fixture('status-nobody.txt'));
  assert.deepEqual(nobody.uid, { real: 65534, effective: 65534, saved: 65534, fs: 65534 });
  assert.equal(nobody.capEff, 0n, 'no effective caps for nobody');

  const sc = parseStatus(fixture('status-seccomp-nnp.txt'));
  assert.deepEqual([sc.seccomp, sc.seccompFilters, sc.noNewPrivs], [2, 2, true], 'filter mode with 2 filters');
  assert.equal(sc.capBnd & (1n << 13n), 0n, 'CAP_NET_RAW dropped from bounding set');
  assert.equal(sc.capBnd & (1n << 21n), 0n, 'CAP_SYS_ADMIN dropped from bounding set');
  assert.equal(sc.capEff & (1n << 21n), 1n << 21n, 'effective set still has CAP_SYS_ADMIN');

  const tr = parseStatus(fixture('status-traced.txt'));
  assert.ok(tr.tracerPid > 0, 'traced process has a TracerPid');
  assert.deepEqual([tr.name, tr.state], ['sleep', 'S']);

  const odd = parseStatus(fixture('status-odd-name.txt'));
  assert.equal(odd.name, 'a b\tc\\d\ne:f', 'escaped comm decoded');

  const old = parseStatus(fixture('status-old-kernel.txt'));
  assert.deepEqual([old.seccompFilters, old.capAmb, old.noNewPrivs], [null, null, null], 'absent optional fields are null');
  assert.equal(old.seccomp, 0, 'Seccomp still present');
});

test('status: malformed text gives ProcfsParseError', () => {
  const good = fixture('status-root-cat.txt');
  const cases = [
    [good.replace('TracerPid:\t0', 'TracerPid:\t-1'), 'negative TracerPid'],
    [good.replace('TracerPid:\t0\n', ''), 'missing TracerPid'],
    [good.replace('Seccomp:\t0', 'Seccomp:\t3'), 'seccomp mode 3'],
    [good.replace('NoNewPrivs:\t0', 'NoNewPrivs:\t2'), 'NoNewPrivs 2'],
    [good.replace('CapEff:\t000001fffeffffff', 'CapEff:\t1fffeffffff'), 'short cap mask'],
    [good.replace('Uid:\t0\t0\t0\t0', 'Uid:\t0\t0\t0'), 'three uids'],
    [good.replace('State:\tR (running)', 'State:\t??'), 'bad state'],
    [good + 'garbage line\n', 'line without colon'],
    [good + 'TracerPid:\t5\n', 'duplicate key'],
    ['', 'empty'],
  ];
  for (const [text, what] of cases) assert.throws(() => parseStatus(text), ProcfsParseError, what);
});

test('status: live read of this process and a bad pid', async () => {
  for (const s of [readStatusSync(), await readStatus(process.pid)]) {
    assert.equal(s.pid, process.pid, 'own pid');
    assert.equal(s.uid.real, process.getuid(), 'own uid');
    assert.equal(s.tracerPid, 0, 'test runner is not traced');
  }
  await assert.rejects(readStatus(2 ** 30), ProcfsUnreadableError);
});

test('status fuzz: arbitrary and mutated text only throws ProcfsParseError', () => {
  const texts = ['status-root-cat.txt', 'status-seccomp-nnp.txt', 'status-traced.txt', 'status-odd-name.txt'].map(fixture);
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.tuple(fc.constantFrom(...texts), mutations).map(([t, m]) => mutate(t, m))), (s) => {
      const r = onlyParseError(() => parseStatus(s), JSON.stringify(s.slice(0, 80)));
      if (r) {
        assert.ok(Number.isInteger(r.tracerPid) && r.tracerPid >= 0, 'tracerPid non-negative integer');
        assert.ok([0, 1, 2, null].includes(r.seccomp), 'seccomp mode range');
        for (const k of ['capInh', 'capPrm', 'capEff', 'capBnd']) assert.equal(typeof r[k], 'bigint', k);
      }
    }),
    { numRuns: 3000 },
  );
});

test('cgroup: hybrid (captured), v1, v2, deleted and paths with colons', () => {
  const h = parseCgroup(fixture('cgroup-self.txt'));
  assert.equal(h.version, 'hybrid');
  assert.equal(h.unifiedPath, '/');
  const mem = h.entries.find((e) => e.controllers.includes('memory'));
  assert.ok(mem && mem.path.startsWith('/process_api/'), 'memory hierarchy path');
  assert.deepEqual(h.entries.find((e) => e.hierarchyId === 9).controllers, ['name=systemd']);

  const v1 = parseCgroup(fixture('cgroup-v1-handcrafted.txt'));
  assert.deepEqual([v1.version, v1.unifiedPath], ['v1', null]);
  assert.deepEqual(v1.entries[0].controllers, ['net_cls', 'net_prio']);

  const v2 = parseCgroup(fixture('cgroup-v2-handcrafted.txt'));
  assert.equal(v2.version, 'v2');
  assert.equal(v2.unifiedPath, '/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.x:y z.scope');

  const del = parseCgroup(fixture('cgroup-v2-deleted-handcrafted.txt'));
  assert.deepEqual([del.entries[0].path, del.entries[0].deleted], ['/system.slice/gone.service', true]);

  for (const [bad, what] of [
    ['', 'empty'],
    ['0:/x\n', 'one colon'],
    ['x::/\n', 'bad id'],
    ['0:cpu:/\n', 'unified with controllers'],
    ['3::/\n', 'v1 without controllers'],
    ['0::relative\n', 'relative path'],
    ['0::/\n0::/a\n', 'duplicate id'],
    ['4:mem ory:/\n', 'bad controller'],
  ]) {
    assert.throws(() => parseCgroup(bad), ProcfsParseError, what);
  }
});

test('cgroup: live read and fuzz', async () => {
  const live = await readCgroup();
  assert.ok(live.entries.length > 0, 'this process is in some cgroup');
  await assert.rejects(readCgroup(2 ** 30), ProcfsUnreadableError);
  const texts = ['cgroup-self.txt', 'cgroup-v1-handcrafted.txt', 'cgroup-v2-handcrafted.txt'].map(fixture);
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.tuple(fc.constantFrom(...texts), mutations).map(([t, m]) => mutate(t, m))), (s) => {
      const r = onlyParseError(() => parseCgroup(s), JSON.stringify(s.slice(0, 80)));
      if (r) assert.ok(r.entries.every((e) => e.path.startsWith('/')), 'paths absolute');
    }),
    { numRuns: 3000 },
  );
});

test('limits: captured text, live read, malformed, fuzz', async () => {
  const l = parseLimits(fixture('limits-self.txt'));
  assert.deepEqual(coreLimit(l), { soft: '0', hard: 'unlimited' });
  assert.deepEqual(l['Max nice priority'], { soft: '0', hard: '0', units: '' }, 'no units column');
  assert.equal(l['Max stack size'].units, 'bytes');
  assert.equal(Object.keys(l).length, 16);

  const live = coreLimit(await readLimits());
  assert.ok(live && /^(unlimited|\d+)$/.test(live.soft), 'live core limit parsed');
  await assert.rejects(readLimits(2 ** 30), ProcfsUnreadableError);

  const good = fixture('limits-self.txt');
  for (const [bad, what] of [
    ['', 'empty'],
    [good.replace('Limit ', 'Limits'), 'bad header'],
    [good.replace('Max core file size        0 ', 'Max core file size        x '), 'bad value'],
    [good + 'Max core file size        0                    unlimited            bytes\n', 'duplicate'],
    [good.replace('8388608              unlimited', '99999999999999999999 unlimited'), 'beyond 64 bits'],
  ]) {
    assert.throws(() => parseLimits(bad), ProcfsParseError, what);
  }
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), mutations.map((m) => mutate(good, m))), (s) => {
      onlyParseError(() => parseLimits(s), JSON.stringify(s.slice(0, 80)));
    }),
    { numRuns: 2000 },
  );
});
