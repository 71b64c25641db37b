/* global window, document -- evaluated in the Chromium page */
// A process whose code changes one byte in each of 5,000 pages (real writes through /proc/self/mem
// into a 20 MiB r-x file mapping): the Guard's findings stay bounded per file (the first pages one
// by one, then one finding with the count), the Status stays under 1 MB, log lines and 'finding'
// events stay bounded, the restore burst too, and <procguard-status> renders that Status in Chromium.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Guard } from '../../dist/index.js';
import { PAGES_PER_FILE, PAGES_TOTAL } from '../../dist/integrity/aggregate.js';
import { hooks, hooksMissing, peek, poke } from '../integrity/helpers.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PAGES = 5000;
const SIZE = 5120 * 4096;
const skip = process.platform !== 'linux' ? 'Linux only (/proc/self/mem writes)' : hooksMissing;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-flood-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let status = null;

test('5,000 changed code pages: bounded findings, log lines and events; Status < 1 MB', { skip, timeout: 180000 }, async () => {
  const file = path.join(tmp, 'code.bin');
  const buf = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i += 4) buf.writeUInt32LE((i * 2654435761) >>> 0, i);
  fs.writeFileSync(file, buf);
  const base = BigInt(hooks.mapFileExec(file, SIZE, true));
  const lines = [];
  const logger = { info: (l) => lines.push(l), warn: (l) => lines.push(l), error: (l) => lines.push(l) };
  const g = new Guard({ kernel: false, launch: false, sentinelMs: 0, watchFiles: false, debuggers: false, logger });
  const found = [];
  g.on('finding', (f) => found.push(f));
  try {
    await g.start();
    const restore = [];
    for (let p = 0; p < PAGES; p++) {
      const a = base + BigInt(p * 4096 + (p % 4000));
      const orig = peek(a);
      poke(a, orig ^ 0x5a);
      restore.push([a, orig]);
    }
    const linesBefore = lines.length;
    const eventsBefore = found.length;
    status = await g.check();
    const mine = status.findings.filter((f) => f.path === file);
    const single = mine.filter((f) => !f.evidence?.aggregated);
    const summary = mine.filter((f) => f.evidence?.aggregated);
    assert.ok(single.length > 0 && single.length <= PAGES_PER_FILE, `the first pages stay findings of their own (${single.length})`);
    assert.equal(summary.length, 1, `one summary finding for the rest: ${summary.map((f) => f.key).join(', ')}`);
    assert.equal(summary[0].evidence.totalPages, PAGES, `the summary counts all ${PAGES} pages`);
    assert.equal(summary[0].evidence.pages + single.length, PAGES, 'kept + folded = all');
    assert.match(summary[0].detail, new RegExp(`${PAGES - single.length} more page\\(s\\) of .*code\\.bin modified`), summary[0].detail);
    assert.deepEqual(single.map((f) => f.page), [0, 1, 2, 3, 4, 5, 6, 7].slice(0, single.length), 'the lowest pages are the ones listed');
    const size = JSON.stringify(status).length;
    assert.ok(size < 1024 * 1024, `JSON.stringify(status).length is ${size} (< 1 MB)`);
    assert.ok(status.findings.length <= PAGES_TOTAL + 16, `the Status holds ${status.findings.length} findings`);
    assert.ok(lines.length - linesBefore <= PAGES_TOTAL + 16, `log lines for the burst: ${lines.length - linesBefore}`);
    assert.ok(found.length - eventsBefore <= PAGES_TOTAL + 16, `'finding' events for the burst: ${found.length - eventsBefore}`);

    // The restore burst is bounded the same way.
    for (const [a, orig] of restore) poke(a, orig);
    const restoredBefore = found.length;
    const s2 = await g.check();
    const restored = found.slice(restoredBefore).filter((f) => f.kind === 'code-restored' && f.path === file);
    assert.ok(restored.length > 0 && restored.length <= PAGES_PER_FILE + 1, `code-restored events bounded: ${restored.length}`);
    const restoredSummary = restored.find((f) => f.evidence?.aggregated);
    assert.ok(restoredSummary, 'one summary restore event');
    assert.equal(restoredSummary.evidence.totalPages, PAGES, 'it counts every restored page');
    assert.deepEqual(s2.findings.filter((f) => f.path === file), [], 'nothing open once the code is restored');
  } finally {
    g.stop();
    hooks.munmap(base, SIZE);
  }
});

test('<procguard-status> renders the flooded Status in Chromium', { skip, timeout: 120000 }, async (t) => {
  if (!status) return t.skip('the flood test did not produce a Status');
  const found = createRequire(import.meta.url)('../../scripts/find-browser.js').findBrowser();
  assert.ok(found, 'a Chromium for the renderer tests (npm test installs or names one)');
  const { chromium } = await import('playwright');
  const moduleFile = path.join(root, 'dist/electron/renderer/status-element.mjs');
  const server = http.createServer((req, res) => {
    const send = (type, body) => {
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    };
    if (req.url === '/index.html') send('text/html', '<!doctype html><meta charset="utf-8"><procguard-status id="s"></procguard-status><script type="module" src="/page.mjs"></script>');
    else if (req.url === '/page.mjs') send('text/javascript', "import '/status-element.mjs'; window.__ready = true;");
    else if (req.url === '/status-element.mjs') send('text/javascript', fs.readFileSync(moduleFile));
    else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const browser = await chromium.launch({ executablePath: found.executablePath, args: ['--no-sandbox', '--headless', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
    await page.waitForFunction(() => window.__ready === true);
    await page.evaluate((st) => {
      document.getElementById('s').status = st;
    }, status);
    const rows = page.locator('#s [part~="finding"]');
    assert.equal(await rows.count(), status.findings.length, 'one row per finding');
    const text = (await rows.allInnerTexts()).join('\n');
    assert.match(text, /more page\(s\) of .*code\.bin modified \(5000 in all/, 'the summary row says how many pages');
    assert.deepEqual(errors, [], 'no page errors');
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
  }
});
