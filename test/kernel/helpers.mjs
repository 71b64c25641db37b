// Shared helpers for the kernel/launch/policy tests: paths, spawning children, world-readable copies.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hooksPath, hooksMissing } from '../native/hooks.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = path.join(root, 'dist');
export const children = path.join(root, 'test', 'kernel', 'children');
export { hooksPath, hooksMissing };

/** Run a node child and collect its JSON lines; rejects with stderr when it exits non-zero. */
export function runJsonChild(args, { env, timeoutMs = 120000, node = process.execPath, spawnOpts = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], ...spawnOpts });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      if (code !== 0) reject(new Error(`child exited ${code ?? signal}: ${err}\n${out}`));
      else resolve({ lines, stderr: err });
    });
  });
}

/** A fresh world-readable temp dir holding copies of dist/, the test children and the test addon. */
export function worldReadableCopy() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-kernel-'));
  fs.chmodSync(dir, 0o755);
  fs.cpSync(dist, path.join(dir, 'dist'), { recursive: true });
  fs.cpSync(children, path.join(dir, 'children'), { recursive: true });
  if (fs.existsSync(hooksPath)) fs.copyFileSync(hooksPath, path.join(dir, 'pg_testhooks.node'));
  const walk = (p) => {
    const st = fs.statSync(p);
    fs.chmodSync(p, st.isDirectory() ? 0o755 : 0o644);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  return dir;
}

export const byKey = (observations, key) => observations.find((o) => o.key === key);

/** Every child lineProc started that may still run: reapChildren() kills them (see below). */
const live = new Set();

/**
 * Kills (SIGKILL) every lineProc child still running. Register it as `test.afterEach(reapChildren)`
 * (or call it in `after`): a failing test must not leave a tracer.py waiting on its stdin, or a Guard
 * child, keeping the test file alive until the runner's whole-file timeout. Resolves once they exited.
 */
export async function reapChildren() {
  const waits = [];
  for (const c of live) {
    if (c.exitCode === null && c.signalCode === null) {
      waits.push(new Promise((r) => c.once('exit', r)));
      c.kill('SIGKILL');
    }
  }
  live.clear();
  await Promise.all(waits);
}

/**
 * Line-oriented child wrapper: waitFor(pred) resolves with the first (past or future) line matching.
 * Object lines get `at` (performance.now() when the line arrived), for latency measurements.
 */
export function lineProc(cmd, args, opts, parse, defaultWaitMs = 20000) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const lines = [];
  let waiters = [];
  let buf = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const v = parse(buf.slice(0, nl));
      const l = v !== null && typeof v === 'object' ? { ...v, at: performance.now() } : v;
      buf = buf.slice(nl + 1);
      lines.push(l);
      waiters = waiters.filter((w) => !(w.pred(l) && (w.resolve(l), true)));
    }
  });
  return {
    child,
    lines,
    send: (s) => child.stdin.write(s + '\n'),
    waitFor(pred, what, from = 0, ms = defaultWaitMs) {
      const hit = lines.slice(from).find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; lines: ${JSON.stringify(lines).slice(0, 3000)} stderr: ${stderr}`)), ms);
        waiters.push({ pred, resolve: (l) => (clearTimeout(t), resolve(l)) });
      });
    },
  };
}
