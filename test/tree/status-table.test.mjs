// The process table of <procguard-status> in real Chromium (Playwright), rendered from Status
// snapshots of REAL runs: a Guard (uid 65534) watching a sandboxed headless chromium, and one
// watching a --no-sandbox chromium (every renderer child-unsandboxed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromiumSkip, startTreeGuard, statusWhen, renderers, root } from './helpers.mjs';

const skip = chromiumSkip();
const moduleFile = path.join(root, 'dist/electron/renderer/status-element.mjs');
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; require-trusted-types-for 'script'";
const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tree</title></head>
<body><procguard-status id="good"></procguard-status><procguard-status id="bad"></procguard-status>
<script type="module" src="/page.mjs"></script></body></html>`;
const pageJs = `import '/status-element.mjs'; window.__ready = true;`;

let server;
let base;
let browser;
const snaps = {};

async function realStatus(noSandbox) {
  const g = await startTreeGuard({ pages: 1, noSandbox });
  try {
    return await statusWhen(
      g,
      (s) => renderers(s).length >= 1 && s.processes.every((x) => x.settled) && (!noSandbox || renderers(s).every((r) => s.findings.some((f) => f.pid === r.pid))),
      'settled renderers',
    );
  } finally {
    await g.cleanup();
  }
}

before(async () => {
  if (skip) return;
  snaps.good = await realStatus(false);
  snaps.bad = await realStatus(true);
  const { chromium } = await import('playwright');
  server = http.createServer((req, res) => {
    const send = (type, body, headers = {}) => {
      res.writeHead(200, { 'content-type': type, ...headers });
      res.end(body);
    };
    if (req.url === '/index.html') send('text/html', page, { 'content-security-policy': CSP });
    else if (req.url === '/page.mjs') send('text/javascript', pageJs);
    else if (req.url === '/status-element.mjs') send('text/javascript', fs.readFileSync(moduleFile));
    else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run'] });
});
after(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r()));
});

async function render(statuses) {
  const p = await browser.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  await p.goto(`${base}/index.html`);
  await p.waitForFunction(() => window.__ready === true);
  await p.evaluate((s) => {
    for (const [id, st] of Object.entries(s)) document.getElementById(id).status = st;
  }, statuses);
  return { p, errors };
}

const rowsOf = (p, id) =>
  p.evaluate((id) => [...document.getElementById(id).shadowRoot.querySelectorAll('tr[part~=process]')].map((r) => ({ cells: [...r.children].map((c) => c.textContent), ...r.dataset })), id);

test('process table: a sandboxed tree, every renderer "yes", accessible table', { skip, timeout: 180000 }, async () => {
  const { p, errors } = await render({ good: snaps.good, bad: snaps.bad });
  const rows = await rowsOf(p, 'good');
  assert.equal(rows.length, snaps.good.processes.length, 'one row per process');
  assert.equal(rows[0].type, 'browser');
  const rr = rows.filter((r) => r.type === 'renderer');
  assert.ok(rr.length >= 1);
  for (const r of rr) {
    assert.equal(r.cells[2], 'yes', `renderer row: ${r.cells}`);
    assert.equal(r.cells[3], 'none');
  }
  for (const t of ['zygote', 'gpu-process', 'utility']) assert.ok(rows.some((r) => r.type === t), `a ${t} row`);
  // Accessibility: a named table with column and row headers (Playwright's role engine pierces the open shadow root).
  const table = p.locator('#good').getByRole('table', { name: /Processes \(\d+\)/ });
  assert.equal(await table.count(), 1, 'a table named by its caption');
  for (const h of ['Type', 'PID', 'Sandboxed', 'Findings']) assert.equal(await table.getByRole('columnheader', { name: h }).count(), 1, `column ${h}`);
  assert.ok((await table.getByRole('rowheader', { name: /renderer/ }).count()) >= 1, 'the type is the row header');
  assert.deepEqual(errors, []);
  await p.close();
});

test('process table: --no-sandbox renderers show "no (required)" and their finding', { skip, timeout: 180000 }, async () => {
  const { p, errors } = await render({ good: snaps.good, bad: snaps.bad });
  const rows = await rowsOf(p, 'bad');
  const rr = rows.filter((r) => r.type === 'renderer');
  assert.ok(rr.length >= 1);
  for (const r of rr) {
    assert.equal(r.cells[2], 'no (required)', `renderer row: ${r.cells}`);
    assert.match(r.cells[3], /^1: child-unsandboxed$/);
    assert.equal(r.required, 'yes');
  }
  const color = await p.evaluate(() => {
    const td = document.getElementById('bad').shadowRoot.querySelector('tr[data-type=renderer] td');
    return getComputedStyle(td).color;
  });
  assert.equal(color, 'rgb(176, 0, 32)', 'an unsandboxed required row is marked in the bad colour');
  // Labels are data: markup in one never runs.
  const evil = structuredClone(snaps.bad);
  evil.processes[1].label = '<img src=x onerror="window.__pwned=1">';
  await p.evaluate((s) => (document.getElementById('bad').status = s), evil);
  assert.equal(await p.evaluate(() => window.__pwned), undefined);
  assert.match((await rowsOf(p, 'bad'))[1].cells[0], /<img src=x/);
  assert.deepEqual(errors, []);
  await p.close();
});
