// Issue 24, defect 8: renderers get what the status element shows, not the main process's full
// record. A real Guard (process tree over real child processes, labelled by two windows; launch
// audit fed switch and environment values) serves its status through the bridge: the frame gets no
// window title or URL and no argv/env value, while guard.status() keeps them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Guard } from '../../dist/index.js';
import { createStatusBridge } from '../../dist/electron/bridge.js';
import { CHANNELS } from '../../dist/electron/channels.js';
import { electronProcessTree } from '../../dist/electron/main.js';
import { createRendererView, WINDOW_LABEL_PLACEHOLDER } from '../../dist/electron/renderer-view.js';
import { FakeApp, FakeIpcMain, FakeWebContents, FakeFrame, eventFrom } from './fakes.mjs';

const SECRETS = {
  titles: ['Bank - Statement March', 'Re: salary negotiation'],
  urls: ['https://bank.example/account?token=s3cret-token', 'https://mail.example/inbox/4242'],
  argv: ['--remote-debugging-port=9229', 'http://user:pa55word@proxy.example:3128'],
  env: ['/tmp/preload-s3cret.so', '/tmp/steal-s3cret.js'],
};
const all = () => [...SECRETS.titles, ...SECRETS.urls, '9229', 'pa55word', ...SECRETS.env];

class Contents {
  constructor(pid, title, url) {
    Object.assign(this, { pid, title, url });
  }
  getOSProcessId() { return this.pid; }
  getTitle() { return this.title; }
  getURL() { return this.url; }
  isDestroyed() { return false; }
  getLastWebPreferences() { return { sandbox: true }; }
}

test('renderer view: no other window\'s title/URL and no argv/env value reaches a renderer; the Guard keeps the full record', { skip: process.platform !== 'linux' ? 'the process tree is Linux-only' : false }, async () => {
  const kids = [0, 1].map(() => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }));
  let guard;
  let bridge;
  try {
    await Promise.all(kids.map((k) => new Promise((r) => k.once('spawn', r))));
    const app = new FakeApp({ metrics: kids.map((k) => ({ pid: k.pid, type: 'Tab' })) });
    const wcs = kids.map((k, i) => new Contents(k.pid, SECRETS.titles[i], SECRETS.urls[i]));
    guard = new Guard({
      kernel: false,
      sentinelMs: 0,
      launch: {
        env: { LD_PRELOAD: SECRETS.env[0], NODE_OPTIONS: `--require ${SECRETS.env[1]}` },
        argv: ['/opt/app/app', SECRETS.argv[0], `--proxy-server=${SECRETS.argv[1]}`],
        execArgv: [],
        inspectorUrl: null,
      },
      processTree: electronProcessTree({ app, webContents: { getAllWebContents: () => wcs }, settleMs: 0, pollMs: 100 }),
    });
    await guard.start();
    // Electron decided these windows sandboxed; the node children are not: a claim mismatch whose
    // detail names each window, and launch findings whose evidence holds the values.
    let full;
    for (let i = 0; i < 50; i++) {
      full = await guard.check();
      if (full.findings.filter((f) => f.kind === 'child-claim-mismatch').length === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const fullJson = JSON.stringify(full);
    const inFull = all().filter((s) => fullJson.includes(s));
    assert.ok(inFull.length >= 6 && SECRETS.titles.every((t) => fullJson.includes(t)) && SECRETS.env.every((e) => fullJson.includes(e)),
      `the Guard's own status keeps the full record (found ${JSON.stringify(inFull)}; findings ${full.findings.map((f) => f.kind)})`);

    const ipc = new FakeIpcMain();
    bridge = createStatusBridge(guard, ipc, { allowedOrigins: ['app://main'] });
    const wc = new FakeWebContents();
    const frame = new FakeFrame({ origin: 'app://main' });
    const served = ipc.invoke(CHANNELS.get, eventFrom(wc, frame));
    ipc.send(CHANNELS.subscribe, eventFrom(wc, frame));
    const pushed = frame.sent.at(-1)[1];
    for (const [what, json] of [['get', served], ['push', pushed]]) {
      const leaked = all().filter((s) => json.includes(s));
      assert.deepEqual(leaked, [], `${what}: these reached the renderer`);
      const s = JSON.parse(json);
      // What the element shows is still there.
      assert.equal(s.state, full.state, `${what}: state`);
      assert.deepEqual(s.findings.map((f) => [f.id, f.kind, f.severity, f.path ?? null]), full.findings.map((f) => [f.id, f.kind, f.severity, f.path ?? null]), `${what}: every finding, with the fields the element shows`);
      assert.ok(s.findings.every((f) => f.evidence === undefined && f.before === undefined && f.after === undefined), `${what}: no evidence/before/after`);
      const mismatch = s.findings.filter((f) => f.kind === 'child-claim-mismatch');
      assert.ok(mismatch.length === 2 && mismatch.every((f) => f.detail.includes(WINDOW_LABEL_PLACEHOLDER)), `${what}: the window label in a detail is replaced: ${mismatch.map((f) => f.detail)}`);
      const procs = s.processes.filter((p) => kids.some((k) => k.pid === p.pid));
      assert.equal(procs.length, 2, `${what}: both child processes are listed`);
      for (const p of procs) {
        assert.deepEqual([p.label, p.claim, p.exe, p.sandbox], [p.type, undefined, undefined, undefined], `${what}: pid ${p.pid} shows its type as label, no claim, exe or kernel facts`);
      }
      assert.deepEqual(s.processes.map((p) => [p.pid, p.sandboxed, p.sandboxRequired]), full.processes.map((p) => [p.pid, p.sandboxed, p.sandboxRequired]), `${what}: the sandbox column is intact`);
    }
    assert.equal(JSON.stringify(guard.status()).includes(SECRETS.titles[0]), true, 'the main process still has the full record after serving');
  } finally {
    bridge?.dispose();
    guard?.stop();
    for (const k of kids) k.kill('SIGKILL');
  }
});

test('renderer view: a window\'s old title stays scrubbed from an old finding after the window renames', () => {
  const view = createRendererView();
  const proc = (label) => ({ pid: 5, ppid: 1, type: 'renderer', label, claim: { title: 'x' }, sandboxed: false, sandboxRequired: true });
  const finding = { id: 'electron:child-claim-mismatch:1', kind: 'child-claim-mismatch', detail: "renderer pid 5 'Old title' (https://a.example/): Electron says sandboxed" };
  view({ version: 1, findings: [], processes: [proc("'Old title' (https://a.example/)")] });
  const later = view({ version: 1, findings: [finding], processes: [proc("'New title' (https://a.example/)")] });
  assert.equal(later.findings[0].detail, `renderer pid 5 ${WINDOW_LABEL_PLACEHOLDER}: Electron says sandboxed`, 'the remembered old label is replaced');
  assert.equal(later.processes[0].label, 'renderer', 'the row shows the type');
  const passthrough = view({ version: 1, findings: [], manifest: { ok: true }, loops: { files: { watched: 3, watchedPaths: ['/a'], unwatched: [], unwatchedCount: 0 } } });
  assert.deepEqual(passthrough.manifest, { ok: true }, 'fields the view does not know pass unchanged');
  assert.deepEqual(passthrough.loops.files, { watched: 3, unwatchedCount: 0 }, 'file paths are dropped, counts stay');
});
