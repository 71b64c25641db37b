// Acceptance of the process tree on a real Chromium (Debian's chromium, headless, uid 65534): a
// Guard in a node child of the same uid starts chromium and watches its tree (processTree.rootPid).
// Sandboxed run: types, every renderer sandboxed, a byte written into a renderer's code page through
// /proc/<pid>/mem is code-modified (pid, file, page, offset) and restored -> code-restored, a
// same-uid PTRACE_SEIZE of a renderer is child-tracer-attached within 1 s. --no-sandbox run: every
// renderer is child-unsandboxed naming seccomp and the namespace.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromiumSkip, startTreeGuard, statusWhen, renderers, jsonProc, root, NOBODY } from './helpers.mjs';

const skip = chromiumSkip();
const running = [];
after(async () => {
  for (const p of running) await p.cleanup();
});

const allSettled = (s, n) => renderers(s).length >= n && (s.processes ?? []).every((x) => x.settled);

test('sandboxed chromium: types, sandbox, code write and restore, tracer', { skip, timeout: 180000 }, async (t) => {
  const g = await startTreeGuard({ pages: 3 });
  running.push(g);
  const s = await statusWhen(g, (st) => allSettled(st, 3) && st.processes.some((x) => x.type === 'utility'), '3 settled renderers');

  await t.test('Status.processes lists the tree with the right types', () => {
    const types = new Set(s.processes.map((x) => x.type));
    for (const want of ['browser', 'zygote', 'renderer', 'gpu-process', 'utility']) assert.ok(types.has(want), `no ${want} in ${[...types]}`);
    assert.equal(s.processes[0].type, 'browser', 'the root comes first and is the browser');
    assert.equal(s.processes[0].pid, g.chromiumPid, 'the root is the chromium we started');
    assert.ok(s.processes[0].coverage?.bytes > 100 * 1024 * 1024, 'the root (not the Guard process) is code-checked too');
    for (const x of s.processes) {
      assert.ok(/^[0-9]+$/.test(x.startTicks), `start time of ${x.pid}`);
      // Chromium also runs short-lived helpers (type 'other', another exe): only its own types are checked.
      if (x.type !== 'other') assert.equal(x.exe, '/usr/lib/chromium/chromium', `exe of ${x.type} ${x.pid}`);
    }
    const network = s.processes.find((x) => x.utilitySubType === 'network.mojom.NetworkService');
    assert.ok(network, 'the network service utility is listed with its sub-type');
    assert.equal(network.serviceSandboxType, 'none', 'network service runs with sandbox type none (headless, measured)');
    assert.equal(network.sandboxRequired, false, 'a utility with sandbox type none is not required to be sandboxed');
  });

  await t.test('every renderer (and the sandboxed utility) is sandboxed, from the kernel view', () => {
    for (const r of renderers(s)) {
      assert.equal(r.sandboxed, true, `renderer ${r.pid} not sandboxed: ${JSON.stringify(r.sandbox)}`);
      assert.equal(r.sandbox.seccomp, 2);
      assert.equal(r.sandbox.noNewPrivs, true);
      assert.equal(r.sandbox.ownUserNs, true);
      assert.equal(r.sandbox.ownPidNs, true);
      assert.equal(r.sandbox.tracerPid, 0);
      assert.ok(r.coverage && r.coverage.bytes > 100 * 1024 * 1024, `renderer ${r.pid} code covered: ${JSON.stringify(r.coverage)}`);
    }
    const storage = s.processes.find((x) => x.serviceSandboxType === 'utility');
    assert.ok(storage?.sandboxed, 'the utility-sandboxed storage service is sandboxed');
    const bad = s.findings.filter((f) => f.kind === 'child-unsandboxed' || f.kind === 'child-sandbox-changed');
    assert.deepEqual(bad.map((f) => f.detail), [], 'no sandbox finding on a sandboxed chromium');
  });

  await t.test('a byte written into a renderer code page is code-modified, then code-restored', async () => {
    const victim = renderers(s)[renderers(s).length - 1];
    const maps = fs.readFileSync(`/proc/${victim.pid}/maps`, 'utf8').trim().split('\n');
    // A never-run library of the renderer (an audio encoder) when mapped, else the middle of chromium's own text.
    const pick = maps.find((l) => / r-xp /.test(l) && /libvorbisenc|libmp3lame/.test(l)) ?? maps.find((l) => / r-xp .*\/chromium$/.test(l));
    assert.ok(pick, 'found a code mapping in the renderer');
    const [range, , off] = pick.split(/\s+/);
    const [lo, hi] = range.split('-').map((x) => BigInt('0x' + x));
    const file = pick.slice(pick.indexOf('/'));
    const pageIndex = /chromium$/.test(file) ? ((hi - lo) / 4096n / 2n) : 0n;
    const addr = lo + pageIndex * 4096n + 0x123n;
    const fileOffset = Number(BigInt('0x' + off) + pageIndex * 4096n + 0x123n);
    const fd = fs.openSync(`/proc/${victim.pid}/mem`, 'r+');
    const orig = Buffer.alloc(1);
    try {
      fs.readSync(fd, orig, 0, 1, Number(addr));
      fs.writeSync(fd, Buffer.from([orig[0] ^ 0xff]), 0, 1, Number(addr));
    } finally {
      fs.closeSync(fd);
    }
    let from = g.lines.length;
    g.send('check');
    const f = (await g.waitFor((l) => l.event === 'finding' && l.finding.kind === 'code-modified' && l.finding.pid === victim.pid, 'code-modified', from)).finding;
    assert.equal(f.processType, 'renderer');
    assert.equal(f.path, file, 'names the file');
    assert.equal(f.offset, fileOffset, 'names the file offset of the byte');
    assert.equal(f.page, Math.floor(fileOffset / 4096), 'names the page');
    assert.equal(f.before, orig[0], 'the byte from the file');
    assert.equal(f.after, orig[0] ^ 0xff, 'the byte in memory');
    await g.waitFor((l) => l.event === 'check', 'the first check to finish', from);

    const fd2 = fs.openSync(`/proc/${victim.pid}/mem`, 'r+');
    try {
      fs.writeSync(fd2, orig, 0, 1, Number(addr));
    } finally {
      fs.closeSync(fd2);
    }
    from = g.lines.length;
    g.send('check');
    const r = (await g.waitFor((l) => l.event === 'finding' && l.finding.kind === 'code-restored' && l.finding.pid === victim.pid, 'code-restored', from)).finding;
    assert.equal(r.path, file);
    assert.equal(r.offset, fileOffset);
    assert.match(r.detail, /equals the file again/, 'the page is still written (anonymous) but equal to the file');
    const after = (await g.waitFor((l) => l.event === 'check', 'check', from)).status;
    assert.ok(!after.findings.some((x) => x.kind === 'code-modified' && x.pid === victim.pid), 'code-modified closed after the restore');
  });

  await t.test('a same-uid PTRACE_SEIZE of a renderer is child-tracer-attached within 1 s', async (st) => {
    const victim = renderers(s)[0];
    const from = g.lines.length;
    const tracer = jsonProc('/usr/bin/python3', [path.join(root, 'test', 'kernel', 'children', 'tracer.py'), String(victim.pid)], { ...NOBODY });
    const seized = await tracer.waitFor((l) => l.raw?.startsWith('seized') || l.raw?.startsWith('error'), 'tracer seize');
    assert.match(seized.raw, /^seized \d+$/, `tracer could not seize ${victim.pid}: ${seized.raw}`);
    const tracerPid = Number(seized.raw.split(' ')[1]);
    const hit = await g.waitFor((l) => l.event === 'finding' && l.finding.kind === 'child-tracer-attached' && l.finding.pid === victim.pid, 'child-tracer-attached', from, 10000);
    const latency = hit.at - seized.receivedAt;
    st.diagnostic(`tracer reported ${latency} ms after the seize`);
    assert.ok(latency < 1000, `reported ${latency} ms after the seize (limit 1000 ms)`);
    assert.equal(hit.finding.evidence.tracerPid, tracerPid, 'names the tracer');
    assert.equal(hit.finding.evidence.tracerComm, 'python3');
    assert.equal(hit.finding.processType, 'renderer');
    tracer.send('detach');
    await tracer.waitFor((l) => l.raw === 'detached', 'detach');
    tracer.child.kill();
    await statusWhen(g, (st) => !st.findings.some((x) => x.kind === 'child-tracer-attached'), 'the tracer finding to close', 10000);
  });
});

test('--no-sandbox chromium: every renderer is child-unsandboxed naming seccomp and the namespace', { skip, timeout: 120000 }, async () => {
  const g = await startTreeGuard({ pages: 2, noSandbox: true });
  running.push(g);
  const s = await statusWhen(g, (st) => allSettled(st, 2) && renderers(st).every((r) => st.findings.some((f) => f.kind === 'child-unsandboxed' && f.pid === r.pid)), 'a finding per renderer');
  for (const r of renderers(s)) {
    assert.equal(r.sandboxed, false);
    const f = s.findings.find((x) => x.kind === 'child-unsandboxed' && x.pid === r.pid);
    assert.equal(f.processType, 'renderer');
    assert.ok(f.evidence.failed.includes('seccomp'), `names seccomp: ${f.detail}`);
    assert.ok(f.evidence.failed.includes('namespace'), `names the namespace: ${f.detail}`);
    assert.match(f.detail, /seccomp mode 0/);
    assert.match(f.detail, /user namespace/);
    assert.equal(f.evidence.noSandboxFlag, true, 'the --no-sandbox flag is seen on its command line');
  }
});
