// /proc/<pid>/net/tcp{,6} parser: captured real text (a Node process with its inspector, an IPv4
// wildcard listener, an IPv6 loopback listener and an established connection), byte order, live
// reads, and malformed input (ProcfsParseError only, never a crash or a silent pass).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseNetTcp, TCP_LISTEN } from '../../dist/procfs/net-tcp.js';
import { listeningSockets, socketInodes } from '../../dist/kernel/debuggers.js';
import { ProcfsParseError } from '../../dist/errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name) => fs.readFileSync(path.join(here, '..', 'fixtures', 'procfs', name), 'utf8');
const tcp4 = fixture('net-tcp-inspector.txt');
const tcp6 = fixture('net-tcp6-listen-established.txt');

test('net/tcp: the captured IPv4 table (inspector on 127.0.0.1:32951, wildcard listener, TIME_WAIT rows)', () => {
  const rows = parseNetTcp(tcp4, 4, 'net-tcp-inspector.txt', 'LE');
  assert.equal(rows.length, tcp4.trim().split('\n').length - 1, 'one row per socket line');
  const inspector = rows.find((r) => r.inode === 34596);
  assert.deepEqual(inspector, { localAddress: '127.0.0.1', localPort: 32951, remoteAddress: '0.0.0.0', remotePort: 0, state: TCP_LISTEN, uid: 0, inode: 34596 }, 'the inspector listener');
  const wildcard = rows.find((r) => r.inode === 34598);
  assert.deepEqual([wildcard.localAddress, wildcard.localPort, wildcard.state], ['0.0.0.0', 42265, TCP_LISTEN], 'the 0.0.0.0 listener');
  assert.ok(rows.some((r) => r.state === 6 && r.inode === 0), 'TIME_WAIT rows have no inode');
});

test('net/tcp6: the captured IPv6 table (::1 listener and both ends of a connection)', () => {
  const rows = parseNetTcp(tcp6, 6, 'net-tcp6-listen-established.txt', 'LE');
  const listen = rows.filter((r) => r.state === TCP_LISTEN);
  assert.deepEqual(listen.map((r) => [r.localAddress, r.localPort, r.inode]), [['::1', 37959, 34597]], 'the ::1 listener');
  const est = rows.filter((r) => r.state === 1);
  assert.equal(est.length, 2, 'both ends of the established connection');
  assert.ok(est.every((r) => r.localAddress === '::1' && r.remoteAddress === '::1'), 'loopback on both ends');
  assert.deepEqual(est.map((r) => r.remotePort).sort(), [37959, est.find((r) => r.remotePort === 37959).localPort].sort(), 'the client end talks to the listener');
});

test('byte order: the same socket printed by a big-endian kernel decodes the same', () => {
  const be = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 7F000001:80B7 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 77 1 0\n';
  const [r] = parseNetTcp(be, 4, 'be', 'BE');
  assert.deepEqual([r.localAddress, r.localPort, r.uid, r.inode], ['127.0.0.1', 32951, 1000, 77]);
  const mapped = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9 1 0\n';
  assert.equal(parseNetTcp(mapped, 6, 'mapped', 'LE')[0].localAddress, '::ffff:127.0.0.1', 'IPv4-mapped IPv6 address');
});

test('malformed tables give ProcfsParseError with a line number', () => {
  const bad = [
    ['', 'empty'],
    ['garbage\n', 'no header'],
    [tcp4.replace('0100007F:80B7', '0100007F:80B'), 'short port'],
    [tcp4.replace('0100007F:80B7', '0100007G:80B7'), 'non-hex address'],
    [tcp4.replace('0100007F:80B7', '0100007F80B7'), 'no colon'],
    [tcp4.replace(' 0A ', ' A '), 'one-digit state'],
    [tcp4.split('\n').map((l, i) => (i === 1 ? l.slice(0, 40) : l)).join('\n'), 'truncated line'],
    [tcp6.replace('00000000000000000000000001000000:9447', '0000000001000000:9447'), 'IPv6 address too short'],
  ];
  for (const [text, what] of bad) {
    assert.throws(() => parseNetTcp(text, what.startsWith('IPv6') ? 6 : 4, what, 'LE'), (e) => e instanceof ProcfsParseError && e.line >= 1, what);
  }
  assert.throws(() => parseNetTcp(tcp4, 6, 'x', 'LE'), ProcfsParseError, 'an IPv4 table read as IPv6');
  assert.throws(() => parseNetTcp(null, 4), TypeError);
  assert.throws(() => parseNetTcp(tcp4, 5), TypeError);
});

test('mutated tables parse or throw ProcfsParseError, never anything else', () => {
  fc.assert(
    fc.property(fc.constantFrom(tcp4, tcp6), fc.nat(), fc.string({ unit: fc.constantFrom(...'0123456789ABCDEFxz: \n'), maxLength: 4 }), fc.nat(), (text, at, ins, del) => {
      const i = at % (text.length + 1);
      const s = text.slice(0, i) + ins + text.slice(i + (del % 4));
      try {
        for (const r of parseNetTcp(s, text === tcp4 ? 4 : 6, 'mutated', 'LE')) {
          assert.ok(Number.isInteger(r.localPort) && r.localPort >= 0 && r.localPort <= 65535, 'port in range');
          assert.ok(Number.isSafeInteger(r.inode) && r.inode >= 0, 'inode a safe integer');
        }
      } catch (e) {
        assert.ok(e instanceof ProcfsParseError, `threw ${e?.constructor?.name}: ${e?.message}`);
      }
    }),
    { numRuns: 2000 },
  );
});

test('live: a listener of this process is found through net/tcp and its fd inodes', { skip: process.platform !== 'linux' && 'Linux only' }, async () => {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const port = server.address().port;
    const mine = listeningSockets(process.pid);
    const hit = mine.find((l) => l.localPort === port);
    assert.ok(hit, `the listener on ${port} is in ${JSON.stringify(mine)}`);
    assert.equal(hit.localAddress, '127.0.0.1');
    assert.ok(socketInodes('self').has(hit.inode), 'its inode is one of this process\'s socket fds');
  } finally {
    server.close();
  }
});
