// Shared by the Windows suites (test/windows/), which scripts/windows/test-windows.sh runs under
// Wine with the official node.exe. On any other OS every test here is skipped with that reason.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const onWindows = process.platform === 'win32';
/** The skip option for every Windows-only test. */
export const skipOffWindows = onWindows ? false : 'Windows only: npm run test:windows runs it under Wine with node.exe';

/** The mingw-built attacker (test/windows/attacker.c); the runner passes its path. */
export const attackerExe = process.env.PROCGUARD_ATTACKER || path.join(root, '.cache', 'windows', 'attacker.exe');

/** Runs the attacker and parses its one JSON line. */
export function attacker(...args) {
  const r = spawnSync(attackerExe, args.map(String), { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`attacker ${args.join(' ')} exited ${r.status}: ${r.error ?? ''}${r.stderr}`);
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    throw new Error(`attacker ${args.join(' ')} printed no JSON: ${r.stdout}`);
  }
}

/**
 * Wine's version, or null on real Windows: asked of ntdll (its wine_get_version export) through
 * the attacker, not of an environment variable, so a Windows run can never take a Wine skip.
 */
export const wine = onWindows && fs.existsSync(attackerExe) ? attacker('wine').wine : null;

/** Skip option for one assertion that Wine is known to get wrong; the message says so. */
export const wineDeviation = (what) => (wine ? `wine: ${what}` : false);

/**
 * Starts test/windows/target.cjs (a node.exe that loads procguard, optionally hardens itself, then
 * starts a worker thread and libuv pool threads) and resolves with its JSON report and the child.
 */
export function startTarget(...args) {
  const child = spawn(process.execPath, [path.join(root, 'test', 'windows', 'target.cjs'), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`target ${args} printed nothing in 60 s; stderr: ${err}`));
    }, 60000);
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      let info;
      try {
        info = JSON.parse(out.slice(0, nl));
      } catch {
        reject(new Error(`target printed no JSON: ${out} ${err}`));
        return;
      }
      out = out.slice(nl + 1);
      child.stdout.removeAllListeners('data');
      const lines = lineReader(child.stdout);
      /** Sends one command line; resolves with the target's one-line JSON answer. */
      const ask = async (cmd) => {
        child.stdin.write(`${cmd}\n`);
        return JSON.parse(await lines.next(30000, `target's answer to ${cmd}`));
      };
      // stop(): stdin's end asks the target to stop its Guard and exit; a target that has not exited 5 s
      // later is killed (under Wine a child has been seen to outlive its closed stdin, which kept the test
      // file, and so the whole run, waiting until the runner's timeout).
      const stop = () => {
        child.stdin.end();
        const kill = setTimeout(() => child.kill(), 5000);
        kill.unref();
        child.once('exit', () => clearTimeout(kill));
      };
      resolve({ child, info, ask, stop });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`target ${args} exited ${code} before reporting; stderr: ${err}`));
    });
  });
}

/** Reads a stream line by line: next(timeoutMs, what) resolves with the next line. */
export function lineReader(stream) {
  let buf = '';
  const waiting = [];
  const lines = [];
  stream.setEncoding('utf8');
  stream.on('data', (d) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (waiting.length) waiting.shift()(line);
      else lines.push(line);
    }
  });
  return {
    next(timeoutMs, what) {
      if (lines.length) return Promise.resolve(lines.shift());
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no line from ${what} in ${timeoutMs} ms`)), timeoutMs);
        waiting.push((line) => {
          clearTimeout(t);
          resolve(line);
        });
      });
    },
  };
}

/** Starts `attacker attach <pid> <ms>` and resolves with its first answer and the running child. */
export async function attachDebugger(pid, ms) {
  const child = spawn(attackerExe, ['attach', String(pid), String(ms)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = lineReader(child.stdout);
  const first = JSON.parse(await lines.next(30000, 'attacker attach'));
  const done = new Promise((resolve) => child.on('exit', resolve));
  return { first, lines, done };
}
