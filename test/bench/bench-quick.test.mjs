// Runs the benchmark once in --quick mode to check that it runs end to end and reports every
// number. No speed assertions: speed is for `npm run bench`, not for the test suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const REQUIRED = [
  'blake3_vs_b3sum',
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

test('npm run bench -- --quick --json runs and reports every number', { timeout: 120_000 }, () => {
  const r = spawnSync(process.execPath, [path.join(root, 'bench/run.mjs'), '--quick', '--json'], { cwd: root, encoding: 'utf8', timeout: 110_000 });
  assert.equal(r.status, 0, `bench exited with ${r.status} (signal ${r.signal}); stderr:\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  let json;
  assert.doesNotThrow(() => (json = JSON.parse(lines[lines.length - 1])), `the last stdout line is not JSON: ${lines[lines.length - 1]}`);
  assert.equal(json.quick, true, 'the JSON does not say it was a quick run');
  for (const key of REQUIRED) {
    if (key === 'blake3_vs_b3sum' && json.b3sum_available === false) {
      assert.equal(json[key], null, 'without b3sum, blake3_vs_b3sum must be null');
      continue;
    }
    assert.ok(key in json, `the JSON lacks ${key}`);
    assert.equal(typeof json[key], 'number', `${key} is not a number: ${JSON.stringify(json[key])}`);
    assert.ok(Number.isFinite(json[key]), `${key} is not finite: ${json[key]}`);
  }
  for (const key of ['blake3_sweep_gbps', 'fast_sweep_gbps', 'memread_gbps', 'sha256_gbps']) assert.ok(json[key] > 0, `${key} is not positive: ${json[key]}`);
  assert.equal(json.baseline_bytes_per_page, 16, `baseline bytes per page is ${json.baseline_bytes_per_page}, the store keeps 16`);
  assert.equal(json.tamper.timeouts, 0, `the Guard missed ${json.tamper.timeouts} of ${json.tamper.trials} code writes`);
  assert.ok(Object.keys(json.goals).length === 8, 'the JSON does not list the 8 goals');
  for (const [k, g] of Object.entries(json.goals)) assert.ok(g.met === true || g.met === false || (k === 'blake3_vs_b3sum' && g.met === null), `goal ${k} has no met/not-met verdict`);
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
