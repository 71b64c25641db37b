// Issue 3, test 4: 10,000 dlopen/dlclose cycles of a library during back-to-back sweeps, with the
// library's regions discovered while it was mapped (so sweeps read addresses that come and go):
// no crash, no false code-modified.
import assert from 'node:assert/strict';
import { CodeMonitor } from '../../dist/internals.js';
import { test, copyTestLib, execMappingOf, hooks } from './helpers.mjs';

for (const discoverOnce of [true, false]) {
  test(`10,000 dlopen/dlclose cycles during back-to-back sweeps (discoverOnce=${discoverOnce}): no crash, no false finding`, async () => {
    const file = copyTestLib('cycled');
    const h = hooks.dlopen(file);
    const m = new CodeMonitor({ discoverOnce });
    try {
      await m.baseline();
      assert.ok(execMappingOf(file).length > 0, 'the library was mapped at baseline');
      hooks.dlclose(h);
      let sweeps = 0;
      const bad = [];
      let done = false;
      const cycles = hooks.dlopenCycles(file, 10_000).finally(() => {
        done = true;
      });
      while (!done || sweeps < 5) {
        const r = await m.check();
        sweeps++;
        for (const o of r.open) if (o.kind === 'code-modified' || o.kind === 'differs-from-disk') bad.push(o);
      }
      assert.equal(await cycles, 10_000, 'all cycles ran');
      assert.ok(sweeps >= 5, `sweeps ran during the cycles (${sweeps})`);
      assert.deepEqual(bad, [], `false code findings: ${JSON.stringify(bad.slice(0, 3))}`);
    } finally {
      m.close();
    }
  });
}
