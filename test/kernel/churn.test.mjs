// Zero false positives: 30 seconds of memory churn, worker threads, timers and a dlopen under a
// running KernelMonitor produce no kernel observation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { dist, children, hooksPath, hooksMissing, runJsonChild } from './helpers.mjs';

test('30 s churn (allocations, workers, timers, dlopen) gives zero kernel observations', { skip: hooksMissing, timeout: 120000 }, async () => {
  const { lines } = await runJsonChild([path.join(children, 'churn-child.cjs'), dist, hooksPath, '30']);
  const done = lines.find((l) => l.event === 'done');
  assert.ok(done, `child did not finish: ${JSON.stringify(lines)}`);
  const observed = lines.filter((l) => l.event === 'observations');
  assert.deepEqual(observed, [], 'no kernel observation during churn');
  assert.equal(done.errors, 0, `checker errors: ${JSON.stringify(lines.filter((l) => l.event === 'error'))}`);
  assert.ok(done.checks >= 20, `the monitor actually ran (checks=${done.checks})`);
  assert.ok(done.workers >= 20, `workers were started (workers=${done.workers})`);
  const dl = lines.find((l) => l.event === 'dlopen');
  assert.ok(dl && dl.ok, 'the addon copy was dlopened');
  assert.equal(done.baselineHasCopy, false, 'the copy was not mapped at baseline');
  assert.equal(done.dlopenMapped, true, 'the dlopened copy appears in the exec-mapping set (informational, no finding)');
});
