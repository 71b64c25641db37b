// The manifest line of <procguard-status> in real Chromium, rendered from REAL Guard statuses: an
// app that matches its manifest, one with a changed file, and a manifest whose signature is bad.
import { test, before, after } from 'node:test';
/* global window, document -- evaluated in the page */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright';
import { m, keys, APP, tmpdir, flipByte, root } from './helpers.mjs';

const found = createRequire(import.meta.url)('../../scripts/find-browser.js').findBrowser();
if (!found) throw new Error('no Chromium for the renderer tests: run `npm test` (it installs or names one), or set PROCGUARD_BROWSER');
const { Guard } = createRequire(import.meta.url)(path.join(root, 'dist/index.js'));

async function statusOf(mutate) {
  const k = await keys();
  const dir = tmpdir('pg-el-app-');
  fs.mkdirSync(path.join(dir, 'resources'));
  fs.writeFileSync(path.join(dir, 'resources', 'app.asar'), Buffer.alloc(9000, 3));
  fs.copyFileSync('/bin/true', path.join(dir, 'app'));
  const r = await m.createManifest(dir, { secretKey: k.secretKey, app: { ...APP, name: 'Demo <b>App</b>' } });
  mutate?.(dir, r);
  const g = new Guard({ kernel: false, launch: false, sentinelMs: 0, periodMs: 60000, manifest: { path: r.manifestPath, publicKey: fs.readFileSync(k.publicKey) } });
  try {
    return await g.start();
  } finally {
    g.stop();
  }
}

let server;
let browser;
let base;
const snaps = {};

before(async () => {
  snaps.match = await statusOf();
  snaps.differs = await statusOf((dir) => flipByte(path.join(dir, 'resources', 'app.asar'), 5));
  snaps.invalid = await statusOf((dir, r) => fs.writeFileSync(r.signaturePath, Buffer.alloc(64, 1).toString('base64')));
  const moduleFile = path.join(root, 'dist/electron/renderer/status-element.mjs');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>${Object.keys(snaps).map((s) => `<procguard-status id="${s}"></procguard-status>`).join('')}<script type="module">import '/status-element.mjs'; window.__ready = true;</script></body></html>`;
  server = http.createServer((req, res) => {
    const body = req.url === '/status-element.mjs' ? fs.readFileSync(moduleFile) : html;
    res.writeHead(200, { 'content-type': req.url === '/status-element.mjs' ? 'text/javascript' : 'text/html' });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: found.executablePath, args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run'] });
});
after(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

test('status element: the manifest line shows match, differences and an invalid manifest with its reason', async () => {
  assert.equal(snaps.match.manifest.state, 'match');
  assert.equal(snaps.differs.manifest.state, 'differs');
  assert.equal(snaps.invalid.manifest.state, 'invalid');
  const page = await browser.newPage();
  await page.goto(`${base}/index.html`);
  await page.waitForFunction(() => window.__ready === true);
  for (const [id, s] of Object.entries(snaps)) await page.evaluate(([i, st]) => { document.getElementById(i).status = st; }, [id, s]);
  const line = (id) => page.locator(`#${id} [part~="manifest"]`);
  assert.match(await line('match').innerText(), /^Manifest \(Demo <b>App<\/b> 1\.2\.3\): matches the vendor build · 2 of 2 files checked, 0 differences$/, 'the app name is text, not markup');
  assert.equal(await page.locator('#match b').count(), 0, 'no markup from the status');
  assert.match(await line('differs').innerText(), /DIFFERS from the vendor build · 2 of 2 files checked, 1 differences/);
  assert.match(await line('invalid').innerText(), /^Manifest INVALID: the signature of .* does not match/);
  assert.equal(await line('invalid').getAttribute('data-manifest'), 'invalid');
  await page.close();
});
