#!/usr/bin/env node
// The signed manifest (docs/manifest.md): verifying a packaged-app folder against its manifest on
// one native thread, against `b3sum --num-threads 1` over the same files, and the event-loop p99
// the verification adds. Also the manifest's size.
//   node bench/manifest.mjs [--quick] [--json]     (run.mjs calls manifestBench() too)
// The folder (in tmpfs, page cache warm for both): a copy of the node binary (real ELF code, whose
// executable pages get run digests), three copies of procguard's addon (.so/.node), and random
// data files (an app.asar, snapshot blobs, .pak) up to the size asked. Times are wall time, best of
// `reps` (the machine may be shared; the best run is the one least disturbed).
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { root, MiB, gbps } from './common.mjs';
import { delayIdleVsBusy } from './eventloop.mjs';
import { fmt, table } from './goals.mjs';

const m = await import(path.join(root, 'dist/manifest/index.js'));

function shm() {
  for (const d of ['/dev/shm', '/run/shm', os.tmpdir()]) {
    try {
      fs.accessSync(d, fs.constants.W_OK);
      return d;
    } catch {
      /* next */
    }
  }
  return os.tmpdir();
}

function makeApp(totalBytes) {
  const dir = fs.mkdtempSync(path.join(shm(), 'procguard-bench-app-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'resources', 'app.asar.unpacked'), { recursive: true });
  const addon = path.join(root, 'build/Release/procguard.node');
  const copies = [[process.execPath, 'app'], [addon, 'libffmpeg.so'], [addon, 'libEGL.so'], [addon, 'resources/app.asar.unpacked/addon.node']];
  let used = 0;
  for (const [from, to] of copies) {
    if (totalBytes - used < fs.statSync(from).size) continue;
    fs.copyFileSync(from, path.join(dir, to));
    used += fs.statSync(from).size;
  }
  const data = [['resources/app.asar', 0.5], ['v8_context_snapshot.bin', 0.2], ['snapshot_blob.bin', 0.1], ['resources.pak', 0.2]];
  const rest = Math.max(0, totalBytes - used);
  const chunk = Buffer.allocUnsafe(8 * MiB);
  for (const [name, share] of data) {
    const fd = fs.openSync(path.join(dir, name), 'w');
    const n = Math.floor(rest * share);
    for (let done = 0; done < n; done += chunk.length) {
      const k = Math.min(chunk.length, n - done);
      crypto.randomFillSync(chunk, 0, k);
      fs.writeSync(fd, chunk, 0, k);
    }
    fs.closeSync(fd);
  }
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(dir);
  return { dir, files, bytes: files.reduce((n, f) => n + fs.statSync(f).size, 0) };
}

function b3sumBest(files, reps, extra = []) {
  let best = null;
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('b3sum', ['--num-threads', '1', ...extra, ...files], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) return null;
    best = best === null ? s : Math.min(best, s);
  }
  return best;
}

export async function manifestBench({ quick = false, log = () => {} } = {}) {
  const P = quick ? { appMiB: 120, reps: 2, rounds: 2, windowMs: 300 } : { appMiB: 260, reps: 5, rounds: 4, windowMs: 1500 };
  const app = makeApp(P.appMiB * MiB);
  log(`manifest: app folder of ${fmt(app.bytes / MiB, 0)} MiB in ${app.files.length} files (${app.dir})`);
  const { secretKey, publicKey } = await m.generateKeyPair();
  const made = await m.createManifest(app.dir, { secretKey, app: { name: 'bench', version: '1', platform: process.platform, arch: process.arch }, threads: 1 });
  const manifestBytes = fs.statSync(made.manifestPath).size;
  const { manifest } = await m.loadSigned(made.manifestPath, publicKey);
  const codeBytes = manifest.files.reduce((n, f) => n + (f.code ?? []).reduce((k, c) => k + c.size, 0), 0);
  b3sumBest(app.files, 1); // page cache warm for both
  let best = null;
  for (let i = 0; i < P.reps; i++) {
    const t0 = process.hrtime.bigint();
    const r = await m.verifyApp(app.dir, manifest, { threads: 1 });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.state !== 'match') throw new Error(`bench: the untouched app does not match its manifest: ${JSON.stringify(r.differences.slice(0, 3))}`);
    best = best === null ? s : Math.min(best, s);
  }
  const b3 = b3sumBest(app.files, P.reps);
  const b3NoMmap = b3sumBest(app.files, P.reps, ['--no-mmap']);
  log('manifest: event-loop delay, idle vs back-to-back verifications');
  const d = await delayIdleVsBusy(() => m.verifyApp(app.dir, manifest, { threads: 1 }), P);
  const el = { idleP99Ms: d.idleP99Ms, verifyP99Ms: d.busyP99Ms, addedMs: d.addedMs, verifyMaxMs: d.busyMaxMs, runs: d.runs };
  return {
    appBytes: app.bytes,
    files: app.files.length,
    codeBytes,
    manifestBytes,
    manifestBytesPer300MiB: Math.round((manifestBytes * 300 * MiB) / app.bytes),
    verifySeconds: best,
    verifyGbps: gbps(app.bytes, best),
    b3sumSeconds: b3,
    b3sumGbps: b3 === null ? null : gbps(app.bytes, b3),
    b3sumNoMmapGbps: b3NoMmap === null ? null : gbps(app.bytes, b3NoMmap),
    ratio: b3 === null ? null : b3 / best,
    eventLoop: el,
  };
}

/** Rows for run.mjs's table and the goal values. */
export function manifestRows(r) {
  return {
    result: r,
    values: { manifest_verify_vs_b3sum: r.ratio, manifest_eventloop_p99_added_ms: r.eventLoop.addedMs },
    rows: [
      [`manifest verify, 1 native thread (${fmt(r.appBytes / MiB, 0)} MiB app, ${r.files} files)`, fmt(r.verifyGbps), `${fmt(r.verifySeconds * 1000, 0)} ms; b3sum --num-threads 1 ${fmt(r.b3sumGbps)} GB/s (--no-mmap ${fmt(r.b3sumNoMmapGbps)}); manifest ${fmt(r.manifestBytes / 1024, 0)} KiB (${fmt(r.manifestBytesPer300MiB / 1024, 0)} KiB per 300 MiB), ${fmt(r.codeBytes / MiB, 0)} MiB of code with run digests`],
    ],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = new Set(process.argv.slice(2));
  for (const a of args) if (!['--quick', '--json'].includes(a)) {
    console.error(`usage: node bench/manifest.mjs [--quick] [--json]  (unknown argument ${a})`);
    process.exit(2);
  }
  const r = await manifestBench({ quick: args.has('--quick'), log: (s) => process.stderr.write(`[bench] ${s}\n`) });
  const { values, rows } = manifestRows(r);
  console.log(table(['throughput', 'GB/s', 'on'], rows));
  console.log(`manifest_verify_vs_b3sum ${fmt(values.manifest_verify_vs_b3sum)} (goal >= 1.0); event-loop p99 added while verifying ${fmt(values.manifest_eventloop_p99_added_ms, 3)} ms (goal < 1; idle ${fmt(r.eventLoop.idleP99Ms, 3)}, verifying ${fmt(r.eventLoop.verifyP99Ms, 3)}, ${r.eventLoop.runs} runs)`);
  if (args.has('--json')) process.stdout.write(JSON.stringify({ ...values, manifest: r }) + '\n');
}
