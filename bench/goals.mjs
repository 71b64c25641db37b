// The performance goals (docs/bench.md: what each means, the latest results), and the readable table.

/** key, comparison and target; `better` tells which way is good. */
export const GOALS = [
  { key: 'blake3_vs_b3sum', op: '>=', target: 1.2, label: 'BLAKE3 engine pass / b3sum (1 thread)' },
  { key: 'fast_vs_memread', op: '>=', target: 0.5, label: 'fast engine pass / memory read-sum' },
  { key: 'safe_read_overhead', op: '<=', target: 1.5, label: 'engine pass time / unsafe sweep time' },
  { key: 'eventloop_p99_added_ms', op: '<', target: 1, label: 'event-loop p99 added by sweeps (ms)' },
  { key: 'cpu_percent_default', op: '<', target: 0.5, label: 'CPU at default Guard settings (% of a core)' },
  { key: 'rss_growth_mib', op: '<', target: 1, label: 'RSS growth per resident-only sweep (MiB)' },
  { key: 'baseline_bytes_per_page', op: '<=', target: 16, label: 'baseline bytes per page' },
  { key: 'first_check_vs_b3sum', op: '>=', target: 1.2, label: 'a new Guard\'s first check / b3sum (1 thread)' },
  { key: 'manifest_verify_vs_b3sum', op: '>=', target: 1.0, label: 'manifest verify of an app folder / b3sum (1 thread)' },
  { key: 'manifest_eventloop_p99_added_ms', op: '<', target: 1, label: 'event-loop p99 added while verifying (ms)' },
  { key: 'tamper_latency_ms', op: '<=', target: 250, label: 'software tamper -> finding (ms, median)' },
  { key: 'tracer_latency_ms', op: '<=', target: 250, label: 'same-uid PTRACE_SEIZE -> tracer-attached (ms, median)' },
  { key: 'file_write_latency_ms', op: '<=', target: 250, label: 'write(2) to a mapped code file -> code-modified (ms, median)' },
];

export function met(goal, value) {
  if (value === null || !Number.isFinite(value)) return null;
  switch (goal.op) {
    case '>=': return value >= goal.target;
    case '<=': return value <= goal.target;
    case '<': return value < goal.target;
    default: throw new Error(`unknown op ${goal.op}`);
  }
}

export function fmt(v, digits = 2) {
  if (v === null || v === undefined || Number.isNaN(v)) return 'n/a';
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(digits);
}

/** Renders rows of string cells as an aligned text table. */
export function table(header, rows) {
  const all = [header, ...rows];
  const w = header.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length)));
  const line = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}
