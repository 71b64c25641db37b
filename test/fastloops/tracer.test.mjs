// Tracers against a default-settings Guard in a process mapping >= 200 MiB of code, both
// unprivileged (uid 65534, python3 ctypes PTRACE_SEIZE like test/kernel/ptrace.test.mjs): a tracer
// attached before start is reported (atStart), and a same-uid seize after start is reported by the
// native watch loop well before any sweep (generous bound 1 s; the bench reports the median).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hooksPath } from '../native/hooks.mjs';
import { lineProc, reapChildren } from '../kernel/helpers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NOBODY = { uid: 65534, gid: 65534 };
let scope;
try {
  scope = Number(fs.readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8'));
} catch {
  scope = 0;
}
const skip =
  process.platform !== 'linux'
    ? 'Linux only'
    : process.getuid() !== 0
      ? 'needs root to spawn uid 65534 processes'
      : scope >= 1
        ? `Yama ptrace_scope=${scope} forbids non-descendant same-uid attach`
        : !fs.existsSync('/usr/bin/python3')
          ? 'needs /usr/bin/python3'
          : !fs.existsSync(hooksPath)
            ? 'test addon not built'
            : false;

/** dist/, the addon where dist/native.js looks for it, the test addon and the children, world-readable. */
function worldReadableCopy() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-fastloops-'));
  fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(path.join(root, 'build/Release/procguard.node'), path.join(dir, 'build/Release/procguard.node'));
  fs.copyFileSync(hooksPath, path.join(dir, 'pg_testhooks.node'));
  fs.cpSync(path.join(root, 'test/fastloops/children'), path.join(dir, 'children'), { recursive: true });
  fs.copyFileSync(path.join(root, 'test/kernel/children/tracer.py'), path.join(dir, 'children', 'tracer.py'));
  const walk = (p) => {
    const st = fs.statSync(p);
    fs.chmodSync(p, st.isDirectory() ? 0o755 : 0o644);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  return dir;
}


// A failing test must not leave a tracer.py (waiting on its stdin) or the Guard child alive: the file
// would then never exit, and `npm test` would hang instead of reporting the failure.
test.afterEach(reapChildren);

const tracers = [];
const tracerOf = (dir, target) => {
  const t = lineProc('/usr/bin/python3', [path.join(dir, 'children', 'tracer.py'), String(target)], NOBODY, (l) => ({ line: l }), 60000);
  tracers.push(t);
  return t;
};

test('tracer before start is reported (atStart); a same-uid seize after start is reported within 1 s with >= 200 MiB of code', { skip, timeout: 240000 }, async () => {
  const dir = worldReadableCopy();
  const g = lineProc(process.execPath, [path.join(dir, 'children', 'guard-child.cjs'), dir, '224'], NOBODY, JSON.parse, 60000);
  try {
    const pre = await g.waitFor((l) => l.event === 'pre', 'child mapped its code');
    assert.equal(pre.uid, 65534);
    // 1. Attached before the Guard starts.
    let t = tracerOf(dir, pre.pid);
    const s1 = await t.waitFor((l) => /^(seized|error)/.test(l.line), 'tracer seize');
    assert.match(s1.line, /^seized \d+$/, `could not seize: ${s1.line}`);
    g.send('start');
    const early = await g.waitFor((l) => l.event === 'finding' && l.kind === 'tracer-attached', 'tracer-attached for a tracer present at start', 0, 30000);
    assert.equal(early.evidence.atStart, true, `evidence.atStart: ${JSON.stringify(early)}`);
    const ready = await g.waitFor((l) => l.event === 'ready', 'guard started');
    assert.ok(ready.bytes >= 200 * 1024 * 1024, `the Guard covers >= 200 MiB of code (${ready.bytes})`);
    t.send('detach');
    await t.waitFor((l) => l.line === 'detached', 'detach');
    t.child.stdin.end();
    await new Promise((r) => setTimeout(r, 1500));
    // 2. Seized after start, on a non-leader thread: the watch loop reads every thread.
    const tids = fs.readdirSync(`/proc/${pre.pid}/task`).map(Number).filter((x) => x !== pre.pid);
    const from = g.lines.length;
    t = tracerOf(dir, tids[0]);
    const s2 = await t.waitFor((l) => /^(seized|error)/.test(l.line), 'second seize');
    assert.match(s2.line, /^seized \d+$/);
    const f = await g.waitFor((l) => l.event === 'finding' && l.kind === 'tracer-attached', 'tracer-attached after start', from, 10000);
    const ms = f.at - s2.at;
    assert.ok(ms <= 1000, `tracer-attached ${ms.toFixed(0)} ms after the seize (bound 1000 ms)`);
    assert.equal(f.evidence.tid, tids[0], 'names the traced thread');
    assert.notEqual(f.evidence.atStart, true);
    t.send('detach');
    await t.waitFor((l) => l.line === 'detached', 'detach');
    t.child.stdin.end();
    assert.equal(g.lines.filter((l) => l.event === 'finding' && l.kind === 'checker-stalled').length, 0, 'no checker-stalled');
  } finally {
    // Tracers first: a traced Guard child that exits stays a zombie until its tracer waits for it or
    // dies, and tracer.py only reads its stdin, so waiting for the child first would hang the file.
    for (const t of tracers.splice(0)) t.child.kill('SIGKILL');
    g.send('exit');
    g.child.stdin.end();
    setTimeout(() => g.child.kill('SIGKILL'), 5000).unref();
    await new Promise((r) => (g.child.exitCode !== null || g.child.signalCode !== null ? r() : g.child.on('exit', r)));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(`/dev/shm/pg-fastloops-${g.child.pid}.bin`, { force: true }); // left behind when it was killed
  }
});
