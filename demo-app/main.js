'use strict';
// procguard demo: harden first, then start the guard, serve its status read-only to a locked-down
// window that shows <procguard-status>, audit every window, check fuses when packaged, log with
// electron-log. Run: `npm install && npm start` in demo-app/ (see docs/electron.md).

// 1. Harden before anything else runs: no core dumps, not dumpable / not attachable.
//    The guard is created and prepared first: prepare() opens /proc/self/pagemap (the tamper
//    sentinel), which a non-dumpable process can no longer open.
//    portals 'auto': on a Linux desktop with xdg-desktop-portal (and in Flatpak/snap) the process
//    stays dumpable, because the portal refuses every D-Bus connection a non-dumpable process opens
//    later and file dialogs would silently never open; the report lists what still protects it.
//    Everywhere else it is the full hardening (docs/harden.md, "Desktop portals").
const { harden, Guard } = require('procguard');
const log = require('electron-log/main');
// Packaged: every app file and the app's own code are checked against the vendor's signed
// manifest, written by the build's afterPack hook (procguard/build; docs/manifest.md). The public
// key ships inside app.asar; `npm start` (not packaged) has no manifest to check.
const packaged = !require('electron').app.isPackaged ? null : { publicKey: require('node:fs').readFileSync(require('node:path').join(__dirname, 'procguard-manifest-public.pem')) };
const guard = new Guard({ logger: log, ...(packaged ? { manifest: packaged } : {}) }); // findings go to electron-log's 'procguard' scope
guard.prepare();
const hardenReport = harden({ portals: 'auto' });
guard.setHardening(hardenReport);

const fs = require('node:fs');
const path = require('node:path');
const { app, BrowserWindow, protocol, session } = require('electron');
const { exposeStatus, auditWindows, checkFuses, RECOMMENDED_FUSES } = require('procguard/electron-main');

const plog = log.scope('procguard');
plog.info(`harden(): verified=${hardenReport.verified} ${hardenReport.steps.map((s) => `${s.id}=${s.status}`).join(' ')}`);
for (const w of hardenReport.warnings) plog.warn(`harden(): ${w}`);
// Linux: ask the portal on a new connection whether it still answers this process; the answer goes
// into Status.hardening.portals.check, which <procguard-status> shows. Never rejects.
if (hardenReport.portals?.prediction.likely) {
  guard.checkPortals().then((c) => plog.info(`portals: ${c.result} (${c.detail})`));
}

// Pages come from a custom standard+secure scheme, not file://, so the bridge can allow exactly one origin.
const HOST = 'procguard-demo';
const ORIGIN = `app://${HOST}`;
protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true } }]);

const CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'none'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "require-trusted-types-for 'script'",
].join('; ');
// The only files the protocol serves (no path is ever built from the request).
const FILES = new Map([
  ['/index.html', [path.join(__dirname, 'renderer', 'index.html'), 'text/html; charset=utf-8']],
  ['/style.css', [path.join(__dirname, 'renderer', 'style.css'), 'text/css; charset=utf-8']],
  ['/renderer.mjs', [path.join(__dirname, 'renderer', 'renderer.mjs'), 'text/javascript; charset=utf-8']],
  ['/status-element.mjs', [require.resolve('procguard/renderer'), 'text/javascript; charset=utf-8']],
]);

// 2. Audit every webContents from the start, so every setWindowOpenHandler call is seen.
const audit = auditWindows({
  // Weak windows become findings of the guard (subsystem 'electron'), shown in every status window.
  onChange: (observations) => guard.report(observations, 'window-audit'),
});

// 3. Start the guard: baselines, then periodic sweeps on a native thread.
guard.start().catch((err) => plog.error(`guard: ${err.message}`));

const bridge = exposeStatus(guard, { allowedOrigins: [ORIGIN] });

function createWindow() {
  const win = new BrowserWindow({
    width: 900,
    height: 720,
    show: false,
    title: 'procguard demo',
    webPreferences: {
      preload: require.resolve('procguard/preload'),
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  // No new windows, no navigation away from the app's origin.
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event, url) => {
    if (!url.startsWith(`${ORIGIN}/`)) event.preventDefault();
  });
  win.once('ready-to-show', () => win.show());
  win.loadURL(`${ORIGIN}/index.html`);
  return win;
}

app.whenReady().then(async () => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  protocol.handle('app', (request) => {
    const url = new URL(request.url);
    const entry = url.host === HOST ? FILES.get(url.pathname) : undefined;
    if (entry === undefined) return new Response('not found', { status: 404 });
    return new Response(fs.readFileSync(entry[0]), { headers: { 'content-type': entry[1], 'content-security-policy': CSP } });
  });
  createWindow();

  // 4. Fuses: a packaged app checks that its binary has the fuses it was built with.
  if (app.isPackaged || process.env.PROCGUARD_DEMO_CHECK_FUSES === '1') {
    try {
      const { observations } = await checkFuses(process.execPath, RECOMMENDED_FUSES);
      if (observations.length === 0) plog.info('fuses: as expected');
      guard.report(observations, 'fuses');
    } catch (err) {
      plog.error(`fuses: cannot read the fuse wire: ${err.message}`);
    }
  }
});

app.on('window-all-closed', () => app.quit());
app.on('will-quit', () => {
  bridge.dispose();
  audit.dispose();
  guard.stop();
});

// For the end-to-end test (read from the main process with Playwright's electronApp.evaluate).
globalThis.__procguardDemo = { bridge, audit, guard, origin: ORIGIN, preload: require.resolve('procguard/preload') };
