// Debuggers switched on after start: kill -USR1 on a child running a default Guard -> the
// inspector-active finding (debugger_latency_ms, median; goal <= 1000 ms), and what the watch costs
// per tick: inspector.url() (every 500 ms) and one listening-socket scan of this process (every 1 s).
// Runs alone: `node bench/debuggers.mjs [--quick]`; run.mjs appends its table.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, table } from './goals.mjs';
import { lineProc } from '../test/kernel/helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const GOAL = { op: '<=', target: 1000 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};

async function sigusr1Latency() {
  const g = lineProc(process.execPath, [path.join(root, 'test/guard/children/debugger-child.cjs'), path.join(root, 'dist'), '{}'], {}, JSON.parse, 30000);
  try {
    const ready = await g.waitFor((l) => l.event === 'ready', 'the Guard started');
    // A moment after start, as an attacker would come later: the first ticks are past.
    await new Promise((r) => setTimeout(r, 700));
    const sent = performance.now();
    process.kill(ready.pid, 'SIGUSR1');
    const f = await g.waitFor((l) => l.event === 'finding' && l.kind === 'inspector-active', 'inspector-active', 0, 10000);
    return f.at - sent;
  } finally {
    g.child.kill('SIGKILL');
  }
}

export async function debuggerBench({ quick, log, out }) {
  const { inspectorState, ListenerWatch } = await import(path.join(root, 'dist/kernel/debuggers.js'));
  const trials = quick ? 2 : 8;
  log(`debuggers: SIGUSR1 -> inspector-active, ${trials} Guard children`);
  const lat = [];
  for (let i = 0; i < trials; i++) lat.push(await sigusr1Latency());
  const n = quick ? 2000 : 20000;
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) inspectorState();
  const urlUs = Number(process.hrtime.bigint() - t) / 1e3 / n;
  const w = new ListenerWatch(false);
  const scans = quick ? 20 : 200;
  await w.scan([process.pid], [], null); // the first scan reads the tables (see below)
  t = process.hrtime.bigint();
  for (let i = 0; i < scans; i++) await w.scan([process.pid], [], null);
  const scanUs = Number(process.hrtime.bigint() - t) / 1e3 / scans;
  t = process.hrtime.bigint();
  await new ListenerWatch(false).scan([process.pid], [], null);
  const tableUs = Number(process.hrtime.bigint() - t) / 1e3;
  const value = median(lat);
  const met = value === null ? null : value <= GOAL.target;
  out.push(
    table(
      ['debuggers', 'value', 'target'],
      [
        ['kill -USR1 -> inspector-active (ms, median)', fmt(value, 0), `<= ${GOAL.target}`],
        ['  trials (ms)', lat.map((x) => x.toFixed(0)).join(' '), ''],
        ['inspector check per tick (us)', fmt(urlUs, 2), ''],
        ['socket scan per tick, no new socket (us)', fmt(scanUs, 0), ''],
        ['socket scan with a table read (us; new socket, or every 30 s)', fmt(tableUs, 0), ''],
      ],
    ),
    '',
  );
  return { debugger_latency_ms: value, inspector_tick_us: urlUs, socket_scan_us: scanUs, socket_table_scan_us: tableUs, debugger_latency_goal: { value, ...GOAL, met } };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = [];
  const r = await debuggerBench({ quick: process.argv.includes('--quick'), log: (m) => process.stderr.write(`[bench] ${m}\n`), out });
  process.stdout.write(out.join('\n') + '\n' + JSON.stringify(r) + '\n');
  process.exit(0);
}
