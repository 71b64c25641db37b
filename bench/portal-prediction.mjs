#!/usr/bin/env node
// What harden()'s portal prediction costs (src/portals/predict.ts): per call, with no session bus
// (environment only), with a runtime dir but no bus socket (one stat), and with a bus and the
// portal service file looked up. Standalone: node bench/portal-prediction.mjs [--json]
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const { predictPortals } = createRequire(import.meta.url)('../dist/portals/predict.js');
const real = (env) => ({ env, exists: (f) => fs.existsSync(f) });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procguard-bench-rt-'));
fs.writeFileSync(path.join(dir, 'bus'), '');
const cases = {
  'no session bus (env only)': real({}),
  'XDG_RUNTIME_DIR without bus socket (1 stat)': real({ XDG_RUNTIME_DIR: '/nonexistent-runtime-dir' }),
  'session bus, service file lookup': real({ XDG_RUNTIME_DIR: dir, HOME: dir }),
};

function nsPerCall(e, n) {
  for (let i = 0; i < 1000; i++) predictPortals(e); // warm-up
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) predictPortals(e);
  return Number(process.hrtime.bigint() - t) / n;
}

const out = {};
for (const [name, e] of Object.entries(cases)) out[name] = Math.round(nsPerCall(e, 20000));
fs.rmSync(dir, { recursive: true, force: true });
if (process.argv.includes('--json')) console.log(JSON.stringify(out));
else for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(48)} ${(v / 1000).toFixed(2)} µs per call`);
