/**
 * Pure parser for /proc/<pid>/net/tcp and /proc/<pid>/net/tcp6 (Linux). The kernel prints a header
 * and one line per socket of the reading process's network namespace (net/ipv4/tcp_ipv4.c
 * get_tcp4_sock, net/ipv6/tcp_ipv6.c get_tcp6_sock):
 *   "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu ..."
 * (slot, local address:port, remote address:port, state, queues, timer, retransmits, uid, timeout,
 * inode, then fields that differ between states). An address is the raw network-order bytes printed
 * as 32-bit words in the *host's* byte order (one word for IPv4, four for IPv6); the port is a plain
 * number. State 0A is TCP_LISTEN. Inode 0 means no socket file (e.g. TIME_WAIT).
 */
import * as os from 'node:os';
import { ProcfsParseError } from '../errors';

export const TCP_LISTEN = 0x0a;

export interface TcpSocket {
  /** Printable address ('127.0.0.1', '::1', '::ffff:10.0.0.1'). */
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** The kernel's TCP state number (1 ESTABLISHED ... 10 LISTEN). */
  state: number;
  uid: number;
  /** The socket's inode (what /proc/<pid>/fd/<n> links to as "socket:[inode]"); 0 when none. */
  inode: number;
}

const HEADER = /^\s*sl\s+local_address\s+rem(?:ote)?_address\s+st\s/;

function word(hex8: string, little: boolean): number[] {
  const b = [0, 2, 4, 6].map((i) => parseInt(hex8.slice(i, i + 2), 16));
  return little ? b.reverse() : b;
}

/** Raw printed address -> bytes in network order; '' on a malformed field. */
function addressBytes(hex: string, family: 4 | 6, little: boolean): number[] | null {
  const len = family === 4 ? 8 : 32;
  if (hex.length !== len || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
  const out: number[] = [];
  for (let i = 0; i < len; i += 8) out.push(...word(hex.slice(i, i + 8), little));
  return out;
}

function formatAddress(b: number[]): string {
  if (b.length === 4) return b.join('.');
  const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (mapped) return `::ffff:${b.slice(12).join('.')}`;
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  // Compress the longest run of zero groups (RFC 5952), enough for '::', '::1' and the like.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

function endpoint(field: string, family: 4 | 6, little: boolean, source: string, line: number, what: string): { address: string; port: number } {
  const colon = field.indexOf(':');
  const bytes = colon < 0 ? null : addressBytes(field.slice(0, colon), family, little);
  const portHex = colon < 0 ? '' : field.slice(colon + 1);
  if (!bytes || !/^[0-9A-Fa-f]{4}$/.test(portHex)) throw new ProcfsParseError(source, line, `bad ${what} '${field.slice(0, 60)}'`);
  return { address: formatAddress(bytes), port: parseInt(portHex, 16) };
}

function decimal(s: string | undefined, source: string, line: number, what: string): number {
  if (s === undefined || !/^[0-9]{1,15}$/.test(s)) throw new ProcfsParseError(source, line, `bad ${what} '${String(s).slice(0, 30)}'`);
  return Number(s);
}

/**
 * Parse the text of /proc/<pid>/net/tcp (family 4) or tcp6 (family 6). `endianness`: the byte order
 * of the kernel that printed it (default this host's). Throws ProcfsParseError on a malformed line.
 */
export function parseNetTcp(text: string, family: 4 | 6, source = family === 4 ? '<net/tcp>' : '<net/tcp6>', endianness: 'LE' | 'BE' = os.endianness()): TcpSocket[] {
  if (typeof text !== 'string') throw new TypeError('parseNetTcp: text must be a string');
  if (family !== 4 && family !== 6) throw new TypeError('parseNetTcp: family must be 4 or 6');
  const little = endianness === 'LE';
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0 || !HEADER.test(lines[0])) throw new ProcfsParseError(source, 1, 'missing "sl local_address rem_address st" header');
  const out: TcpSocket[] = [];
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].trim().split(/\s+/);
    const n = i + 1;
    if (f.length < 10 || !/^[0-9]+:$/.test(f[0])) throw new ProcfsParseError(source, n, `bad socket line '${lines[i].slice(0, 60)}'`);
    const local = endpoint(f[1], family, little, source, n, 'local address');
    const remote = endpoint(f[2], family, little, source, n, 'remote address');
    if (!/^[0-9A-Fa-f]{2}$/.test(f[3])) throw new ProcfsParseError(source, n, `bad state '${f[3].slice(0, 10)}'`);
    out.push({
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state: parseInt(f[3], 16),
      uid: decimal(f[7], source, n, 'uid'),
      inode: decimal(f[9], source, n, 'inode'),
    });
  }
  return out;
}
