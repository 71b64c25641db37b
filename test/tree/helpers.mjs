// Shared helpers for the process-tree tests: a Guard in a uid-65534 node child that starts Debian's
// chromium and watches its tree (children/tree-guard.mjs), driven by stdin commands.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = path.join(root, 'dist');
export const CHROMIUM = '/usr/lib/chromium/chromium';
export const NOBODY = { uid: 65534, gid: 65534 };

/** Why the chromium tests cannot run here, or false. */
export function chromiumSkip() {
  if (process.platform !== 'linux') return 'Linux only';
  if (process.getuid() !== 0) return 'needs root to spawn the uid 65534 Guard (chromium refuses to sandbox as root)';
  if (!fs.existsSync(CHROMIUM)) return `chromium not installed (${CHROMIUM})`;
  if (!fs.existsSync(path.join(root, 'build', 'Release', 'procguard.node'))) return 'native addon not built';
  // Every directory up to the worktree must be searchable by uid 65534.
  for (let d = root; d !== '/'; d = path.dirname(d)) if ((fs.statSync(d).mode & 0o005) !== 0o005) return `${d} is not world-searchable`;
  return false;
}

/** A temp dir owned by uid 65534 (chromium's profile and HOME). */
export function nobodyDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  fs.chownSync(dir, NOBODY.uid, NOBODY.gid);
  return dir;
}

/** Line-oriented JSON child: waitFor(pred) resolves with the first (past or future) line matching. */
export function jsonProc(cmd, args, opts) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  const lines = [];
  let waiters = [];
  let buf = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-8000)));
  child.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let l;
      try {
        l = JSON.parse(text);
      } catch {
        l = { raw: text };
      }
      l.receivedAt = Date.now();
      lines.push(l);
      waiters = waiters.filter((w) => !(w.pred(l) && (w.resolve(l), true)));
    }
  });
  return {
    child,
    lines,
    stderr: () => stderr,
    send: (s) => child.stdin.write(s + '\n'),
    waitFor(pred, what, from = 0, ms = 30000) {
      const hit = lines.slice(from).find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; last lines: ${JSON.stringify(lines.slice(-3)).slice(0, 3000)} stderr: ${stderr.slice(-2000)}`)), ms);
        waiters.push({ pred, resolve: (l) => (clearTimeout(t), resolve(l)) });
      });
    },
  };
}

/** Starts the uid-65534 Guard child with its own chromium; resolves once it is watching. */
export async function startTreeGuard({ noSandbox = false, pages = 3, treeOptions = {} } = {}) {
  const home = nobodyDir('pg-tree-home-');
  const userDataDir = nobodyDir('pg-tree-ud-');
  const cfg = { dist, userDataDir, noSandbox, pages, treeOptions, chromium: CHROMIUM };
  const p = jsonProc(process.execPath, [path.join(root, 'test', 'tree', 'children', 'tree-guard.mjs'), JSON.stringify(cfg)], {
    ...NOBODY,
    env: { PATH: '/usr/bin:/bin', HOME: home },
    cwd: home,
  });
  const ready = await p.waitFor((l) => l.event === 'ready' || l.event === 'error', 'the Guard child to start chromium', 0, 60000);
  if (ready.event === 'error') throw new Error(`tree-guard child: ${ready.message}`);
  p.chromiumPid = ready.chromiumPid;
  p.cleanup = async () => {
    p.send('quit');
    await new Promise((r) => {
      const t = setTimeout(() => (p.child.kill('SIGKILL'), r()), 8000);
      p.child.on('exit', () => (clearTimeout(t), r()));
    });
    // Nothing of chromium's tree may outlive the test.
    try {
      process.kill(ready.chromiumPid, 'SIGKILL');
    } catch {
      /* gone */
    }
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  return p;
}

/** Asks for the status until `pred(status)` holds (processes appear and settle over a few seconds). */
export async function statusWhen(p, pred, what, ms = 40000) {
  const until = Date.now() + ms;
  let last = null;
  while (Date.now() < until) {
    const from = p.lines.length;
    p.send('status');
    last = (await p.waitFor((l) => l.event === 'status', 'status reply', from)).status;
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 400));
  }
  throw new Error(`timed out waiting for ${what}; last processes: ${JSON.stringify((last?.processes ?? []).map((x) => [x.pid, x.type, x.sandboxed]))} findings: ${JSON.stringify((last?.findings ?? []).map((f) => f.detail))}`);
}

/** Settled renderers: present for more than the settle time. */
export const renderers = (s) => (s.processes ?? []).filter((x) => x.type === 'renderer');

const fx = (name) => fs.readFileSync(path.join(root, 'test', 'fixtures', 'tree', name), 'latin1');

/** A minimal procfs: the root 100 and its children, from the captured chromium files. */
export function fakeProc() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-fakeproc-'));
  fs.writeFileSync(path.join(dir, 'uptime'), '1000.00 1.00\n');
  const put = (pid, ppid, start, name, children = []) => {
    const d = path.join(dir, String(pid));
    fs.mkdirSync(path.join(d, 'task', String(pid)), { recursive: true });
    const stat = fx(`stat-${name}.txt`).replace(/^\d+ \(chromium\) S \d+/, `${pid} (chromium) S ${ppid}`).split(' ');
    stat[21] = String(start);
    fs.writeFileSync(path.join(d, 'stat'), stat.join(' '));
    fs.writeFileSync(path.join(d, 'status'), fx(`status-${name}.txt`).replace(/\nPid:\t\d+/, `\nPid:\t${pid}`));
    fs.writeFileSync(path.join(d, 'cmdline'), fx(`cmdline-${name}.bin`));
    fs.writeFileSync(path.join(d, 'task', String(pid), 'children'), children.map((c) => `${c} `).join(''));
  };
  put(100, 1, 10, 'browser', [200]);
  put(200, 100, 20, 'renderer');
  return { dir, put, edit: (pid, file, fn) => fs.writeFileSync(path.join(dir, String(pid), file), fn(fs.readFileSync(path.join(dir, String(pid), file), 'latin1'))) };
}


/**
 * A byte in a child's own code: `frac` of the way into chromium's executable text mapping, at
 * offset 0x123 in its page. { addr (number), file, fileOffset }.
 */
export function codeTarget(pid, frac = 0.5) {
  const line = fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').find((l) => / r-xp .*\/chromium$/.test(l));
  if (!line) throw new Error(`no chromium text mapping in /proc/${pid}/maps`);
  const [range, , off] = line.split(/\s+/);
  const [lo, hi] = range.split('-').map((x) => BigInt('0x' + x));
  const pages = (hi - lo) / 4096n;
  const page = BigInt(Math.min(Number(pages) - 1, Math.floor(Number(pages) * frac)));
  return { addr: Number(lo + page * 4096n + 0x123n), file: line.slice(line.indexOf('/')), fileOffset: Number(BigInt('0x' + off) + page * 4096n + 0x123n) };
}

/** Writes fn(old byte) at `addr` of `pid` through /proc/<pid>/mem (a copy-on-write); returns the old byte. */
export function pokeByte(pid, addr, fn) {
  const fd = fs.openSync(`/proc/${pid}/mem`, 'r+');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, addr);
    const old = b[0];
    fs.writeSync(fd, Buffer.from([fn(old)]), 0, 1, addr);
    return old;
  } finally {
    fs.closeSync(fd);
  }
}
