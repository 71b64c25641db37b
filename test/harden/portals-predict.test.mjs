// The parts of the portal support that need no portal: the synchronous prediction (fed its own
// environment and file list), the option's validation, checkPortals() without a bus, and the error
// classification. The real portal is in portals.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Under qemu-user (npm run test:arm64) the arm64 node a child runs needs qemu's loader prefix and CPU.
const qemuEnv = Object.fromEntries(['QEMU_LD_PREFIX', 'QEMU_CPU'].filter((k) => process.env[k]).map((k) => [k, process.env[k]]));

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// The public API, and the portal pieces behind procguard/internals (predictPortals, classifyPortalError).
const pg = { ...require('../../dist/index.js'), ...require('../../dist/internals.js') };
const linux = process.platform === 'linux';
const SERVICE = '/usr/share/dbus-1/services/org.freedesktop.portal.Desktop.service';

const envOf = (env, files = []) => ({ env, exists: (f) => files.includes(f) });

test('prediction: no session bus means no portal', { skip: !linux && 'Linux only' }, () => {
  const p = pg.predictPortals(envOf({}));
  assert.deepEqual([p.via, p.likely, p.busAddress], ['none', false, null], JSON.stringify(p));
  assert.equal(pg.predictPortals(envOf({ DBUS_SESSION_BUS_ADDRESS: 'disabled:' })).via, 'none', "'disabled:' is no bus");
  // XDG_RUNTIME_DIR without a bus socket: still none.
  assert.equal(pg.predictPortals(envOf({ XDG_RUNTIME_DIR: '/run/user/1000' })).via, 'none', 'a runtime dir without bus socket');
});

test('prediction: session bus with and without an installed portal, Flatpak, snap', { skip: !linux && 'Linux only' }, () => {
  const viaSocket = pg.predictPortals(envOf({ XDG_RUNTIME_DIR: '/run/user/1000' }, ['/run/user/1000/bus', SERVICE]));
  assert.deepEqual([viaSocket.via, viaSocket.likely, viaSocket.busAddress], ['session-bus', true, 'unix:path=/run/user/1000/bus'], JSON.stringify(viaSocket));
  assert.ok(viaSocket.detail.includes(SERVICE), `the detail names the service file: ${viaSocket.detail}`);
  const noPortal = pg.predictPortals(envOf({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x/bus' }));
  assert.deepEqual([noPortal.via, noPortal.likely], ['session-bus', false], `a bus without a portal service file: ${JSON.stringify(noPortal)}`);
  const custom = pg.predictPortals(envOf({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x/bus', XDG_DATA_DIRS: '/opt/share' }, ['/opt/share/dbus-1/services/org.freedesktop.portal.Desktop.service']));
  assert.equal(custom.likely, true, `XDG_DATA_DIRS is searched: ${JSON.stringify(custom)}`);
  const home = pg.predictPortals(envOf({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x/bus', HOME: '/home/u' }, ['/home/u/.local/share/dbus-1/services/org.freedesktop.portal.Desktop.service']));
  assert.equal(home.likely, true, `~/.local/share is searched: ${JSON.stringify(home)}`);
  const flatpak = pg.predictPortals(envOf({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/flatpak/bus', FLATPAK_ID: 'org.example.App' }));
  assert.deepEqual([flatpak.via, flatpak.likely], ['flatpak', true], JSON.stringify(flatpak));
  assert.equal(pg.predictPortals(envOf({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/b' }, ['/.flatpak-info'])).via, 'flatpak', '/.flatpak-info marks Flatpak');
  const snap = pg.predictPortals(envOf({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/b', SNAP: '/snap/app/1', SNAP_NAME: 'app' }));
  assert.deepEqual([snap.via, snap.likely], ['snap', true], JSON.stringify(snap));
});

test('harden(): options.portals is validated before anything changes', () => {
  assert.throws(() => pg.harden({ portals: 'yes' }), { name: 'RangeError', message: `harden: options.portals must be 'default', 'allow' or 'auto', got "yes"` });
  assert.throws(() => pg.harden({ portals: true }), { name: 'TypeError', message: "harden: options.portals must be 'default', 'allow' or 'auto'" });
  assert.throws(() => pg.harden({ portal: 'allow' }), { name: 'TypeError', message: /unknown option "portal" \(expected dryRun, skip, crashReporter, dacl, portals\)/ });
});

test('harden({ dryRun }): the report carries the portal prediction and changes nothing', { skip: !linux && 'Linux only' }, () => {
  const before = pg.hardeningState();
  const r = pg.harden({ dryRun: true, portals: 'allow' });
  assert.deepEqual(pg.hardeningState().dumpable, before.dumpable, 'a dry run changes nothing');
  assert.equal(r.portals.mode, 'allow');
  assert.equal(typeof r.portals.prediction.likely, 'boolean', JSON.stringify(r.portals));
  assert.ok(Array.isArray(r.portals.remaining.protections), `allow lists the remaining protection: ${JSON.stringify(r.portals)}`);
  assert.match(r.steps.find((s) => s.id === 'dumpable').detail, /portals 'allow'/, 'the dumpable step says why it is skipped');
});

test("harden({ portals: 'auto', dryRun }): 'allow' exactly when a portal is predicted", { skip: !linux && 'Linux only' }, () => {
  const r = pg.harden({ dryRun: true, portals: 'auto' });
  const want = pg.predictPortals().likely ? 'allow' : 'default';
  assert.deepEqual([r.portals.requested, r.portals.mode], ['auto', want], `auto resolves from the prediction: ${JSON.stringify(r.portals)}`);
});

test('checkPortals(): no bus, a missing socket, a non-unix address, bad options', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procguard-nobus-'));
  try {
    const missing = await pg.checkPortals({ busAddress: `unix:path=${path.join(dir, 'bus')}` });
    assert.equal(missing.result, 'none', `a bus socket that does not exist: ${JSON.stringify(missing)}`);
    if (linux) assert.match(missing.detail, /ENOENT/, missing.detail);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (linux) {
    const exec = await pg.checkPortals({ busAddress: 'unixexec:path=/bin/true' });
    assert.equal(exec.result, 'unknown', `unixexec: is never used: ${JSON.stringify(exec)}`);
    assert.match(exec.detail, /not a unix: address/, exec.detail);
  }
  await assert.rejects(pg.checkPortals({ timeoutMs: 0 }), { name: 'RangeError' });
  await assert.rejects(pg.checkPortals({ busAddress: 5 }), { name: 'TypeError' });
});

test('checkPortals() without the optional dbus-next: unknown, naming it (never a throw)', { skip: !linux && 'Linux only' }, () => {
  // A copy of dist/portals outside any node_modules tree, so require('dbus-next') fails as it would
  // in an install without optional dependencies.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procguard-nodbus-'));
  try {
    fs.cpSync(path.join(root, 'dist', 'portals'), path.join(dir, 'portals'), { recursive: true });
    const script = `require(${JSON.stringify(path.join(dir, 'portals', 'check.js'))}).checkPortals({ busAddress: 'unix:path=${dir}/bus' }).then((c) => console.log(JSON.stringify(c)))`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, ...qemuEnv } });
    assert.equal(r.status, 0, `the check must not throw: ${r.stderr}`);
    const c = JSON.parse(r.stdout);
    assert.equal(c.result, 'unknown', JSON.stringify(c));
    assert.match(c.detail, /optional dependency dbus-next cannot be loaded/, c.detail);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('classifyPortalError: which replies say what', () => {
  const c = pg.classifyPortalError;
  assert.equal(c('org.freedesktop.DBus.Error.AccessDenied'), 'primed-connections-only');
  assert.equal(c('org.freedesktop.DBus.Error.ServiceUnknown'), 'none');
  assert.equal(c('org.freedesktop.DBus.Error.Spawn.ChildExited'), 'none');
  assert.equal(c('org.freedesktop.portal.Error.NotAllowed'), 'ok', 'a portal error comes after the portal identified the caller');
  assert.equal(c('org.freedesktop.DBus.Error.UnknownMethod'), null, 'an interface the portal lacks: try the next probe');
  assert.equal(c('org.freedesktop.DBus.Error.NoReply'), 'unknown');
});

test('withPortalCheck: records the check and warns once about refused connections', () => {
  const base = { platform: 'linux', dryRun: false, steps: [], verified: false, tracerBefore: { state: 'none', detail: '' }, warnings: [], portals: { mode: 'default', prediction: { via: 'none', likely: false, busAddress: null, detail: '' }, expected: 'no-portal' } };
  const check = { result: 'primed-connections-only', detail: 'AccessDenied', method: 'm', at: new Date().toISOString(), durationMs: 1 };
  const r = pg.withPortalCheck(base, check);
  assert.deepEqual(r.portals.check, check, 'the check is recorded');
  assert.equal(r.warnings.filter((w) => w.startsWith(pg.PORTAL_WARNING_PREFIX)).length, 1, `one portal warning: ${JSON.stringify(r.warnings)}`);
  assert.equal(pg.withPortalCheck(r, check).warnings.length, 1, 'not warned twice');
  assert.equal(base.warnings.length, 0, 'the input report is not changed');
  assert.equal(pg.withPortalCheck(base, { ...check, result: 'ok' }).warnings.length, 0, 'no warning when new connections are answered');
});
