// Region identity by file, not by path text (Linux, real kernel, real files):
// - the main executable is recognised by (dev, inode) after its file is deleted or replaced with
//   `mv -f` (an auto-update), so mainExecutableOnly keeps hashing the running binary;
// - a file whose real name ends in " (deleted)" keeps its name and is not "deleted"; a deleted
//   file's name loses exactly the kernel's mark; a decoy file at "<name> (deleted)" changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { classifyRegions, CodeMonitor } from '../../dist/internals.js';
import { parseMaps, readMapsSync } from '../../dist/procfs/maps.js';
import { testLibPath, loadTestLib, flip } from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '..', '..', 'dist');
const linux = process.platform === 'linux' ? false : 'Linux /proc/self/maps only';

/** Runs the child with `exe` as its executable; `mutate()` runs once it is ready. */
function runExeChild(exe, mutate) {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, [path.join(here, 'children', 'main-exe-child.cjs'), dist], { stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = '';
    let err = '';
    const msgs = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const m = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        msgs.push(m);
        if (m.ready) {
          try {
            mutate();
          } catch (e) {
            child.kill('SIGKILL');
            reject(e);
            return;
          }
          child.stdin.end('go\n');
        }
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`child exited ${code ?? signal}: ${err}`));
      else resolve(msgs);
    });
  });
}

// scripts/arm64/test.sh sets PROCGUARD_QEMU_USER: qemu-user answers readlink(/proc/self/exe) itself.
const qemuExe = process.env.PROCGUARD_QEMU_USER === '1' &&
  "qemu-user: /proc/self/exe is emulated (readlink gives the path qemu started, never ' (deleted)', and ENOENT once it is removed)";
for (const how of ['mv -f', 'rm']) {
  test(`main executable replaced by ${how} while running stays 'main-executable' and is still hashed`, { skip: linux || qemuExe }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-exe-'));
    const exe = path.join(dir, 'node-copy');
    try {
      fs.copyFileSync(process.execPath, exe);
      fs.chmodSync(exe, 0o755);
      const msgs = await runExeChild(exe, () => {
        if (how === 'rm') fs.unlinkSync(exe);
        else {
          // What an updater (or a same-user attacker) does: a new file renamed over the old name.
          const next = path.join(dir, 'node-copy.new');
          fs.writeFileSync(next, '#!/bin/sh\n');
          fs.renameSync(next, exe);
        }
      });
      const [ready, result] = msgs;
      assert.equal(ready.execPath, exe, 'the child runs the copy');
      assert.equal(result.error, undefined, `child failed: ${result.error}`);
      assert.equal(result.link, `${exe} (deleted)`, 'the kernel marks the running binary deleted');
      assert.ok(result.coverage.regions > 0 && result.coverage.hashedBytes > 0,
        `the monitor (mainExecutableOnly) must still hash the running binary after ${how}, coverage ${JSON.stringify(result.coverage)}`);
      assert.ok(result.regions.length > 0, `mainExecutableOnly must keep the running binary's code after ${how}, got no region`);
      for (const r of result.regions) {
        assert.deepEqual(r, { klass: 'main-executable', path: exe, deleted: true }, 'the region is the main executable, named by its real path, marked deleted');
      }
      assert.ok(result.exeMaps.length > 0, 'the binary is mapped');
      for (const e of result.exeMaps) {
        assert.deepEqual([e.path, e.pathText, e.deleted], [exe, `${exe} (deleted)`, true], `maps entry of the binary: real name, printed text and deleted flag (${JSON.stringify(e)})`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a file really named "x.so (deleted)" keeps its name; deleted files lose exactly the kernel mark', { skip: linux }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-deleted-name-'));
  const copy = (name) => {
    const p = path.join(dir, name);
    fs.copyFileSync(testLibPath, p);
    return p;
  };
  // 1. live, literally named with the suffix
  const live = copy('live.so (deleted)');
  const liveLib = loadTestLib(live);
  // 2. literally named with the suffix, then deleted: the kernel prints the suffix twice
  const gone = copy('gone.so (deleted)');
  loadTestLib(gone);
  const goneIno = String(fs.statSync(gone).ino);
  fs.unlinkSync(gone);
  // 3. replaced by mv -f
  const replaced = copy('replaced.so');
  loadTestLib(replaced);
  const replacedIno = String(fs.statSync(replaced).ino);
  fs.writeFileSync(path.join(dir, 'new.so'), 'new');
  fs.renameSync(path.join(dir, 'new.so'), replaced);
  // 4. deleted, and a decoy (another inode) created at "<name> (deleted)"
  const decoy = copy('decoy.so');
  loadTestLib(decoy);
  const decoyIno = String(fs.statSync(decoy).ino);
  fs.unlinkSync(decoy);
  copy('decoy.so (deleted)');

  const text = fs.readFileSync('/proc/self/maps', 'utf8');
  const maps = readMapsSync('self');
  const byIno = (ino) => {
    const es = maps.filter((e) => e.inode === ino && e.exec);
    assert.ok(es.length > 0, `inode ${ino} has an executable mapping`);
    return es[0];
  };
  const liveIno = String(fs.statSync(live).ino);
  const cases = [
    ['live file named "live.so (deleted)"', liveIno, live, live, false, 'shared-library'],
    ['"gone.so (deleted)" deleted', goneIno, gone, `${gone} (deleted)`, true, 'deleted-file'],
    ['replaced.so replaced by mv -f', replacedIno, replaced, `${replaced} (deleted)`, true, 'deleted-file'],
    ['decoy.so deleted, another file at "decoy.so (deleted)"', decoyIno, decoy, `${decoy} (deleted)`, true, 'deleted-file'],
  ];
  const regions = classifyRegions(maps, { mainExecutable: null, mainExecutableKey: null });
  for (const [what, ino, name, printed, deleted, klass] of cases) {
    const e = byIno(ino);
    assert.deepEqual({ path: e.path, pathText: e.pathText, deleted: e.deleted }, { path: name, pathText: printed, deleted }, `${what}: maps entry`);
    const r = regions.find((x) => x.fileKey === `${e.dev}:${ino}`);
    assert.deepEqual({ klass: r?.klass, path: r?.path, deleted: r?.deleted }, { klass, path: name, deleted }, `${what}: region`);
  }
  // The text alone cannot tell case 1 from a deleted "live.so": a pure parse takes the kernel's reading.
  const pure = parseMaps(text).find((e) => e.inode === liveIno);
  assert.deepEqual([pure.path, pure.deleted], [live.slice(0, -' (deleted)'.length), true], 'without the file system, the suffix reads as the kernel mark');

  // Findings name the real file.
  const mon = new CodeMonitor({ compareDisk: false });
  try {
    await mon.baseline();
    const restore = flip(liveLib.blob + 64n, 0x10);
    let r;
    try {
      r = await mon.check();
    } finally {
      restore();
    }
    const f = r.open.find((o) => o.kind === 'code-modified' && o.path === live);
    assert.ok(f, `a code-modified finding names ${live}; got ${JSON.stringify(r.open.map((o) => [o.kind, o.path]))}`);
  } finally {
    mon.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
