// Shared helpers for the code-monitor tests: the test library, /proc/self/mem fault injection,
// and the test-only hooks addon. All of it acts on this very process through the real kernel.
// Where the hooks are missing (off Linux, or not built) the files that need them skip with the reason:
// they import `test` from here instead of node:test.
import { test as nodeTest } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hooks, hooksMissing, testLibPath } from '../native/hooks.mjs';

export { hooks, hooksMissing, testLibPath };
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** node:test's `test`, skipped with the reason when the test hooks are missing. */
export function test(name, options, fn) {
  if (typeof options === 'function') [options, fn] = [{}, options];
  return nodeTest(name, { ...options, skip: options.skip || hooksMissing }, fn);
}

/**
 * Fill for code that must never run: a trap instruction of this CPU (x86 int3 0xcc; arm64 brk #0,
 * 0xd4200000 little-endian). A byte that means "return" on one CPU (x86 0xc3) is an undefined
 * instruction on another and kills the process with SIGILL if anything jumps there.
 */
export const TRAP_FILL = process.arch === 'arm64' ? Buffer.from([0x00, 0x00, 0x20, 0xd4]) : 0xcc;
/**
 * Fill for code that ld.so still calls at exit (a library's destructors, when its code was mapped
 * over while it stays loaded): a return instruction of this CPU (x86 ret 0xc3; arm64 ret,
 * 0xd65f03c0), so the process exits cleanly. A trap there kills it at exit (measured: SIGTRAP).
 */
export const RET_FILL = process.arch === 'arm64' ? Buffer.from([0xc0, 0x03, 0x5f, 0xd6]) : 0xc3;

/** A fresh copy of the test library (its own inode), so tests do not share a baseline. */
export function copyTestLib(name = 'pgtestlib', parent = os.tmpdir()) {
  const dir = fs.mkdtempSync(path.join(parent, 'pg-lib-'));
  const p = path.join(dir, `${name}.so`);
  fs.copyFileSync(testLibPath, p);
  const fd = fs.openSync(p, 'r+');
  fs.fsyncSync(fd); // clean pages, so dropping the page cache can evict them
  fs.closeSync(fd);
  return p;
}

/** The executable mapping of `file` and helpers to turn addresses into file offsets. */
export function execMappingOf(file) {
  const real = fs.realpathSync(file);
  const lines = fs.readFileSync('/proc/self/maps', 'utf8').split('\n');
  const out = [];
  for (const l of lines) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ \d+\s+(.*)$/.exec(l);
    if (m && m[3][2] === 'x' && m[5] === real) out.push({ start: BigInt('0x' + m[1]), end: BigInt('0x' + m[2]), offset: parseInt(m[4], 16), perms: m[3] });
  }
  return out;
}

export function fileOffsetOf(file, addr) {
  const m = execMappingOf(file).find((e) => e.start <= addr && addr < e.end);
  if (!m) throw new Error(`address 0x${addr.toString(16)} is not in an exec mapping of ${file}`);
  return m.offset + Number(addr - m.start);
}

/** The engine's key of a mapped file, as /proc/self/maps shows it ("dev:inode"); null when not mapped. */
export function fileKeyOf(file) {
  const real = fs.realpathSync(file);
  for (const l of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const m = /^\S+ \S{4} \S+ (\S+) (\d+)\s+(.*)$/.exec(l);
    if (m && m[3] === real) return `${m[1]}:${m[2]}`;
  }
  return null;
}

/** Loads a copy of the test library; returns its path, handle and the blob of never-run code. */
export function loadTestLib(file = copyTestLib()) {
  const handle = hooks.dlopen(file);
  const blob = hooks.call0(hooks.dlsym(handle, 'pg_testlib_blob'));
  const size = Number(hooks.call0(hooks.dlsym(handle, 'pg_testlib_blob_size')));
  return { path: fs.realpathSync(file), handle, blob, size };
}

let memFd = null;
function mem() {
  memFd ??= fs.openSync('/proc/self/mem', 'r+');
  return memFd;
}

/** Reads one byte of our own memory through /proc/self/mem. */
export function peek(addr) {
  const b = Buffer.alloc(1);
  if (fs.readSync(mem(), b, 0, 1, Number(addr)) !== 1) throw new Error(`cannot read 0x${addr.toString(16)}`);
  return b[0];
}

/** Writes one byte through /proc/self/mem: FOLL_FORCE writes even read-only code pages. */
export function poke(addr, value) {
  if (fs.writeSync(mem(), Buffer.from([value]), 0, 1, Number(addr)) !== 1) throw new Error(`cannot write 0x${addr.toString(16)}`);
}

/** Flips `mask` bits at addr; returns a function that restores the byte. */
export function flip(addr, mask = 0x01) {
  const orig = peek(addr);
  poke(addr, orig ^ mask);
  return () => poke(addr, orig);
}

export function hex(a) {
  return `0x${a.toString(16)}`;
}

/** Resolves with the first event matching `pred`, or rejects after `ms` with `what` in the message. */
export function waitFor(emitter, event, pred, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    function on(v) {
      if (!pred(v)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(v);
    }
    emitter.on(event, on);
  });
}

/** Deterministic PRNG (mulberry32) for seeded fault campaigns. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
