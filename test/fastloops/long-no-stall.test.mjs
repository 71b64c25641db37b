// Long (3 min): a default-settings Guard in a process mapping >= 200 MiB of code never reports
// checker-stalled: paced passes of tens of seconds are progress, not a stall. Runs in CI; keep
// other heavy suites out of its way (it is a timing property of a paced sweep).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = process.platform !== 'linux' ? 'Linux only' : !fs.existsSync(path.join(root, 'build/Release/pg_testhooks.node')) ? 'test addon not built' : false;
const RUN_MS = Number(process.env.PG_LONG_TEST_MS ?? 180000);

test(`default Guard with >= 200 MiB of code: no checker-stalled in ${RUN_MS / 1000} s`, { skip, timeout: RUN_MS + 120000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-long-'));
  fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(path.join(root, 'build/Release/procguard.node'), path.join(dir, 'build/Release/procguard.node'));
  fs.copyFileSync(path.join(root, 'build/Release/pg_testhooks.node'), path.join(dir, 'pg_testhooks.node'));
  const child = spawn(process.execPath, [path.join(root, 'test/fastloops/children/guard-child.cjs'), dir, '224'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = [];
  let buf = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  });
  const until = async (pred, ms, what) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const hit = lines.find(pred);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}; stderr: ${stderr}`);
  };
  try {
    await until((l) => l.event === 'pre', 60000, 'the child mapped its code');
    child.stdin.write('start\n');
    const ready = await until((l) => l.event === 'ready', 120000, 'the Guard started');
    assert.ok(ready.bytes >= 200 * 1024 * 1024, `covers >= 200 MiB (${ready.bytes})`);
    await new Promise((r) => setTimeout(r, RUN_MS));
    child.stdin.write('status\n');
    const st = (await until((l) => l.event === 'status', 10000, 'status')).status;
    const stalls = lines.filter((l) => l.event === 'finding' && l.kind === 'checker-stalled');
    assert.deepEqual(stalls, [], `no checker-stalled; loops: ${JSON.stringify(st.loops)}`);
    assert.notEqual(st.state, 'stalled');
    assert.ok(st.lastCheck !== null, 'passes complete');
  } finally {
    child.stdin.end('exit\n');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
