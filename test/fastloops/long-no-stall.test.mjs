// Long (3 min): a default-settings Guard in a process mapping >= 200 MiB of code never reports
// checker-stalled: paced passes of tens of seconds are progress, not a stall. Runs in CI; keep
// other heavy suites out of its way (it is a timing property of a paced sweep).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hooksPath } from '../native/hooks.mjs';
import { lineProc, reapChildren } from '../kernel/helpers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = process.platform !== 'linux' ? 'Linux only' : !fs.existsSync(hooksPath) ? 'test addon not built' : false;
const RUN_MS = Number(process.env.PG_LONG_TEST_MS ?? 180000);

test.afterEach(reapChildren); // the Guard child never outlives a failing test

test(`default Guard with >= 200 MiB of code: no checker-stalled in ${RUN_MS / 1000} s`, { skip, timeout: RUN_MS + 120000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-long-'));
  fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(path.join(root, 'build/Release/procguard.node'), path.join(dir, 'build/Release/procguard.node'));
  fs.copyFileSync(hooksPath, path.join(dir, 'pg_testhooks.node'));
  const g = lineProc(process.execPath, [path.join(root, 'test/fastloops/children/guard-child.cjs'), dir, '224'], {}, JSON.parse, 120000);
  const { child } = g;
  try {
    await g.waitFor((l) => l.event === 'pre', 'the child mapped its code', 0, 60000);
    g.send('start');
    const ready = await g.waitFor((l) => l.event === 'ready', 'the Guard started');
    assert.ok(ready.bytes >= 200 * 1024 * 1024, `covers >= 200 MiB (${ready.bytes})`);
    await new Promise((r) => setTimeout(r, RUN_MS));
    const from = g.lines.length;
    g.send('status');
    const st = (await g.waitFor((l) => l.event === 'status', 'status', from, 10000)).status;
    const stalls = g.lines.filter((l) => l.event === 'finding' && l.kind === 'checker-stalled');
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
