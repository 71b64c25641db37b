// Child for reader.test.mjs (the seccomp filter and PR_SET_DUMPABLE cannot be undone, so each case
// runs in its own process). argv[2]: 'fallback' | 'none'; argv[3]: the errno process_vm_readv is
// refused with. Prints one JSON line.
import { Guard } from '../../../dist/index.js';
import { CodeMonitor } from '../../../dist/internals.js';
import { loadNative } from '../../../dist/native.js';
import { hooks, loadTestLib, flip } from '../helpers.mjs';

const [mode, errnoArg] = process.argv.slice(2);
const native = loadNative();
const out = { mode };

// The filter; under qemu-user seccomp is ENOSYS, but so is process_vm_readv: the case holds as is.
function refuse() {
  try {
    if (process.getuid() !== 0) hooks.setNoNewPrivs();
    hooks.refuseProcessVmReadv(Number(errnoArg));
    out.seccomp = 'installed';
  } catch (e) {
    out.seccomp = e.errno === 38 ? 'ENOSYS' : `failed: ${e.message}`;
  }
}

if (mode === 'fallback') {
  const lib = loadTestLib();
  const m = new CodeMonitor();
  out.prepare = m.prepare();
  refuse();
  const base = await m.check();
  out.coverage = base.coverage;
  out.readerState = native.memoryReader();
  out.unmappedRead = native.readMemory(0x1000n, 16); // below mmap_min_addr: never mapped
  const restore = flip(lib.blob + 100n);
  try {
    const r = await m.check();
    out.modified = r.open.filter((f) => f.kind === 'code-modified').map((f) => f.path);
  } finally {
    restore();
  }
  out.libPath = lib.path;
  m.close();
} else {
  // No prepare(): the process turns non-dumpable first, so /proc/self/mem cannot be opened after.
  hooks.setDumpable(0);
  refuse();
  const g = new Guard({ kernel: false, launch: false, sentinelMs: 0 });
  const s = await g.start();
  g.stop();
  out.coverage = s.coverage;
  out.checkerErrors = s.checkerErrors;
  out.findings = s.findings.length;
  out.readerState = native.memoryReader();
}
process.stdout.write(JSON.stringify(out) + '\n');
