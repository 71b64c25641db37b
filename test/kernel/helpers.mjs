// Shared helpers for the kernel/launch/policy tests: paths, spawning children, world-readable copies.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildDir } from '../build-dir.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = path.join(root, 'dist');
export const children = path.join(root, 'test', 'kernel', 'children');
export const hooksPath = path.join(buildDir, 'pg_testhooks.node');
export const hooksMissing = fs.existsSync(hooksPath) ? false : `test addon not built: ${hooksPath} (npm run build:native)`;

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
