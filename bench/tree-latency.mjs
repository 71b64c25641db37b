// Child latencies of the process tree's native fast loop, on a running tree-guard child (uid 65534
// Guard watching chromium at default tree settings, test/tree/children/tree-guard.mjs); check() is
// never asked, so only the fast loop can report.
//  - child_tamper_latency_ms: a byte written into a renderer's code through /proc/<pid>/mem (a
//    copy-on-write; a different page each trial) -> code-modified (the Guard's emit time);
//  - child_tracer_latency_ms: a same-uid PTRACE_SEIZE of one of a renderer's non-leader threads ->
//    child-tracer-attached.
// Trials start at random phases of the tick and are spaced so each finds the loop idle.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderers, statusWhen, jsonProc, root, NOBODY, codeTarget, pokeByte } from '../test/tree/helpers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** The renderers of `status` still running (chromium may retire one when a page opens). */
const live = (status) => renderers(status).filter((r) => fs.existsSync(`/proc/${r.pid}/maps`));
const summary = (xs, timeouts) => ({ medianMs: median(xs), minMs: xs.length ? Math.min(...xs) : null, maxMs: xs.length ? Math.max(...xs) : null, trials: xs.length, timeouts, samplesMs: xs });

/** Writes into a renderer's code, waits for code-modified, writes back, waits for code-restored. */
async function tamperTrials(g, status, { trials, spacingMs, timeoutMs }) {
  const lat = [];
  let timeouts = 0;
  for (let i = 0; i < trials; i++) {
    await sleep(spacingMs + Math.random() * 200); // a random phase of the tick
    const rs = live(status);
    if (rs.length === 0) throw new Error('no renderer left running for the latency trials');
    const victim = rs[i % rs.length];
    // A distinct page per trial (a page written once stays anonymous after its restore).
    const target = codeTarget(victim.pid, 0.1 + (0.8 * i) / Math.max(1, trials));
    const from = g.lines.length;
    const at = Date.now();
    const orig = pokeByte(victim.pid, target.addr, (b) => b ^ 0x5a);
    try {
      const hit = await g.waitFor((l) => l.event === 'finding' && l.finding.kind === 'code-modified' && l.finding.pid === victim.pid && l.finding.offset === target.fileOffset, 'code-modified', from, timeoutMs);
      lat.push(hit.at - at);
    } catch {
      timeouts++;
    }
    const back = g.lines.length;
    pokeByte(victim.pid, target.addr, () => orig);
    await g.waitFor((l) => l.event === 'finding' && l.finding.kind === 'code-restored' && l.finding.pid === victim.pid, 'code-restored', back, timeoutMs).catch(() => undefined);
  }
  return summary(lat, timeouts);
}

/** Seizes a non-leader thread of a renderer, waits for child-tracer-attached, detaches, waits for it to close. */
async function tracerTrials(g, status, { trials, spacingMs, timeoutMs }) {
  const lat = [];
  let timeouts = 0;
  for (let i = 0; i < trials; i++) {
    await sleep(spacingMs + Math.random() * 200);
    const rs = live(status);
    if (rs.length === 0) throw new Error('no renderer left running for the latency trials');
    const victim = rs[i % rs.length];
    const tids = fs.readdirSync(`/proc/${victim.pid}/task`).map(Number).filter((t) => t !== victim.pid);
    const tid = tids[i % tids.length];
    const from = g.lines.length;
    const tracer = jsonProc('/usr/bin/python3', [path.join(root, 'test', 'kernel', 'children', 'tracer.py'), String(tid)], { ...NOBODY });
    try {
      const seized = await tracer.waitFor((l) => l.raw?.startsWith('seized') || l.raw?.startsWith('error'), 'tracer seize', 0, timeoutMs);
      if (!seized.raw.startsWith('seized')) throw new Error(seized.raw);
      const hit = await g.waitFor((l) => l.event === 'finding' && l.finding.kind === 'child-tracer-attached' && l.finding.pid === victim.pid, 'child-tracer-attached', from, timeoutMs);
      lat.push(hit.at - seized.receivedAt);
      tracer.send('detach');
      await tracer.waitFor((l) => l.raw === 'detached', 'detach', 0, timeoutMs);
    } catch {
      timeouts++;
    } finally {
      tracer.child.kill('SIGKILL');
    }
    await statusWhen(g, (st) => !st.findings.some((x) => x.kind === 'child-tracer-attached'), 'the tracer finding to close', 15000).catch(() => undefined);
  }
  return summary(lat, timeouts);
}

/** Both latencies on a settled tree-guard child `g` whose last status is `status`. */
export async function childLatencies(g, status, { quick }) {
  const opts = { trials: quick ? 3 : 9, spacingMs: quick ? 300 : 1500, timeoutMs: 10000 };
  const tamper = await tamperTrials(g, status, opts);
  const tracer = await tracerTrials(g, status, opts);
  return { tamper, tracer };
}
