// Status snapshots for the <procguard-status> and bridge tests.
//
// TODO(lead, on merge): the issue requires these to come from a REAL Guard run, including a real
// code finding (e.g. a Guard started over a test library, a byte of its code flipped through
// /proc/self/mem, `await guard.check()`). The Guard is not in this branch yet, so for now they are
// built by hand in the exact shape of src/types.ts `Status`. Replace the body of makeSnapshots()
// with a real run; keep the returned keys (ok, findings, compromised, stalled, malicious).

const hardening = {
  platform: 'linux',
  dryRun: false,
  steps: [
    { id: 'dumpable', status: 'applied', detail: 'PR_SET_DUMPABLE 0', verified: true },
    { id: 'core-limit', status: 'applied', detail: 'RLIMIT_CORE 0/0', verified: true },
    { id: 'deny-attach', status: 'unsupported', detail: 'macOS only' },
  ],
  verified: true,
  tracerBefore: { state: 'none', detail: 'TracerPid 0' },
  warnings: [],
};

function base(sequence, state, findings, severity) {
  return {
    version: 1,
    sequence,
    pid: 4242,
    platform: 'linux',
    state,
    severity,
    hardening,
    lastCheck: { at: '2025-01-02T03:04:05.678Z', durationMs: 12.5 },
    coverage: { regions: 37, bytes: 33554432, hashedBytes: 33554432, residentBytes: 16777216 },
    findings,
    heartbeatAgeMs: state === 'stalled' ? 93000 : 250,
    hashMode: 'blake3',
    checkerErrors: [],
  };
}

const codeFinding = {
  id: 'code:code-modified:1',
  key: 'code:/usr/lib/x86_64-linux-gnu/libz.so.1.3:0x2000',
  subsystem: 'code',
  kind: 'code-modified',
  severity: 'log',
  detail: 'page content changed since baseline',
  path: '/usr/lib/x86_64-linux-gnu/libz.so.1.3',
  address: '0x7f3a12402000',
  offset: 0x2a40,
  page: 2,
  firstSeen: '2025-01-02T03:04:05.000Z',
};

const tracerFinding = {
  id: 'kernel:tracer-attached:2',
  key: 'kernel:tracer',
  subsystem: 'kernel',
  kind: 'tracer-attached',
  severity: 'safe-mode',
  detail: 'TracerPid changed from 0 to 31337',
  before: 0,
  after: 31337,
  firstSeen: '2025-01-02T03:04:06.000Z',
};

/** A path an attacker controls (a library name is just a file name): markup must not run. */
export const MALICIOUS_PATH = '/tmp/<img src=x onerror="window.__pwned=1">/<script>window.__pwned=2</script>lib.so';

/** Returns { ok, findings, compromised, stalled, malicious } Status snapshots (see TODO above). */
export async function makeSnapshots() {
  return {
    ok: base(1, 'ok', [], null),
    findings: base(2, 'findings', [codeFinding], 'log'),
    compromised: base(3, 'compromised', [codeFinding, tracerFinding], 'safe-mode'),
    stalled: base(4, 'stalled', [], null),
    malicious: base(5, 'findings', [{ ...codeFinding, id: 'code:code-modified:9', path: MALICIOUS_PATH, detail: '<b>bold</b>&amp;' }], 'log'),
  };
}
