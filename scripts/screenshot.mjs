#!/usr/bin/env node
// `npm run screenshot`: docs/status-element.png, the README's picture of <procguard-status>.
// Nothing in it is drawn by hand: a real Guard runs in this process (hardened with harden()), one bit
// of the addon's never-executed canary code page is flipped through /proc/self/mem (as
// `procguard selftest` does) so the status carries a real, located `code-modified` finding, and the
// emitted element (dist/electron/renderer/status-element.mjs) renders that Status in Chromium
// (scripts/find-browser.js, driven by Playwright). The bit is restored before the script exits.
// Linux only (selftest's canary and /proc/self/mem). Needs `npm run build` first.
//   node scripts/screenshot.mjs [out.png]
import * as fs from 'node:fs';
import http from 'node:http';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'docs', 'status-element.png'));
const elementModule = path.join(root, 'dist', 'electron', 'renderer', 'status-element.mjs');

function fail(message) {
  console.error(`screenshot: ${message}`);
  process.exit(1);
}

if (process.platform !== 'linux') fail('Linux only (the canary flip writes /proc/self/mem)');
if (!fs.existsSync(elementModule)) fail(`${path.relative(root, elementModule)} is missing: run \`npm run build\``);
const browser = require('./find-browser.js').findBrowser();
if (!browser) fail('no Chromium: set PROCGUARD_BROWSER, install chromium, or run `npx playwright install chromium`');

const { Guard, harden } = require(path.join(root, 'dist', 'index.js'));
const { loadNative } = require(path.join(root, 'dist', 'native.js'));

/** A real Status with a located code-modified finding (the canary bit flipped), then the bit restored. */
async function realStatus() {
  const canary = loadNative().selftestCanary();
  if (!canary) fail('this addon build has no selftest canary page');
  const addr = Number(canary.start + 1234n);
  // The launch audit sees an empty environment and argv, so the picture does not carry the variables of
  // whatever shell made it (every other check runs as in an app).
  const guard = new Guard({ periodMs: 60_000, launch: { env: {}, argv: [], execArgv: [], inspectorUrl: null } });
  guard.prepare();
  // Opened before hardening, which makes /proc/self/mem unreadable to this process's user.
  const mem = fs.openSync('/proc/self/mem', 'r+');
  try {
    guard.setHardening(harden());
    await guard.start();
    const orig = Buffer.alloc(1);
    fs.readSync(mem, orig, 0, 1, addr);
    fs.writeSync(mem, Buffer.from([orig[0] ^ 0x08]), 0, 1, addr);
    try {
      const status = await guard.check();
      if (!status.findings.some((f) => f.kind === 'code-modified')) fail('the flipped canary bit was not reported');
      return status;
    } finally {
      fs.writeSync(mem, orig, 0, 1, addr);
    }
  } finally {
    fs.closeSync(mem);
    guard.stop();
  }
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'";
const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>procguard status</title>
<meta http-equiv="Content-Security-Policy" content="${CSP}"><link rel="stylesheet" href="/page.css"></head>
<body><procguard-status id="s"></procguard-status><script type="module" src="/page.mjs"></script></body></html>`;
const css = 'body { margin: 0; padding: 12px; background: #fff; width: 760px; }';
// The page's `window.procguard` stand-in serves the one Status; connect() is the element's real wiring.
const pageJs = (status) => `import { connect } from '/status-element.mjs';
const status = ${JSON.stringify(status)};
connect(document.getElementById('s'), { getStatus: async () => status, onStatus: () => () => {} });
window.__ready = true;`;

async function main() {
  const status = await realStatus();
  const { chromium } = await import('playwright');
  const server = http.createServer((req, res) => {
    const body = { '/': page, '/page.css': css, '/page.mjs': pageJs(status), '/status-element.mjs': fs.readFileSync(elementModule) }[req.url];
    const type = req.url.endsWith('.css') ? 'text/css' : req.url.endsWith('.mjs') ? 'text/javascript' : 'text/html';
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': type }).end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const b = await chromium.launch({ executablePath: browser.executablePath, args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run'] });
  try {
    const p = await b.newPage({ viewport: { width: 800, height: 600 }, deviceScaleFactor: 1 });
    const errors = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(`http://127.0.0.1:${server.address().port}/`);
    // Runs in the page: globalThis is its window.
    await p.waitForFunction(() => globalThis.__ready === true && globalThis.document.getElementById('s').shadowRoot?.textContent.includes('code-modified'));
    if (errors.length) fail(`page errors: ${errors.join('; ')}`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await p.locator('#s').screenshot({ path: out });
  } finally {
    await b.close();
    server.close();
  }
  console.log(`screenshot: ${path.relative(root, out)} (${status.state}, ${status.findings.length} open finding(s); browser: ${browser.source})`);
}

main().catch((e) => fail(e.stack ?? String(e)));
