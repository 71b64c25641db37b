// A Guard whose code includes a large mapped file with one page in memory per 4 MiB chunk: every
// chunk of its passes hashes one page in place (under the file's read lease) and copies the rest
// with pread. Runs Guard.check() in a loop and prints a line per pass; the test stops it (SIGSTOP)
// at random moments and truncates the file from another process meanwhile.
// argv: <file> <size>
import { Guard } from '../../../dist/index.js';
import { loadNative } from '../../../dist/native.js';
import { hooks } from '../helpers.mjs';

const [file, sizeArg] = process.argv.slice(2);
const size = Number(sizeArg);
const start = hooks.mapFileExec(file, size, false);
const native = loadNative();
// One page per 4 MiB chunk faulted in (process_vm_readv on our own memory maps it).
for (let off = 0; off < size; off += 4 << 20) native.readMemory(start + BigInt(off), 1);
const g = new Guard({ kernel: false, launch: false, sentinelMs: 0, watchFiles: false, periodMs: 3_600_000 });
await g.start();
console.log(JSON.stringify({ ready: true, start: `0x${start.toString(16)}` }));
for (let pass = 1; ; pass++) {
  const s = await g.check();
  console.log(JSON.stringify({ pass, state: s.state, findings: s.findings.length }));
}
