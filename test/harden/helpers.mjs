// Shared helpers for the harden tests: paths, world-readable copies for the unprivileged user,
// and child processes that talk one JSON object per line.
import { spawn, spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildDir } from '../build-dir.mjs';
import { scaled } from '../time-scale.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const addon = path.join(buildDir, 'procguard.node');
export const NOBODY = 65534;
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A fresh 0755 temp dir holding 0644 copies of `files` (absolute paths); removed by the caller. */
export function worldReadableDir(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procguard-harden-'));
  fs.chmodSync(dir, 0o755);
  for (const f of files) {
    const dest = path.join(dir, path.basename(f));
    fs.copyFileSync(f, dest);
    fs.chmodSync(dest, 0o644);
  }
  return dir;
}

/**
 * Spawn a process whose stdout is JSON lines. `next()` resolves with the next parsed line
 * (rejects if the process exits first); `send(line)` writes a line to its stdin.
 */
export function jsonLines(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  const queue = [];
  const waiters = [];
  let stderr = '';
  let exited = null;
  child.stderr.on('data', (d) => { stderr += d; });
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let v;
    try { v = JSON.parse(line); } catch { v = { unparsed: line }; }
    const w = waiters.shift();
    if (w) w.resolve(v); else queue.push(v);
  });
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    for (const w of waiters.splice(0)) w.reject(new Error(`${cmd} exited (${code ?? signal}) before printing a line; stderr: ${stderr}`));
  });
  return {
    child,
    stderr: () => stderr,
    next() {
      if (queue.length) return Promise.resolve(queue.shift());
      if (exited) return Promise.reject(new Error(`${cmd} exited (${exited.code ?? exited.signal}); stderr: ${stderr}`));
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    send(line) { child.stdin.write(line + '\n'); },
    async close() {
      if (exited) return exited;
      const done = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
      child.stdin.end();
      child.kill('SIGTERM');
      return done;
    },
  };
}

/**
 * Run fixtures/attacker.py (copied into `dir`) as uid 65534 against a target that printed
 * { pid, addr, offset, exe }: process_vm_readv, PTRACE_ATTACH and /proc/<pid>/mem, each with its errno.
 */
export function attack(dir, ready) {
  const r = spawnSync('/usr/bin/python3', [path.join(dir, 'attacker.py'), String(ready.pid), ready.addr, String(ready.offset), ready.exe], {
    uid: NOBODY, gid: NOBODY, encoding: 'utf8', timeout: scaled(20000),
  });
  assert.equal(r.status, 0, `attacker failed (status ${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  assert.equal(out.uid, NOBODY, 'attacker must run as uid 65534');
  return out;
}
