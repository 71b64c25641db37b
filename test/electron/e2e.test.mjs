// End-to-end: the real demo app (demo-app/) in a real Electron, driven by Playwright's _electron.
// Runs wherever an Electron binary is available; otherwise skips with one line saying why.
// Never a fake Electron here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Path of a runnable Electron binary, or { skip } with the reason. Resolves the path the way the
 * `electron` package does (path.txt, ELECTRON_OVERRIDE_DIST_PATH) without require('electron'):
 * in plain Node that module tries to download the binary when it is missing.
 */
function findElectron() {
  let exe = process.env.PROCGUARD_ELECTRON;
  if (!exe) {
    let pkgDir;
    try {
      pkgDir = path.dirname(require.resolve('electron/package.json'));
    } catch {
      return { skip: 'no Electron binary: the electron package is not installed' };
    }
    const pathTxt = path.join(pkgDir, 'path.txt');
    const rel = fs.existsSync(pathTxt) ? fs.readFileSync(pathTxt, 'utf8').trim() : '';
    if (process.env.ELECTRON_OVERRIDE_DIST_PATH) exe = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, rel || 'electron');
    else if (rel === '') return { skip: `no Electron binary: ${pathTxt} is missing (binary never downloaded; set PROCGUARD_ELECTRON=/path/to/electron)` };
    else exe = path.join(pkgDir, 'dist', rel);
  }
  if (!fs.existsSync(exe)) return { skip: `no Electron binary: ${exe} does not exist` };
  const r = spawnSync(exe, ['-e', 'process.stdout.write(process.versions.electron || "")'], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 60_000, encoding: 'utf8',
  });
  if (r.status !== 0 || !r.stdout) return { skip: `no Electron binary: ${exe} does not run (${r.error?.message ?? `exit ${r.status}`})` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { skip: `no display for Electron ${r.stdout}: run under xvfb-run` };
  }
  return { exe, version: r.stdout };
}

/** A copy of demo-app whose node_modules link to this checkout (procguard) and its electron-log. */
function stageDemo() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procguard-demo-'));
  fs.cpSync(path.join(root, 'demo-app'), dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}node_modules`) && !src.includes(`${path.sep}out`) });
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(root, path.join(dir, 'node_modules', 'procguard'), 'dir');
  fs.symlinkSync(path.dirname(require.resolve('electron-log/package.json')), path.join(dir, 'node_modules', 'electron-log'), 'dir');
  return dir;
}

test('e2e: demo app shows the live status in a sandboxed window and refuses other origins', { timeout: 180_000 }, async (t) => {
  const found = findElectron();
  if (found.skip) {
    t.skip(found.skip);
    return;
  }
  const { _electron } = await import('playwright');
  const appDir = stageDemo();
  const args = [];
  if (process.getuid?.() === 0) args.push('--no-sandbox'); // Chromium refuses to run as root otherwise
  const electronApp = await _electron.launch({ executablePath: found.exe, args: [...args, appDir], env: { ...process.env, ELECTRON_ENABLE_LOGGING: '1' } });
  try {
    const win = await electronApp.firstWindow();
    await win.waitForSelector('procguard-status[state]:not([state="unknown"])', { timeout: 60_000 });

    // The page sees exactly the read-only API and no Node.
    const page = await win.evaluate(async () => ({
      keys: Object.keys(window.procguard).sort(),
      frozen: Object.isFrozen(window.procguard),
      require: typeof window.require,
      process: typeof window.process,
      status: await window.procguard.getStatus(),
    }));
    assert.deepEqual(page.keys, ['getStatus', 'onStatus'], 'window.procguard has only getStatus and onStatus');
    assert.equal(page.require, 'undefined', 'no require in the page');
    assert.equal(page.process, 'undefined', 'no process in the page');
    assert.equal(page.status.version, 1, 'a v1 status arrives');
    const mainPid = await electronApp.evaluate(() => process.pid);
    assert.equal(page.status.pid, mainPid, 'the status is the main process guard status');
    const state = await win.locator('procguard-status').getAttribute('state');
    assert.ok(['ok', 'findings', 'compromised', 'stalled', 'starting'].includes(state), `the element shows a real state, got ${state}`);
    assert.equal(await win.getByRole('status').count(), 1, 'the live region is rendered');

    // A window from another origin with the same preload is refused by the bridge.
    const otherWindow = electronApp.waitForEvent('window');
    await electronApp.evaluate(({ BrowserWindow }) => {
      const w = new BrowserWindow({ show: false, webPreferences: { preload: globalThis.__procguardDemo.preload, sandbox: true, contextIsolation: true } });
      w.loadURL('data:text/html,<title>intruder</title>');
    });
    const intruder = await otherWindow;
    await intruder.waitForLoadState();
    const refused = await intruder.evaluate(() => window.procguard.getStatus().then(() => 'served', (e) => e.message));
    assert.match(refused, /refused/, 'a data: page must be refused');
    const stats = await electronApp.evaluate(() => globalThis.__procguardDemo.bridge.stats());
    assert.ok(stats.rejected.origin >= 1, 'the refusal is counted');
    assert.ok(stats.served >= 1, 'the demo window was served');

    // The window audit flags the intruder window (no window-open handler, no navigation guard)
    // and nothing about the demo window.
    const obs = await electronApp.evaluate(async () => {
      await new Promise((r) => setTimeout(r, 200));
      return globalThis.__procguardDemo.audit.observations();
    });
    const demoWcId = await electronApp.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().find((w) => w.getTitle() === 'procguard demo')?.webContents.id);
    assert.ok(obs.some((o) => o.kind === 'no-window-open-handler' && o.evidence.webContentsId !== demoWcId), 'the intruder window is audited');
    // As root the test passes --no-sandbox, which Electron applies to every process: then the demo
    // window is (correctly) reported unsandboxed, by that switch, and nothing else.
    const expected = args.includes('--no-sandbox') ? [['sandbox-disabled', 'switch --no-sandbox']] : [];
    assert.deepEqual(obs.filter((o) => o.evidence.webContentsId === demoWcId).map((o) => [o.kind, o.evidence.sandboxBasis]), expected, 'the demo window has no weak setting');

    // webContents.debugger attached from the main process is a finding within 1 s; detach closes it.
    const debuggerFound = await electronApp.evaluate(async ({ webContents }, id) => {
      const wc = webContents.fromId(id);
      const t0 = Date.now();
      wc.debugger.attach();
      const has = () => globalThis.__procguardDemo.audit.observations().some((o) => o.kind === 'debugger-attached' && o.evidence.webContentsId === id);
      while (!has() && Date.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 20));
      const found = has();
      wc.debugger.detach();
      return { found, ms: Date.now() - t0, closed: !has() };
    }, demoWcId);
    assert.ok(debuggerFound.found, `webContents.debugger.attach() is reported within 1 s (${JSON.stringify(debuggerFound)})`);
    assert.ok(debuggerFound.closed, 'detach closes the finding');
    // The page gets the renderer view: no process claims, no finding evidence.
    assert.ok((page.status.processes ?? []).every((p) => p.claim === undefined) && page.status.findings.every((f) => f.evidence === undefined), 'the renderer view reaches the page');
  } finally {
    await electronApp.close();
    fs.rmSync(appDir, { recursive: true, force: true });
  }
});
