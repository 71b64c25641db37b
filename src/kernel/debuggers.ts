/**
 * Debuggers switched on after start. The launch audit reads the command line and environment once;
 * these vectors appear later in a running app:
 *  - the Node inspector of this process becoming active, however it happened: SIGUSR1 from any
 *    same-user process (Node starts the inspector on that signal), `inspector.open()` in app or
 *    dependency code, or `--inspect` at start. Read with `inspector.url()` (a binding call, no I/O)
 *    on a short timer, so it is seen within one tick.
 *  - a DevTools listener of this app's processes: a listening TCP socket owned by this process or a
 *    watched descendant (Linux: the LISTEN rows of /proc/<pid>/net/tcp{,6} joined with the socket
 *    inodes behind /proc/<pid>/fd) that answers the DevTools HTTP endpoint `GET /json/version`
 *    (Chromium's --remote-debugging-port, a child Node process's inspector after SIGUSR1).
 * Known legitimate users (Sentry's ANR detection opens the inspector) are allowed by the app, in
 * code, with a reason: never from the environment.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { Observation } from '../types';
import { parseNetTcp, TCP_LISTEN, type TcpSocket } from '../procfs/net-tcp';

/** A debugger the app runs on purpose. `port` narrows it to one port (default any). */
export interface AllowedDebugger {
  kind: 'inspector' | 'remote-debugging';
  port?: number;
  /** Why (shown in the status evidence of nothing, kept for the code reader and logs). */
  reason: string;
}

export interface DebuggerWatchOptions {
  /** Tick of the inspector check in ms (a binding call per tick). Default 500; 0 turns the watch off. */
  tickMs?: number;
  /** Scan the listening sockets of this process and the watched tree every this many ms (Linux). Default 1000; 0 turns it off. */
  socketsMs?: number;
  /** Ask a new listener of the app's processes for `GET /json/version` to tell a DevTools endpoint. Default true. */
  probe?: boolean;
  allow?: readonly AllowedDebugger[];
}

export interface InspectorState {
  url: string;
  host: string;
  port: number;
}

/** This process's inspector, or null when it is not active. Never throws. */
export function inspectorState(): InspectorState | null {
  let url: string | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: some embedders build Node without the inspector
    url = (require('node:inspector') as typeof import('node:inspector')).url();
  } catch {
    return null;
  }
  if (!url) return null;
  const m = /^wss?:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\//.exec(url);
  return { url, host: m ? m[1] : '', port: m ? Number(m[2]) : 0 };
}

export interface Listener extends TcpSocket {
  pid: number;
}

function readOr(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Socket inodes held open by `pid` (its /proc/<pid>/fd links "socket:[N]"). Unreadable fds are skipped. */
export function socketInodes(pid: number | 'self', procRoot = '/proc'): Set<number> {
  const out = new Set<number>();
  let fds: string[];
  try {
    fds = fs.readdirSync(`${procRoot}/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    let link: string;
    try {
      link = fs.readlinkSync(`${procRoot}/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (link.startsWith('socket:[')) out.add(Number(link.slice(8, -1)));
  }
  return out;
}

/** LISTEN rows of the network namespace `pid` is in (tcp and tcp6). A malformed table throws ProcfsParseError. */
export function listenRows(pid: number | 'self', procRoot = '/proc'): TcpSocket[] {
  const rows: TcpSocket[] = [];
  for (const family of [4, 6] as const) {
    const path = `${procRoot}/${pid}/net/tcp${family === 6 ? '6' : ''}`;
    const text = readOr(path);
    if (text === null) continue; // no IPv6, or the process is gone
    for (const s of parseNetTcp(text, family, path)) if (s.state === TCP_LISTEN && s.inode !== 0) rows.push(s);
  }
  return rows;
}

/** Listening TCP sockets owned by `pid` (Linux). */
export function listeningSockets(pid: number, procRoot = '/proc'): Listener[] {
  const rows = listenRows(pid, procRoot);
  if (rows.length === 0) return [];
  const mine = socketInodes(pid, procRoot);
  return rows.filter((r) => mine.has(r.inode)).map((r) => ({ ...r, pid }));
}

/** Asks a listener for the DevTools version endpoint. Resolves with its "Browser" value, or null. */
export function probeDevTools(address: string, port: number, timeoutMs = 500): Promise<string | null> {
  const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/json/version', timeout: timeoutMs, headers: { host: `127.0.0.1:${port}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
        if (body.length > 64 * 1024) req.destroy();
      });
      res.on('end', () => {
        try {
          const j = JSON.parse(body) as Record<string, unknown>;
          const browser = typeof j.Browser === 'string' ? j.Browser : 'DevTools';
          resolve(typeof j['Protocol-Version'] === 'string' || typeof j.Browser === 'string' ? browser : null);
        } catch {
          resolve(null);
        }
      });
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

function allowed(allow: readonly AllowedDebugger[], kind: AllowedDebugger['kind'], port: number): AllowedDebugger | undefined {
  return allow.find((a) => a.kind === kind && (a.port === undefined || a.port === port));
}

/** The open observation for this process's inspector, or none (closed, or allowed). */
export function inspectorObservations(state: InspectorState | null, allow: readonly AllowedDebugger[]): Observation[] {
  if (!state || allowed(allow, 'inspector', state.port)) return [];
  return [
    {
      key: `kernel:debugger:inspector:${state.port}`,
      subsystem: 'kernel',
      kind: 'inspector-active',
      detail: `the Node inspector of this process is listening on port ${state.port} (${state.url}): whoever connects runs code in the app`,
      evidence: { url: state.url, host: state.host, port: state.port },
    },
  ];
}

/**
 * The listening-socket half of the watch. Reading /proc/<pid>/net/tcp costs milliseconds (the kernel
 * walks its whole connection hash table, ~3-5 ms per file measured on a 2-core x86-64 VM), so a
 * scan reads only the socket inodes behind each process's fds (a readdir and a readlink per fd) and
 * reads the tables only when an inode it has not classified is still there at the next scan (a
 * listener stays; most client connections of a busy app come and go between two scans and cost
 * nothing), at most once per `minTableMs`, and every `fullEveryMs` anyway (a socket that was
 * unbound or not yet listening when first seen is classified again then). A listener is asked
 * `GET /json/version` once.
 */
export class ListenerWatch {
  /** inode -> listener verdict (browser: the DevTools "Browser" answer, or null: not DevTools). */
  private verdicts = new Map<number, { listener: Listener; browser: string | null }>();
  /** Socket inodes seen that were not listening TCP sockets at the last table read. */
  private other = new Set<number>();
  /** Unclassified inodes seen at the last scan: a table read waits until one is seen twice. */
  private pending = new Set<number>();
  private lastTableAt = -Infinity;
  private probing: Promise<void> | null = null;

  constructor(
    private readonly probe = true,
    private readonly procRoot = '/proc',
    private readonly minTableMs = 1000,
    private readonly fullEveryMs = 30_000,
  ) {}

  /** Scans `pids` (this process first). Resolves with the open remote-debugging observations. */
  async scan(pids: number[], allow: readonly AllowedDebugger[], ownInspectorPort: number | null): Promise<Observation[]> {
    if (this.probing) await this.probing;
    const owner = new Map<number, number>();
    for (const pid of pids) for (const inode of socketInodes(pid, this.procRoot)) owner.set(inode, pid);
    for (const inode of [...this.verdicts.keys()]) if (!owner.has(inode)) this.verdicts.delete(inode);
    for (const inode of [...this.other]) if (!owner.has(inode)) this.other.delete(inode);
    const unknown = [...owner.keys()].filter((i) => !this.verdicts.has(i) && !this.other.has(i));
    const stayed = unknown.some((i) => this.pending.has(i));
    this.pending = new Set(unknown);
    const now = performance.now();
    const due = now - this.lastTableAt >= this.fullEveryMs || (stayed && now - this.lastTableAt >= this.minTableMs);
    if (due) {
      this.lastTableAt = now;
      this.pending.clear();
      await this.classify(owner, pids);
    }
    return this.observations(allow, ownInspectorPort);
  }

  private async classify(owner: Map<number, number>, pids: number[]): Promise<void> {
    const rows = new Map<number, TcpSocket>();
    const seenNs = new Set<string>();
    for (const pid of pids) {
      let ns = '';
      try {
        ns = fs.readlinkSync(`${this.procRoot}/${pid}/ns/net`);
      } catch {
        /* gone, or not ours to read: read its table anyway */
      }
      if (ns && seenNs.has(ns)) continue;
      if (ns) seenNs.add(ns);
      for (const r of listenRows(pid, this.procRoot)) rows.set(r.inode, r);
    }
    const fresh: Listener[] = [];
    this.other.clear();
    for (const [inode, pid] of owner) {
      if (this.verdicts.has(inode)) continue;
      const r = rows.get(inode);
      if (r) fresh.push({ ...r, pid });
      else this.other.add(inode);
    }
    const work = fresh.map(async (l) => {
      const browser = this.probe ? await probeDevTools(l.localAddress, l.localPort) : null;
      this.verdicts.set(l.inode, { listener: l, browser });
    });
    this.probing = Promise.all(work).then(() => undefined);
    await this.probing;
    this.probing = null;
  }

  private observations(allow: readonly AllowedDebugger[], ownInspectorPort: number | null): Observation[] {
    const out: Observation[] = [];
    for (const { listener: l, browser } of this.verdicts.values()) {
      if (browser === null) continue;
      if (l.pid === process.pid && l.localPort === ownInspectorPort) continue; // the inspector check reports it
      if (allowed(allow, 'remote-debugging', l.localPort)) continue;
      out.push({
        key: `kernel:debugger:listener:${l.pid}:${l.localPort}`,
        subsystem: 'kernel',
        kind: 'remote-debugging',
        detail: `${l.pid === process.pid ? 'this process' : `process ${l.pid}`} serves the DevTools protocol on ${l.localAddress}:${l.localPort} (${browser}): whoever connects controls it`,
        evidence: { pid: l.pid, address: l.localAddress, port: l.localPort, inode: l.inode, browser },
        ...(l.pid !== process.pid ? { pid: l.pid } : {}),
      });
    }
    return out;
  }
}
