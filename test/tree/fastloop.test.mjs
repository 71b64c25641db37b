// The tree's native fast loop on a real Chromium (Debian's chromium headless, uid 65534, default tree
// settings): with no check() asked, a byte written into a renderer's code through /proc/<pid>/mem is
// code-modified, written back is code-restored, a renderer started later is code-covered, and a PTRACE_SEIZE of one of a renderer's other
// threads (not its leader) is child-tracer-attached naming that thread. Bounds are generous (the
// machine may be loaded); the latencies are measured in bench/tree.mjs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromiumSkip, startTreeGuard, statusWhen, renderers, jsonProc, root, NOBODY, codeTarget, pokeByte } from './helpers.mjs';

const skip = chromiumSkip();
const running = [];
after(async () => {
  for (const p of running) await p.cleanup();
});

const BOUND_MS = 5000;

test('native fast loop: renderer code write, restore and a non-leader thread tracer, without check()', { skip, timeout: 180000 }, async (t) => {
  const g = await startTreeGuard({ pages: 2 });
  running.push(g);
  const s = await statusWhen(g, (st) => renderers(st).length >= 2 && st.processes.every((x) => x.settled), '2 settled renderers');
  // The sentinel gets each child's code regions at start and at discovery; give it a tick or two.
  await new Promise((r) => setTimeout(r, 1000));

  await t.test('a byte written into a renderer code page is code-modified, then code-restored', async () => {
    const victim = renderers(s)[renderers(s).length - 1];
    const target = codeTarget(victim.pid);
    let from = g.lines.length;
    const orig = pokeByte(victim.pid, target.addr, (b) => b ^ 0xff);
    const wroteAt = Date.now();
    const f = (await g.waitFor((l) => l.event === 'finding' && l.finding.kind === 'code-modified' && l.finding.pid === victim.pid, 'code-modified without check()', from, BOUND_MS)).finding;
    t.diagnostic(`code-modified ${g.lines.at(-1).receivedAt - wroteAt} ms after the write`);
    assert.equal(f.processType, 'renderer', 'names the process type');
    assert.equal(f.path, target.file, 'names the file');
    assert.equal(f.offset, target.fileOffset, 'names the file offset of the byte');
    assert.equal(f.page, Math.floor(target.fileOffset / 4096), 'names the page');
    assert.equal(f.before, orig, 'the byte from the file');
    assert.equal(f.after, orig ^ 0xff, 'the byte in memory');

    from = g.lines.length;
    pokeByte(victim.pid, target.addr, () => orig);
    const r = (await g.waitFor((l) => l.event === 'finding' && l.finding.kind === 'code-restored' && l.finding.pid === victim.pid, 'code-restored without check()', from, BOUND_MS)).finding;
    assert.equal(r.offset, target.fileOffset, 'the restore names the same byte');
    assert.match(r.detail, /equals the file again/, 'the page is still written (anonymous) but equal to the file');
    const st = await statusWhen(g, () => true, 'status');
    assert.ok(!st.findings.some((x) => x.kind === 'code-modified' && x.pid === victim.pid), 'code-modified closed after the restore');
  });

  await t.test('a renderer started after the Guard is code-covered by the fast loop without check()', async () => {
    const known = new Set(renderers(s).map((x) => x.pid));
    g.send('open later');
    const st = await statusWhen(g, (x) => renderers(x).some((r) => !known.has(r.pid) && r.coverage?.bytes > 100 * 1024 * 1024), 'a new renderer with code coverage', 30000);
    const fresh = renderers(st).find((r) => !known.has(r.pid));
    assert.ok(fresh.coverage.regions > 0, `regions handed to the fast loop: ${JSON.stringify(fresh.coverage)}`);
    assert.equal(fresh.coverage.writtenPages, 0, 'nothing written in a fresh renderer');
  });

  await t.test('a PTRACE_SEIZE of a renderer thread that is not its leader is child-tracer-attached', async () => {
    const victim = renderers(s)[0];
    const tid = fs.readdirSync(`/proc/${victim.pid}/task`).map(Number).find((x) => x !== victim.pid);
    assert.ok(tid, `renderer ${victim.pid} has a thread besides its leader`);
    const from = g.lines.length;
    const tracer = jsonProc('/usr/bin/python3', [path.join(root, 'test', 'kernel', 'children', 'tracer.py'), String(tid)], { ...NOBODY });
    try {
      const seized = await tracer.waitFor((l) => l.raw?.startsWith('seized') || l.raw?.startsWith('error'), 'tracer seize');
      assert.match(seized.raw, /^seized \d+$/, `tracer could not seize thread ${tid} of ${victim.pid}: ${seized.raw}`);
      assert.match(fs.readFileSync(`/proc/${victim.pid}/status`, 'latin1'), /\nTracerPid:\t0\n/, 'the leader itself is not traced');
      const hit = await g.waitFor((l) => l.event === 'finding' && l.finding.kind === 'child-tracer-attached' && l.finding.pid === victim.pid, 'child-tracer-attached', from, BOUND_MS);
      t.diagnostic(`tracer on thread ${tid} reported ${hit.at - seized.receivedAt} ms after the seize`);
      assert.equal(hit.finding.evidence.tid, tid, 'names the traced thread');
      assert.equal(hit.finding.evidence.tracerPid, Number(seized.raw.split(' ')[1]), 'names the tracer');
      assert.equal(hit.finding.processType, 'renderer');
      tracer.send('detach');
      await tracer.waitFor((l) => l.raw === 'detached', 'detach');
    } finally {
      tracer.child.kill();
    }
    await statusWhen(g, (st) => !st.findings.some((x) => x.kind === 'child-tracer-attached'), 'the tracer finding to close', 10000);
  });
});
