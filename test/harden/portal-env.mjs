// A private session bus with Debian's xdg-desktop-portal on it, both running as uid 65534, and a
// world-readable copy of procguard (dist, the addon, its runtime dependencies) that processes of
// that uid can load. Logs go to test-artifacts/portals/. Every process here is started by this
// module and killed by stop(): the bus has no service directories, so nothing is D-Bus activated.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { createRequire } from 'node:module';
import { addon, fixtures, isRoot, jsonLines, root, NOBODY } from './helpers.mjs';
import { scaled } from '../time-scale.mjs';

/** Where distributions install the portal frontend (Debian 12 / Ubuntu 22.04+: /usr/libexec). */
export const PORTAL_BINARIES = ['/usr/libexec/xdg-desktop-portal', '/usr/lib/xdg-desktop-portal'];
export const portalBinary = () => PORTAL_BINARIES.find((p) => fs.existsSync(p)) ?? null;
export const logDir = path.join(root, 'test-artifacts', 'portals');
const { onPath } = createRequire(import.meta.url)('../../scripts/find-browser.js');

/** Why the real-portal tests cannot run here, or false. */
export function portalSkipReason() {
  if (process.platform !== 'linux') return 'desktop portals are Linux only';
  if (!isRoot) return 'needs root to run the bus, the portal and the children as uid 65534';
  if (portalBinary() === null) return 'xdg-desktop-portal is not installed (scripts/test-prereqs.js installs it on Debian as root)';
  if (onPath(['dbus-daemon']) === null) return 'dbus-daemon is not installed (scripts/test-prereqs.js installs it on Debian as root)';
  return false;
}

/** The package directory of `name` as Node would find it from `fromDir` (walks up node_modules). */
function findPackage(name, fromDir) {
  for (let d = fromDir; ; d = path.dirname(d)) {
    const p = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(p, 'package.json'))) return p;
    if (d === path.dirname(d)) return null;
  }
}

/** dir/node_modules/procguard (package.json, dist, the addon) plus its runtime dependencies, world-readable. */
function stagePackage(dir) {
  const pkg = path.join(dir, 'node_modules', 'procguard');
  fs.mkdirSync(path.join(pkg, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
  fs.cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  fs.copyFileSync(addon, path.join(pkg, 'build', 'Release', 'procguard.node'));
  const seen = new Set();
  const queue = [root];
  while (queue.length > 0) {
    const from = queue.shift();
    const meta = JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8'));
    for (const name of Object.keys({ ...meta.dependencies, ...meta.optionalDependencies })) {
      const src = findPackage(name, from);
      if (src === null || seen.has(src)) continue;
      seen.add(src);
      fs.cpSync(src, path.join(dir, path.relative(root, src)), { recursive: true, dereference: true });
      queue.push(src);
    }
  }
  return pkg;
}

function chmodTree(p) {
  const st = fs.statSync(p);
  fs.chmodSync(p, st.isDirectory() ? 0o755 : st.mode & 0o111 ? 0o755 : 0o644);
  if (st.isDirectory()) for (const e of fs.readdirSync(p)) chmodTree(path.join(p, e));
}

async function waitFor(what, fn, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

async function kill(child) {
  if (!child || exited(child)) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), scaled(5000));
  await done;
  clearTimeout(t);
}

/**
 * Start the bus (and, with startPortal(), the portal). `fixtures` are copied into the staged dir.
 * `label` names the log files (test files run in parallel: each has its own bus and logs).
 * Returns { stage, pkg, runtimeDir, address, env, startPortal(), portalLog, stop() }.
 */
export async function startBus(fixtureFiles, label) {
  fs.mkdirSync(logDir, { recursive: true });
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'procguard-portals-'));
  const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'procguard-portals-rt-'));
  const procs = [];
  const logFds = [];
  const env = { stage, runtimeDir, procs };
  const stop = async () => {
    for (const c of procs.reverse()) await kill(c);
    for (const fd of logFds) fs.closeSync(fd);
    fs.rmSync(stage, { recursive: true, force: true });
    fs.rmSync(runtimeDir, { recursive: true, force: true });
  };
  try {
    const pkg = stagePackage(stage);
    for (const f of fixtureFiles) fs.copyFileSync(f, path.join(stage, path.basename(f)));
    const socket = path.join(runtimeDir, 'bus');
    // A session bus without <standard_session_servicedirs/>: no activation, so no process this
    // module did not start (the portal would otherwise activate the document portal, a FUSE mount).
    fs.writeFileSync(
      path.join(stage, 'session.conf'),
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
`,
    );
    chmodTree(stage);
    fs.chownSync(runtimeDir, NOBODY, NOBODY);
    fs.chmodSync(runtimeDir, 0o700);
    const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: runtimeDir, XDG_RUNTIME_DIR: runtimeDir, GIO_USE_VFS: 'local', LANG: 'C.UTF-8' };
    // Under qemu-user (npm run test:arm64) the arm64 node the children run needs qemu's loader prefix and CPU.
    for (const k of ['QEMU_LD_PREFIX', 'QEMU_CPU', 'PROCGUARD_QEMU_USER']) if (process.env[k]) baseEnv[k] = process.env[k];
    const busLog = fs.openSync(path.join(logDir, `${label}-dbus-daemon.log`), 'w');
    logFds.push(busLog);
    const bus = spawn('dbus-daemon', [`--config-file=${path.join(stage, 'session.conf')}`, '--nofork', '--nopidfile', '--print-address=1'], {
      uid: NOBODY, gid: NOBODY, env: baseEnv, stdio: ['ignore', 'pipe', busLog],
    });
    procs.push(bus);
    const address = await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('dbus-daemon printed no address')), scaled(15000));
      bus.once('exit', (code, sig) => reject(new Error(`dbus-daemon exited (${code ?? sig}); see ${path.join(logDir, `${label}-dbus-daemon.log`)}`)));
      readline.createInterface({ input: bus.stdout }).once('line', (l) => { clearTimeout(t); resolve(l.trim()); });
    });
    Object.assign(env, { pkg, address, env: { ...baseEnv, DBUS_SESSION_BUS_ADDRESS: address }, stop });
    env.portalLog = path.join(logDir, `${label}-xdg-desktop-portal.log`);
    env.startPortal = async () => {
      const fd = fs.openSync(env.portalLog, 'w');
      logFds.push(fd);
      const portal = spawn(portalBinary(), ['--verbose'], { uid: NOBODY, gid: NOBODY, env: env.env, stdio: ['ignore', fd, fd] });
      procs.push(portal);
      await waitFor('"org.freedesktop.portal.Desktop acquired" in the portal log', () => {
        if (exited(portal)) throw new Error(`xdg-desktop-portal exited (${portal.exitCode ?? portal.signalCode}); see ${env.portalLog}`);
        return fs.readFileSync(env.portalLog, 'utf8').includes('org.freedesktop.portal.Desktop acquired');
      }, scaled(30000));
      return portal;
    };
    return env;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Start fixtures/portal-child.js as uid 65534 on `bus`; resolves with { c, ready, ask(cmd) }. */
export async function portalChild(bus) {
  const c = jsonLines(process.execPath, [path.join(bus.stage, 'portal-child.js'), bus.pkg], { uid: NOBODY, gid: NOBODY, cwd: bus.stage, env: bus.env });
  const ready = await c.next().catch(async (err) => {
    await c.close();
    throw err;
  });
  if (ready.phase !== 'ready') throw new Error(`portal child did not start: ${JSON.stringify(ready)} ${c.stderr()}`);
  const ask = async (cmd) => {
    c.send(JSON.stringify(cmd));
    const out = await c.next();
    if (out.error !== undefined) throw new Error(`${cmd.op} failed in the portal child: ${out.error} ${c.stderr()}`);
    return out;
  };
  return { c, ready, ask };
}

/**
 * Real Status.hardening objects from children on a real portal: `refused` (default harden(), then
 * guard.checkPortals()) and `allowed` (portals 'allow', then guard.checkPortals()); or { why } when
 * this machine cannot run the portal.
 */
export async function portalHardenings() {
  const why = portalSkipReason();
  if (why) return { why };
  const bus = await startBus([path.join(fixtures, 'portal-child.js'), path.join(fixtures, 'exe-marker.js')], 'status-element');
  const kids = [];
  try {
    await bus.startPortal();
    const out = {};
    for (const [name, options] of [['refused', undefined], ['allowed', { portals: 'allow' }]]) {
      const k = await portalChild(bus);
      kids.push(k.c);
      await k.ask({ op: 'harden', options });
      out[name] = (await k.ask({ op: 'guard' })).hardening;
    }
    return out;
  } finally {
    for (const c of kids) await c.close();
    await bus.stop();
  }
}
