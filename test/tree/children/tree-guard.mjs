// Runs as uid 65534: starts Debian's chromium headless (it refuses to sandbox as root), opens
// extra pages through the DevTools HTTP endpoint (headless allows one URL on the command line) so
// there are several renderers, and watches chromium's tree with a Guard (processTree.rootPid).
// Prints JSON lines: {event:'ready'}, {event:'finding'}, and answers stdin commands
// 'status' / 'check' / 'stats' / 'open <title>' (a new page: a new renderer) / 'quit' with {event:'status'|'check'}.
// argv[2]: JSON { dist, userDataDir, noSandbox, pages, treeOptions }
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const cfg = JSON.parse(process.argv[2]);
const require = createRequire(import.meta.url);
const { Guard } = require(path.join(cfg.dist, 'index.js'));
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const args = ['--headless=new', `--user-data-dir=${cfg.userDataDir}`, '--remote-debugging-port=0', '--no-first-run', '--disable-dev-shm-usage'];
if (cfg.noSandbox) args.push('--no-sandbox');
const chromium = spawn(cfg.chromium ?? '/usr/lib/chromium/chromium', [...args, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
let chromiumErr = '';
chromium.stderr.on('data', (d) => (chromiumErr = (chromiumErr + d).slice(-4000)));
chromium.on('exit', (code, sig) => out({ event: 'chromium-exit', code, sig, stderr: chromiumErr }));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let port = null;
for (let i = 0; i < 200 && port === null; i++) {
  try {
    port = Number(fs.readFileSync(path.join(cfg.userDataDir, 'DevToolsActivePort'), 'utf8').split('\n')[0]) || null;
  } catch {
    await sleep(100);
  }
}
if (port === null) {
  out({ event: 'error', message: `chromium did not start: ${chromiumErr}` });
  process.exit(2);
}
for (let i = 0; i < (cfg.pages ?? 0); i++) {
  // Distinct data: URLs are distinct sites: each page gets a renderer of its own.
  const r = await fetch(`http://127.0.0.1:${port}/json/new?data:text/html,<title>page${i}</title><p>${i}`, { method: 'PUT' });
  if (!r.ok) out({ event: 'error', message: `json/new: ${r.status}` });
}

// Only the tree: the other subsystems are off, the debugger watch too (the DevTools port this
// harness opens pages through is a remote-debugging listener in the watched tree by design).
const guard = new Guard({ code: false, kernel: false, launch: false, debuggers: false, processTree: { rootPid: chromium.pid, ...(cfg.treeOptions ?? {}) } });
guard.on('finding', (f) => out({ event: 'finding', at: Date.now(), finding: f }));
await guard.start();
out({ event: 'ready', pid: process.pid, chromiumPid: chromium.pid, port, status: guard.status() });

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const cmd = line.trim();
  if (cmd === 'status') out({ event: 'status', status: guard.status() });
  else if (cmd === 'check') out({ event: 'check', status: await guard.check() });
  // The native fast loop's counters (bench diagnostics; reaches into the Guard's tree monitor).
  else if (cmd === 'stats') out({ event: 'stats', stats: guard.tree?.sentinelStats() ?? null });
  else if (cmd.startsWith('open ')) {
    const r = await fetch(`http://127.0.0.1:${port}/json/new?data:text/html,<title>${encodeURIComponent(cmd.slice(5))}</title>`, { method: 'PUT' });
    out({ event: 'opened', ok: r.ok });
  }
  else if (cmd === 'quit') {
    guard.stop();
    chromium.kill('SIGTERM');
    setTimeout(() => chromium.kill('SIGKILL'), 3000).unref();
    chromium.on('exit', () => process.exit(0));
  }
});
