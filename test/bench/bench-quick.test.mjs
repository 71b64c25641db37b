// Runs the benchmark once in --quick mode to check that it runs end to end and reports every
// number. No speed assertions: speed is for `npm run bench`, not for the test suite.
import { test } from 'node:test';
import * as fs from 'node:fs';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Ratios to b3sum: null when b3sum is not installed. */
const B3SUM_RATIOS = ['blake3_vs_b3sum', 'first_check_vs_b3sum'];

const REQUIRED = [
  'blake3_vs_b3sum',
  'first_check_vs_b3sum',
  'fast_vs_memread',
  'safe_read_overhead',
  'eventloop_p99_added_ms',
  'cpu_percent_default',
  'rss_growth_mib',
  'baseline_bytes_per_page',
  'tamper_latency_ms',
  'blake3_sweep_gbps',
  'fast_sweep_gbps',
  'unsafe_blake3_gbps',
  'unsafe_fast_gbps',
  'memread_gbps',
  'sha256_gbps',
  'noble_blake3_gbps',
  'crc_js_crc32_gbps',
];

test('npm run bench -- --quick --json runs and reports every number', { timeout: 120_000 }, async () => {
  const r = spawnSync(process.execPath, [path.join(root, 'bench/run.mjs'), '--quick', '--json'], { cwd: root, encoding: 'utf8', timeout: 110_000 });
  assert.equal(r.status, 0, `bench exited with ${r.status} (signal ${r.signal}); stderr:\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  let json;
  assert.doesNotThrow(() => (json = JSON.parse(lines[lines.length - 1])), `the last stdout line is not JSON: ${lines[lines.length - 1]}`);
  assert.equal(json.quick, true, 'the JSON does not say it was a quick run');
  for (const key of REQUIRED) {
    if (B3SUM_RATIOS.includes(key) && json.b3sum_available === false) {
      assert.equal(json[key], null, `without b3sum, ${key} must be null`);
      continue;
    }
    assert.ok(key in json, `the JSON lacks ${key}`);
    assert.equal(typeof json[key], 'number', `${key} is not a number: ${JSON.stringify(json[key])}`);
    assert.ok(Number.isFinite(json[key]), `${key} is not finite: ${json[key]}`);
  }
  for (const key of ['blake3_sweep_gbps', 'fast_sweep_gbps', 'memread_gbps', 'sha256_gbps']) assert.ok(json[key] > 0, `${key} is not positive: ${json[key]}`);
  assert.equal(json.baseline_bytes_per_page, 16, `baseline bytes per page is ${json.baseline_bytes_per_page}, the store keeps 16`);
  assert.equal(json.tamper.timeouts, 0, `the Guard missed ${json.tamper.timeouts} of ${json.tamper.trials} code writes`);
  const noPython = !fs.existsSync('/usr/bin/python3');
  const { GOALS } = await import(path.join(root, 'bench/goals.mjs'));
  assert.deepEqual(Object.keys(json.goals), GOALS.map((g) => g.key), 'the JSON does not list every goal of bench/goals.mjs');
  for (const [k, g] of Object.entries(json.goals)) assert.ok(g.met === true || g.met === false || (((B3SUM_RATIOS.includes(k)) || (k === 'tracer_latency_ms' && noPython)) && g.met === null), `goal ${k} has no met/not-met verdict`);
  // fastloops: the fast-loop rows ran (a write to the mapped workload file was seen every time).
  assert.equal(typeof json.file_write_latency_ms, 'number', 'file_write_latency_ms');
  assert.ok(json.fastloops.fileWrite.latencies.every((ms) => ms < 5000), `a file write was missed: ${json.fastloops.fileWrite.latencies}`);
  if (!noPython) assert.equal(typeof json.tracer_latency_ms, 'number', 'tracer_latency_ms');
  assert.ok(json.hash_only.length >= 2, 'no per-backend hash-only rows');
  // The printed goal table carries the same verdict as the JSON, one row per goal.
  const tableLines = lines.slice(0, -1);
  for (const [k, g] of Object.entries(json.goals)) {
    const row = tableLines.find((l) => new RegExp(`^\\W*${k}\\b`).test(l));
    assert.ok(row, `the table has no row for goal ${k}`);
    const shown = /\bNOT MET\b/.test(row) ? false : /\bmet\b/.test(row) ? true : /\bn\/a\b/.test(row) ? null : 'none';
    assert.equal(shown, g.met, `goal ${k}: the table shows ${shown}, the JSON says ${g.met}: ${row}`);
  }
});

test('bench/hash-routes.mjs --quick --json measures fast_vs_memread on every CRC32C route the CPU has', { timeout: 60_000 }, () => {
  const r = spawnSync(process.execPath, [path.join(root, 'bench/hash-routes.mjs'), '--quick', '--json'], { cwd: root, encoding: 'utf8', timeout: 55_000 });
  assert.equal(r.status, 0, `hash-routes exited ${r.status}: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  const native = require(path.join(root, 'dist/native.js')).loadNative();
  const have = native.hashBackends();
  assert.deepEqual(out.rows.map((x) => x.backend), have.crc32c, 'one row per CRC32C backend this CPU has, in dispatch order');
  assert.deepEqual(out.rows.filter((x) => x.dispatched).map((x) => x.backend), [have.crc32cActive], 'exactly the dispatched route is marked');
  for (const row of out.rows) assert.ok(row.passGbps > 0 && row.memreadGbps > 0 && Number.isFinite(row.ratio), `route ${row.backend} measured: ${JSON.stringify(row)}`);
  assert.match(r.stdout, /fast_vs_memread per CRC32C route/, 'the table is printed');
});
