// <procguard-status> in real Chromium (scripts/find-browser.js, driven by Playwright). The module
// is served as emitted (dist/electron/renderer/status-element.mjs) from a localhost server, under a
// strict CSP, and rendered with the snapshots from snapshots.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { createRequire } from 'node:module';
import { makeSnapshots, MALICIOUS_PATH, tracedHardening, statusWithHardening } from './snapshots.mjs';
import { portalHardenings } from '../harden/portal-env.mjs';

// The browser comes from the one lookup `npm test` checked first (scripts/test-prereqs.js).
const found = createRequire(import.meta.url)('../../scripts/find-browser.js').findBrowser();
if (!found) throw new Error('no Chromium for the renderer tests: run `npm test` (it installs or names one), or set PROCGUARD_BROWSER');
const browserPath = found.executablePath;

const root = fileURLToPath(new URL('../..', import.meta.url));
const moduleFile = path.join(root, 'dist/electron/renderer/status-element.mjs');
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; require-trusted-types-for 'script'";
const STATES = ['ok', 'findings', 'compromised', 'stalled'];

const pageHtml = (withCsp) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>procguard status</title>
${withCsp ? `<meta http-equiv="Content-Security-Policy" content="${CSP}">` : ''}
<link rel="stylesheet" href="/page.css"></head>
<body><main>${STATES.map((s) => `<procguard-status id="${s}"></procguard-status>`).join('\n')}</main>
<script type="module" src="/page.mjs"></script></body></html>`;
const pageCss = `
body { margin: 16px; background: #f4f4f4; }
main { display: grid; grid-template-columns: repeat(2, 480px); gap: 12px; }
#compromised { --procguard-bad: rgb(1, 2, 3); }
procguard-status::part(heading) { text-transform: uppercase; }`;
const pageJs = `
import { connect, hexOffset } from '/status-element.mjs';
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));
window.__procguard = { connect, hexOffset };
window.__ready = true;`;

let server;
let base;
let browser;
let snaps;

before(async () => {
  snaps = await makeSnapshots();
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const send = (type, body, headers = {}) => { res.writeHead(200, { 'content-type': type, ...headers }); res.end(body); };
    if (url.pathname === '/index.html') send('text/html', pageHtml(true), { 'content-security-policy': CSP });
    else if (url.pathname === '/nocsp.html') send('text/html', pageHtml(false));
    else if (url.pathname === '/page.css') send('text/css', pageCss);
    else if (url.pathname === '/page.mjs') send('text/javascript', pageJs);
    else if (url.pathname === '/status-element.mjs') send('text/javascript', fs.readFileSync(moduleFile));
    else { res.writeHead(404); res.end(); }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
});
after(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

async function openPage(file) {
  const page = await browser.newPage({ viewport: { width: 1020, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/${file}`);
  await page.waitForFunction(() => window.__ready === true);
  return { page, errors };
}

test('status element: each state renders with accessible text, steps, timing and findings (strict CSP)', async () => {
  const { page, errors } = await openPage('index.html');
  for (const s of STATES) await page.evaluate(([id, st]) => { document.getElementById(id).status = st; }, [s, snaps[s]]);

  const labels = { ok: 'OK: no open findings', findings: 'Findings open', compromised: 'Compromised', stalled: 'Checker stalled' };
  for (const s of STATES) {
    const el = page.locator(`#${s}`);
    assert.equal(await el.getAttribute('state'), s, `#${s} should reflect state=${s}`);
    const live = el.getByRole('status');
    assert.equal(await live.count(), 1, `#${s} should have one role=status live region`);
    assert.equal(await live.getAttribute('aria-live'), 'polite', 'the live region is polite');
    assert.equal((await live.innerText()).trim().replace(/^\S+\s+/, ''), labels[s], `#${s} should say "${labels[s]}" in text`);
    assert.equal(await el.getByRole('heading', { level: 2, name: 'Process integrity' }).count(), 1, `#${s} should have an h2 heading`);
    const steps = el.locator('[part~="step"]');
    const wantSteps = snaps[s].hardening.steps;
    assert.equal(await steps.count(), wantSteps.length, `#${s} should list the ${wantSteps.length} hardening steps`);
    assert.match(await steps.first().innerText(), new RegExp(`${wantSteps[0].id}: ${wantSteps[0].status}`), 'a step shows id and status');
    assert.match(await el.locator('[part~="meta"]').innerText(), new RegExp(`Last check: ${snaps[s].lastCheck.at.replace(/[.]/g, '\\.')}, took [0-9.]+ (ms|s)`), `#${s} shows last check time and duration`);
    const findings = el.locator('[part~="finding"]');
    assert.equal(await findings.count(), snaps[s].findings.length, `#${s} lists ${snaps[s].findings.length} findings`);
  }
  assert.match(await page.locator('#stalled [part~="meta"]').innerText(), /heartbeat [0-9.]+ (ms|s) ago/, 'stalled shows the heartbeat age');
  // fastloops: a loop that is off says so and why (these real runs turned the sentinel and kernel checks off).
  const loops = await page.locator('#ok [part~="loops"]').innerText();
  assert.match(loops, /tamper sentinel OFF \(off by option \(sentinelMs: 0\)\)/, `the sentinel being off is visible: ${loops}`);
  assert.match(loops, /kernel watch OFF \(off by option \(kernel: false\)\)/, `the kernel watch being off is visible: ${loops}`);
  assert.match(loops, /\d+ code files watched/, 'the watched code files are counted');

  // Findings: module path, hex offset, severity as text; highest severity first.
  const comp = page.locator('#compromised [part~="finding"]');
  assert.match(await comp.nth(0).innerText(), /DEGRADE\s+launch · /i, 'the highest-severity finding (launch, degrade) comes first');
  const codeFinding = snaps.compromised.findings.find((f) => f.kind === 'code-modified');
  assert.ok(codeFinding, 'the compromised snapshot holds a real code-modified finding');
  const code = await comp.nth(1).innerText();
  assert.match(code, /RESTART\s+code · code-modified/i, 'the code finding shows severity, subsystem and kind');
  assert.ok(code.includes(`${codeFinding.path} · offset 0x${codeFinding.offset.toString(16)} · address ${codeFinding.address} · page ${codeFinding.page}`), `path, hex offset, address, page in: ${code}`);
  assert.equal(await page.getByRole('list').count() >= 6, true, 'steps and findings are lists');

  // Themable: custom property and ::part from the page's stylesheet.
  const color = await page.locator('#compromised [part~="state"]').evaluate((e) => getComputedStyle(e).color);
  assert.equal(color, 'rgb(1, 2, 3)', '--procguard-bad should colour the compromised state');
  const tt = await page.locator('#ok [part~="heading"]').evaluate((e) => getComputedStyle(e).textTransform);
  assert.equal(tt, 'uppercase', '::part(heading) should be stylable from the page');
  const bg = await page.locator('#ok [part~="container"]').evaluate((e) => getComputedStyle(e).borderTopStyle);
  assert.equal(bg, 'solid', 'the built-in stylesheet applies under style-src self (constructed stylesheet)');

  assert.deepEqual(await page.evaluate(() => window.__violations), [], 'no CSP violation (no inline style/script, Trusted Types clean)');
  assert.deepEqual(errors, [], 'no page errors');
  fs.mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'test-artifacts/status-element.png'), fullPage: true });
  assert.ok(fs.statSync(path.join(root, 'test-artifacts/status-element.png')).size > 1000, 'screenshot written');
  await page.close();
});

test('status element: attacker-controlled paths are shown as text, never as markup (no CSP safety net)', async () => {
  const { page, errors } = await openPage('nocsp.html');
  await page.evaluate((st) => { document.getElementById('ok').status = st; }, snaps.malicious);
  await page.waitForTimeout(200); // give an injected onerror handler the chance to run if it existed
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no injected script or handler ran');
  const loc = await page.locator('#ok [part~="finding-location"]').innerText();
  assert.ok(loc.includes(MALICIOUS_PATH), `the malicious path should be shown verbatim, got ${loc}`);
  assert.equal(await page.locator('#ok').evaluate((e) => e.shadowRoot.querySelectorAll('img, script, b').length), 0, 'no element was created from the data');
  assert.ok((await page.locator('#ok [part~="detail"]').first().innerText()).includes(MALICIOUS_PATH), 'the detail (which quotes the path) is literal text');
  assert.deepEqual(errors, [], 'no page errors');
  await page.close();
});

test('status element: connect() shows the first snapshot, follows pushes and ignores older ones', async () => {
  const { page } = await openPage('index.html');
  const result = await page.evaluate(async ([a, b, c]) => {
    const el = document.getElementById('ok');
    let push;
    let unsubscribed = false;
    // A stand-in for window.procguard with a slow first reply, so a push overtakes it.
    const api = {
      getStatus: () => new Promise((r) => setTimeout(() => r(a), 50)),
      onStatus: (cb) => { push = cb; return () => { unsubscribed = true; }; },
    };
    const stop = window.__procguard.connect(el, api);
    push(b);
    const afterPush = el.getAttribute('state');
    await new Promise((r) => setTimeout(r, 100));
    const afterStale = el.getAttribute('state');
    push(c);
    const afterNext = el.getAttribute('state');
    stop();
    const missing = document.getElementById('stalled');
    window.__procguard.connect(missing, undefined);
    const missingText = missing.shadowRoot.querySelector('[part~="error"]')?.textContent;
    return { afterPush, afterStale, afterNext, unsubscribed, missingText };
  }, [{ ...snaps.ok, sequence: 1 }, { ...snaps.findings, sequence: 2 }, { ...snaps.compromised, sequence: 3 }]); // one guard's stream
  assert.equal(result.afterPush, 'findings', 'a push is shown at once');
  assert.equal(result.afterStale, 'findings', 'the slower, older getStatus reply (sequence 1) does not overwrite sequence 2');
  assert.equal(result.afterNext, 'compromised', 'the next push is shown');
  assert.equal(result.unsubscribed, true, 'stop() unsubscribes');
  assert.match(result.missingText ?? '', /window\.procguard is missing/, 'a missing preload API is shown as an error');
  await page.close();
});

test('status element: harden() warnings and a tracer attached before hardening are shown, accessibly', async (t) => {
  // A real report: harden({ crashReporter: 'keep-dumps' }) in a child that python3 ptrace-attached first.
  const traced = await tracedHardening();
  if (traced.report === null) {
    t.skip(traced.why);
    return;
  }
  assert.equal(traced.report.tracerBefore.state, 'attached', 'the child saw its tracer');
  assert.equal(traced.report.warnings.length, 2, `the report has the tracer and keep-dumps warnings: ${JSON.stringify(traced.report.warnings)}`);
  const status = await statusWithHardening(traced.report);
  const { page, errors } = await openPage('index.html');
  await page.evaluate(([a, b]) => {
    document.getElementById('ok').status = a;
    document.getElementById('findings').status = b;
  }, [status, snaps.ok]);

  const el = page.locator('#ok');
  const region = el.getByRole('region', { name: 'Hardening warnings (2)' });
  assert.equal(await region.count(), 1, 'one region named by its heading "Hardening warnings (2)"');
  assert.equal(await region.getByRole('heading', { level: 3, name: 'Hardening warnings (2)' }).count(), 1, 'the region has an h3 heading');
  const tracer = region.locator('[part~="tracer"]');
  const tracerText = await tracer.innerText();
  assert.ok(tracerText.includes(`A tracer or debugger (pid ${traced.tracerPid}) was attached before hardening`), `the tracer line names its pid: ${tracerText}`);
  assert.ok(tracerText.includes('keeps full access to this process'), 'and says what it means');
  assert.equal(await tracer.evaluate((e) => getComputedStyle(e).color), 'rgb(176, 0, 32)', 'the tracer line uses the "bad" colour');
  const items = region.getByRole('listitem');
  const keepDumps = traced.report.warnings.find((w) => w.startsWith('crashReporter'));
  assert.deepEqual(await items.allInnerTexts(), [keepDumps], 'the other warning is listed as text; the tracer warning is not listed twice');
  // The screen reader view: heading, tracer text, list.
  const aria = await region.ariaSnapshot();
  assert.match(aria, /heading "Hardening warnings \(2\)" \[level=3\]/, `aria tree has the heading: ${aria}`);
  assert.match(aria, /paragraph: "A tracer or debugger \(pid \d+\) was attached before hardening/, `aria tree has the tracer line: ${aria}`);
  assert.match(aria, /listitem: "crashReporter 'keep-dumps'/, `aria tree has the warning: ${aria}`);
  assert.equal(await el.getByRole('status').innerText().then((x) => x.includes('Hardening')), false, 'warnings stay out of the live region (no re-announcement per snapshot)');

  // A clean report shows no such section.
  assert.equal(await page.locator('#findings').getByRole('region', { name: /Hardening warnings/ }).count(), 0, 'no warnings, no section');
  // Warnings without a tracer: listed, counted.
  const warnOnly = { ...status, hardening: { ...status.hardening, tracerBefore: { state: 'none', detail: 'TracerPid 0' }, warnings: ['step dumpable failed: EPERM'] } };
  await page.evaluate((st) => { document.getElementById('compromised').status = st; }, warnOnly);
  const w = page.locator('#compromised').getByRole('region', { name: 'Hardening warnings (1)' });
  assert.deepEqual(await w.getByRole('listitem').allInnerTexts(), ['step dumpable failed: EPERM'], 'a warning without a tracer');
  assert.equal(await w.locator('[part~="tracer"]').count(), 0, 'no tracer line without a tracer');

  assert.deepEqual(await page.evaluate(() => window.__violations), [], 'no CSP violation');
  assert.deepEqual(errors, [], 'no page errors');
  fs.mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
  await el.screenshot({ path: path.join(root, 'test-artifacts/status-element-hardening-warnings.png') });
  await page.close();
});

test('status element: desktop-portal state from real hardened processes on a real portal', async (t) => {
  // Status.hardening of children that hardened themselves (default, and portals 'allow') on a private
  // session bus with xdg-desktop-portal, then ran guard.checkPortals() (test/harden/portal-env.mjs).
  const real = await portalHardenings();
  if (real.why) {
    t.skip(real.why);
    return;
  }
  assert.equal(real.refused.portals.check.result, 'primed-connections-only', `the default-hardened child was refused: ${JSON.stringify(real.refused.portals)}`);
  assert.equal(real.allowed.portals.check.result, 'ok', `the 'allow' child was answered: ${JSON.stringify(real.allowed.portals)}`);
  const { page, errors } = await openPage('index.html');
  await page.evaluate(([a, b]) => {
    document.getElementById('ok').status = a;
    document.getElementById('findings').status = b;
  }, [await statusWithHardening(real.refused), await statusWithHardening(real.allowed)]);

  const refused = page.locator('#ok');
  const line = refused.locator('[part~="portals"]');
  assert.equal(await line.getAttribute('data-state'), 'refused', 'the refused state is reflected');
  assert.equal(await line.getAttribute('data-checked'), 'yes', 'it is the measured state, not the prediction');
  const text = await line.innerText();
  assert.match(text, /Desktop portals: REFUSED on new connections: file dialogs, screen sharing, settings opened from now on fail \(checked \d{4}-/, `the refused line: ${text}`);
  assert.equal(await line.evaluate((e) => getComputedStyle(e).color), 'rgb(138, 83, 0)', 'the refused line uses the "warn" colour');
  const alerts = refused.getByRole('region', { name: /Hardening warnings/ });
  const warnings = await alerts.getByRole('listitem').allInnerTexts();
  assert.ok(warnings.some((w) => w.startsWith('desktop portals:') && w.includes('file chooser')), `the report's portal warning is listed: ${JSON.stringify(warnings)}`);
  assert.match(await refused.getByRole('region', { name: 'Hardening', exact: true }).ariaSnapshot(), /paragraph: "Desktop portals: REFUSED/, 'the portal line is in the accessibility tree of the Hardening section');

  const allowed = page.locator('#findings [part~="portals"]');
  assert.equal(await allowed.getAttribute('data-state'), 'ok');
  assert.equal(await allowed.getAttribute('data-mode'), 'allow');
  assert.match(await allowed.innerText(), /Desktop portals: answered on a new connection \(checked .*\)\. The process stays dumpable \(portals 'allow'\); what still protects it:/, 'the allow line');
  const protections = await page.locator('#findings [part~="protections"] li').allInnerTexts();
  assert.deepEqual(protections, real.allowed.portals.remaining.protections, 'the remaining protections are listed as the report gives them');

  // Before checkPortals() ran: the prediction, marked as not checked.
  const unchecked = { ...real.refused, portals: { ...real.refused.portals, check: undefined } };
  await page.evaluate((st) => { document.getElementById('compromised').status = st; }, await statusWithHardening(unchecked));
  const predicted = page.locator('#compromised [part~="portals"]');
  assert.deepEqual([await predicted.getAttribute('data-state'), await predicted.getAttribute('data-checked')], ['refused', 'no'], 'the prediction shows until a check ran');
  assert.match(await predicted.innerText(), /expected to refuse new connections .*not checked/, 'and says it is not checked');

  assert.deepEqual(await page.evaluate(() => window.__violations), [], 'no CSP violation');
  assert.deepEqual(errors, [], 'no page errors');
  fs.mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
  await refused.screenshot({ path: path.join(root, 'test-artifacts/status-element-portals.png') });
  await page.close();
});

test('status element: connect() shows a refused subscription as an error', async () => {
  const { page } = await openPage('index.html');
  const text = await page.evaluate(async (a) => {
    const el = document.getElementById('ok');
    const api = {
      getStatus: () => Promise.resolve(a),
      onStatus: (cb, onError) => { setTimeout(() => onError(new Error('procguard: status request too-many-subscribers')), 10); return () => {}; },
    };
    window.__procguard.connect(el, api);
    await new Promise((r) => setTimeout(r, 50));
    return el.shadowRoot.querySelector('[part~="error"]')?.textContent;
  }, snaps.ok);
  assert.match(text ?? '', /too-many-subscribers/, 'the refusal is shown in the element');
  await page.close();
});
