// /proc/<pid>/maps parser: captured real text, handcrafted edge cases, live reads, and fast-check fuzzing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseMaps, formatMapsLine, readMaps, readMapsSync, mapsDev } from '../../dist/procfs/maps.js';
import { ProcfsParseError, ProcfsUnreadableError } from '../../dist/errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '..', 'fixtures', 'procfs');
const fixture = (name) => fs.readFileSync(path.join(fixtures, name), 'utf8');
const REAL = ['maps-cat.txt', 'maps-node.txt', 'maps-chromium.txt', 'maps-python-special.txt'];

// An independent oracle (one regex) for well-formed kernel lines, to cross-check the hand tokenizer.
const ORACLE = /^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-][ps]) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+) *(.*)$/;

function assertInvariants(e, where) {
  assert.ok(e.start < e.end, `${where}: start must be below end`);
  assert.match(e.perms, /^[r-][w-][x-][ps]$/, `${where}: perms`);
  assert.equal(e.read, e.perms[0] === 'r', `${where}: read flag`);
  assert.equal(e.write, e.perms[1] === 'w', `${where}: write flag`);
  assert.equal(e.exec, e.perms[2] === 'x', `${where}: exec flag`);
  assert.equal(e.shared, e.perms[3] === 's', `${where}: shared flag`);
  assert.ok(Number.isSafeInteger(e.offset) && e.offset >= 0, `${where}: offset must be a safe non-negative integer`);
  assert.match(e.dev, /^[0-9a-f]+:[0-9a-f]+$/, `${where}: dev`);
  assert.match(e.inode, /^\d+$/, `${where}: inode`);
  assert.ok(e.path === null || e.path.length > 0, `${where}: path is null or non-empty`);
  if (e.path === null) assert.equal(e.deleted, false, `${where}: no path cannot be deleted`);
}

function expectOnlyParseError(fn, what) {
  try {
    return fn();
  } catch (err) {
    assert.ok(err instanceof ProcfsParseError, `${what}: threw ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.code, 'ERR_PROCFS_PARSE', `${what}: error code`);
    assert.ok(Number.isInteger(err.line) && err.line >= 1, `${what}: error must carry a line number`);
    return undefined;
  }
}

test('real captured maps files parse completely and agree with an independent regex oracle', () => {
  for (const name of REAL) {
    const text = fixture(name);
    const lines = text.split('\n').filter((l) => l.length > 0);
    const entries = parseMaps(text, name);
    assert.equal(entries.length, lines.length, `${name}: one entry per line`);
    entries.forEach((e, i) => {
      const where = `${name}:${i + 1}`;
      assertInvariants(e, where);
      const m = ORACLE.exec(lines[i]);
      assert.ok(m, `${where}: oracle did not match a real line`);
      assert.equal(e.start, BigInt('0x' + m[1]), `${where}: start`);
      assert.equal(e.end, BigInt('0x' + m[2]), `${where}: end`);
      assert.equal(e.perms, m[3], `${where}: perms`);
      assert.equal(e.offset, parseInt(m[4], 16), `${where}: offset`);
      assert.equal(e.dev, m[5], `${where}: dev`);
      assert.equal(e.inode, m[6], `${where}: inode`);
      let name7 = m[7] === '' ? null : m[7];
      const deleted = name7 !== null && name7.endsWith(' (deleted)');
      if (deleted) name7 = name7.slice(0, -' (deleted)'.length);
      if (name7 !== null) name7 = name7.replaceAll('\\012', '\n');
      assert.equal(e.path, name7, `${where}: path`);
      assert.equal(e.deleted, deleted, `${where}: deleted`);
      assert.equal(e.pathText, m[7] === '' ? null : m[7].replaceAll('\\012', '\n'), `${where}: pathText is the printed name`);
    });
  }
});

test('real kernel text: spaces, newline escape, deleted files, memfd and shared mappings', () => {
  const entries = parseMaps(fixture('maps-python-special.txt'));
  const by = (suffix) => {
    const e = entries.find((x) => x.path !== null && x.path.endsWith(suffix));
    assert.ok(e, `no entry whose path ends with ${JSON.stringify(suffix)}`);
    return e;
  };
  const spaces = by('/lib with spaces.so');
  assert.ok(spaces.path.startsWith('/tmp/pg maps '), 'directory with a space kept');
  assert.equal(spaces.exec, true, 'r-x mapping is exec');
  assert.equal(by('/trailing space ').deleted, false, 'trailing space kept, not deleted');
  assert.equal(by('/new\nline.so').inode !== '0', true, 'escaped newline decoded to a real newline');
  const del = by('/deleted lib.so');
  assert.equal(del.deleted, true, 'deleted flag set');
  assert.ok(!del.path.includes('(deleted)'), 'deleted suffix stripped');
  const memfd = by('/memfd:jit code');
  assert.equal(memfd.deleted, true, 'memfd is shown as deleted');
  assert.equal(memfd.shared, true, 'memfd mapping is shared');
  assert.equal(memfd.perms, 'r-xs');
  assert.equal(by('/shared.dat').shared, true, 'MAP_SHARED file mapping');
  const heap = entries.find((e) => e.path === '[heap]');
  assert.ok(heap && heap.pseudo, '[heap] is a pseudo path');
  const anon = entries.filter((e) => e.path === null);
  assert.ok(anon.length > 0 && anon.every((e) => e.inode === '0' && !e.pseudo), 'anonymous mappings have null path');
});

test('handcrafted lines: 32-bit addresses, no trailing space, anon names, big inode, anon_inode, SysV', () => {
  const e = parseMaps(fixture('maps-handcrafted.txt'), 'handcrafted');
  assert.equal(e.length, 13, 'all 13 lines parsed');
  assert.deepEqual(
    { start: e[0].start, end: e[0].end, path: e[0].path, dev: e[0].dev, inode: e[0].inode },
    { start: 0x400000n, end: 0x40b000n, path: '/bin/cat', dev: '08:01', inode: '131090' },
  );
  assert.equal(e[1].path, null, 'no path (trailing space)');
  assert.equal(e[2].path, null, 'no path (no trailing space)');
  assert.equal(e[2].perms, '---p');
  assert.deepEqual([e[3].path, e[3].pseudo], ['[anon:pg arena 1]', true], 'anon name with spaces');
  assert.deepEqual([e[4].path, e[4].pseudo, e[4].shared], ['[anon_shmem:ring]', true, true]);
  assert.deepEqual([e[5].path, e[5].dev, e[5].inode, e[5].offset], ['/opt/My App/lib core.so', '103:02', '9007199254740993', 0x1000]);
  assert.deepEqual([e[6].path, e[6].deleted], ['/memfd:v8 code', true]);
  assert.deepEqual([e[7].path, e[7].deleted], ['/SYSV00000000', true]);
  assert.deepEqual([e[8].path, e[8].pseudo], ['anon_inode:[perf_event]', false], 'anon_inode name is not a bracket pseudo');
  assert.equal(e[9].path, '/tmp/a\nb.so', '\\012 decoded');
  assert.equal(e[10].path, '/tmp/ends with space ', 'trailing space kept');
  assert.deepEqual([e[11].path, e[11].pseudo], ['[stack:1234]', true]);
  assert.deepEqual([e[12].start, e[12].perms, e[12].path], [0xffffffffff600000n, '--xp', '[vsyscall]']);
});

test('" (deleted)": namesInode tells a live file named with the suffix from the kernel mark; mapsDev matches maps', () => {
  const line = (name, inode) => `7f0000000000-7f0000001000 r-xp 00000000 fe:00 ${inode}                    ${name}`;
  const text = [line('/opt/x.so (deleted)', '11'), line('/opt/y.so (deleted)', '12'), line('/opt/z.so (deleted) (deleted)', '13'), line('/memfd:jit (deleted)', '14')].join('\n');
  const asked = [];
  // A file system where "/opt/x.so (deleted)" is inode 11 and "/opt/y.so (deleted)" is another file (inode 99).
  const fsNow = { '/opt/x.so (deleted)': '11', '/opt/y.so (deleted)': '99' };
  const e = parseMaps(text, 't', { namesInode: (p, ino) => { asked.push(p); return fsNow[p] === ino; } });
  assert.deepEqual(e.map((x) => [x.path, x.deleted]), [
    ['/opt/x.so (deleted)', false], // the live file's real name
    ['/opt/y.so', true], // another inode there: the kernel's mark
    ['/opt/z.so (deleted)', true], // a suffixed name, deleted: one mark removed
    ['/memfd:jit', true],
  ]);
  assert.deepEqual(e.map((x) => x.pathText), ['/opt/x.so (deleted)', '/opt/y.so (deleted)', '/opt/z.so (deleted) (deleted)', '/memfd:jit (deleted)'], 'pathText is as printed');
  assert.deepEqual(asked, ['/opt/x.so (deleted)', '/opt/y.so (deleted)', '/opt/z.so (deleted) (deleted)', '/memfd:jit (deleted)'], 'only suffixed names are looked up, as printed');
  assert.deepEqual(parseMaps(line('/opt/x.so', '11')).map((x) => [x.path, x.deleted]), [['/opt/x.so', false]], 'no suffix, no lookup needed');
  // mapsDev: st_dev as maps prints it, checked against this process's own node mapping.
  const st = fs.statSync(process.execPath, { bigint: true });
  const node = readMapsSync().find((m) => m.inode === String(st.ino));
  assert.ok(node, 'node is mapped');
  assert.equal(mapsDev(st.dev), node.dev, 'mapsDev(stat.dev) equals the device maps prints (same file system here)');
  assert.equal(mapsDev(0x10302n), '103:02', 'major 0x103, minor 2');
  // glibc's makedev(): the 64-bit st_dev layout, with major and minor wider than 8 bits.
  const makedev = (ma, mi) => ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
  assert.equal(mapsDev(makedev(0x1234n, 0x56789n)), '1234:56789', 'wide major and minor decode like glibc');
  assert.equal(mapsDev(makedev(0n, 0x21n)), '00:21', 'two digits at least, as the kernel prints them');
});

test('a huge line (1 MiB path) parses', () => {
  const long = '/x' + 'y'.repeat(1 << 20);
  const text = `7f0000000000-7f0000001000 r-xp 00000000 fe:00 12 ${long}\n`;
  const [e] = parseMaps(text);
  assert.equal(e.path, long, 'long path kept exactly');
});

test('malformed lines give ProcfsParseError with the line number', () => {
  const good = '7f0000000000-7f0000001000 r-xp 00000000 fe:00 12 /lib/a.so';
  const cases = [
    ['7f000000000g-7f0000001000 r-xp 00000000 fe:00 12 /a', 'bad hex'],
    ['7f0000001000-7f0000000000 r-xp 00000000 fe:00 12 /a', 'start > end'],
    ['7f0000001000-7f0000001000 r-xp 00000000 fe:00 12 /a', 'empty range'],
    ['7f0000000000 r-xp 00000000 fe:00 12 /a', 'no dash'],
    ['7f0000000000-7f0000001000 rxp 00000000 fe:00 12 /a', 'short perms'],
    ['7f0000000000-7f0000001000 r-xq 00000000 fe:00 12 /a', 'wrong perms letter'],
    ['7f0000000000-7f0000001000 r-xp 00000000 fe:00', 'missing inode'],
    ['7f0000000000-7f0000001000 r-xp 00000000 fe00 12', 'bad device'],
    ['7f0000000000-7f0000001000 r-xp 0000000z fe:00 12', 'bad offset'],
    ['7f0000000000-7f0000001000 r-xp ffffffffffffffff fe:00 12', 'offset beyond 2^53'],
    ['7f0000000000-7f0000001000 r-xp 00000000 fe:00 1x /a', 'bad inode'],
    ['10000000000000000-10000000000000001 r-xp 00000000 fe:00 1 /a', 'address beyond 64 bits'],
    ['', 'empty line'],
  ];
  for (const [bad, what] of cases) {
    const text = `${good}\n${bad}\n${good}\n`;
    assert.throws(
      () => parseMaps(text, 'case'),
      (err) => err instanceof ProcfsParseError && err.line === 2 && err.source === 'case',
      `${what}: expected ProcfsParseError at line 2`,
    );
  }
  assert.throws(() => parseMaps(42), TypeError, 'non-string input is a TypeError');
});

test('readMapsSync/readMaps read this process; the node binary is an exec file mapping with its inode', async () => {
  const st = fs.statSync(process.execPath);
  for (const entries of [readMapsSync(), await readMaps('self'), await readMaps(process.pid)]) {
    const node = entries.find((e) => e.exec && e.path === fs.realpathSync(process.execPath));
    assert.ok(node, 'node executable mapped r-x');
    assert.equal(node.inode, String(st.ino), 'inode matches stat()');
    entries.forEach((e, i) => assertInvariants(e, `live:${i + 1}`));
  }
  await assert.rejects(readMaps(2 ** 30), ProcfsUnreadableError, 'a non-existent pid is ProcfsUnreadableError');
  assert.throws(() => readMapsSync(2 ** 30), ProcfsUnreadableError);
  assert.throws(() => readMapsSync(-1), RangeError);
});

test('fuzz: arbitrary strings only ever throw ProcfsParseError', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: fc.constantFrom(...'0123456789abcdef-: rwxps[]/\n()delt'), maxLength: 200 })), (s) => {
      const r = expectOnlyParseError(() => parseMaps(s), JSON.stringify(s));
      if (r) r.forEach((e, i) => assertInvariants(e, `fuzz ${i}`));
    }),
    { numRuns: 3000 },
  );
});

test('fuzz: mutated real lines only throw ProcfsParseError, and what parses is consistent', () => {
  const lines = REAL.flatMap((n) => fixture(n).split('\n').filter(Boolean));
  const mutation = fc.record({
    line: fc.constantFrom(...lines),
    ops: fc.array(
      fc.record({
        kind: fc.constantFrom('delete', 'insert', 'replace', 'truncate', 'duplicate'),
        at: fc.nat(),
        ch: fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  });
  fc.assert(
    fc.property(mutation, ({ line, ops }) => {
      let s = line;
      for (const op of ops) {
        const at = s.length === 0 ? 0 : op.at % (s.length + 1);
        if (op.kind === 'delete') s = s.slice(0, at) + s.slice(at + 1);
        else if (op.kind === 'insert') s = s.slice(0, at) + op.ch + s.slice(at);
        else if (op.kind === 'replace') s = s.slice(0, at) + op.ch + s.slice(at + op.ch.length);
        else if (op.kind === 'truncate') s = s.slice(0, at);
        else s = s.slice(0, at) + s.slice(0, at) + s.slice(at);
      }
      const r = expectOnlyParseError(() => parseMaps(s), JSON.stringify(s));
      if (r) r.forEach((e, i) => assertInvariants(e, `mutant ${i}`));
    }),
    { numRuns: 5000 },
  );
});

test('fuzz: generated valid entries round-trip through the kernel format', () => {
  const hexBig = fc.bigInt({ min: 0n, max: (1n << 64n) - 2n });
  const pathArb = fc.oneof(
    fc.constant(null),
    fc.constantFrom('[heap]', '[stack]', '[vdso]', '[anon:a b]'),
    // A real name: starts with '/', no "\012" text, may contain spaces and newlines, must not end in " (deleted)".
    fc.string({ unit: fc.constantFrom(...'abc /._-\n\t:[]()é'), maxLength: 40 })
      .map((s) => '/' + s)
      .filter((s) => !s.includes('\\') && !s.endsWith(' (deleted)')),
  );
  const entry = fc
    .record({
      a: hexBig,
      len: fc.bigInt({ min: 1n, max: 1n << 40n }),
      perms: fc.tuple(fc.constantFrom('r', '-'), fc.constantFrom('w', '-'), fc.constantFrom('x', '-'), fc.constantFrom('p', 's')).map((t) => t.join('')),
      offset: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      major: fc.nat({ max: 0xfff }),
      minor: fc.nat({ max: 0xfffff }),
      inode: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      path: pathArb,
      deleted: fc.boolean(),
    })
    .filter((r) => r.a + r.len < 1n << 64n)
    .map((r) => {
      const path = r.path;
      const deleted = path !== null && !path.startsWith('[') && r.deleted;
      return {
        start: r.a,
        end: r.a + r.len,
        perms: r.perms,
        read: r.perms[0] === 'r',
        write: r.perms[1] === 'w',
        exec: r.perms[2] === 'x',
        shared: r.perms[3] === 's',
        offset: r.offset,
        dev: `${r.major.toString(16).padStart(2, '0')}:${r.minor.toString(16).padStart(2, '0')}`,
        inode: r.inode.toString(),
        path,
        pathText: path === null ? null : deleted ? `${path} (deleted)` : path,
        deleted,
        pseudo: path !== null && path.startsWith('['),
      };
    });
  fc.assert(
    fc.property(fc.array(entry, { minLength: 1, maxLength: 5 }), (entries) => {
      const text = entries.map(formatMapsLine).join('\n') + '\n';
      assert.deepEqual(parseMaps(text), entries, 'parse(format(x)) must equal x');
    }),
    { numRuns: 2000 },
  );
});
