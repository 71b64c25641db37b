// Runs as pid 1 of a new pid namespace (unshare --pid --fork --mount-proc): there it alone forks, so
// /proc/sys/kernel/ns_last_pid hands a tracked process's pid to a new process at will. A TreeMonitor
// tracks process A (a mapper of file a.bin); A is killed and B (a mapper of b.bin, with a written code
// page) takes its pid; discovery is held off, so the code loop meets B under A's identity.
// Prints one JSON line: { reused, aKey, underA: [code-modified seen for A's pid before discovery],
// afterDiscovery: [code-modified after a full check()] }.
// argv: <dist dir> <work dir>
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const [dist, dir] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { TreeMonitor } = require(path.join(dist, 'tree', 'monitor.js'));
const MAPPER = `
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, 65536, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC)
print('ready', flush=True)
time.sleep(120)
`;
async function mapper(file) {
  fs.writeFileSync(file, crypto.randomBytes(65536));
  const child = spawn('python3', ['-c', MAPPER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => child.stdout.once('data', r));
  return child;
}
function writePage(pid, file) {
  const line = fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').find((l) => l.endsWith(file));
  const addr = Number(BigInt('0x' + line.split('-')[0])) + 4096 + 9;
  const fd = fs.openSync(`/proc/${pid}/mem`, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, addr);
  fs.writeSync(fd, Buffer.from([b[0] ^ 0xff]), 0, 1, addr);
  fs.closeSync(fd);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const a = await mapper(path.join(dir, 'a.bin'));
const m = new TreeMonitor({ codeMs: 100, discoveryMs: 600_000, pollMs: 60_000, settleMs: 0 });
await m.check();
const aEntry = m.processes().find((p) => p.pid === a.pid);
const aKey = aEntry ? `${a.pid}:${aEntry.startTicks}` : null;
let updates = [];
m.start((u) => updates.push(...u.open), () => undefined);
a.kill('SIGKILL');
await new Promise((r) => a.once('exit', r));
fs.writeFileSync('/proc/sys/kernel/ns_last_pid', String(a.pid - 1));
const bFile = path.join(dir, 'b.bin');
const b = await mapper(bFile);
writePage(b.pid, bFile);
updates = [];
await sleep(1500); // ~15 code passes with A still tracked (no discovery)
const underA = updates.filter((o) => o.kind === 'code-modified' && o.pid === a.pid).map((o) => ({ key: o.key, path: o.path }));
const after = (await m.check()).open.filter((o) => o.kind === 'code-modified').map((o) => ({ key: o.key, path: o.path }));
m.stop();
console.log(JSON.stringify({ reused: b.pid === a.pid, aKey, underA, afterDiscovery: after }));
b.kill('SIGKILL');
process.exit(0);
