// Launch-vector audit: each vector is detected in a real spawned node process started with it;
// a clean start gives nothing; the code-only expected allowlist works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { dist, children, runJsonChild } from '../kernel/helpers.mjs';
import { auditLaunch, launchVectors, splitNodeOptions } from '../../dist/launch/audit.js';

const vectorEnvNames = launchVectors().filter((v) => v.source === 'env').map((v) => v.name);
function cleanEnv(extra = {}) {
  const env = { ...process.env };
  for (const n of vectorEnvNames) delete env[n];
  return { ...env, ...extra };
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-launch-'));
const empty = path.join(tmp, 'empty.cjs');
const emptyMjs = path.join(tmp, 'empty.mjs');
fs.writeFileSync(empty, '');
fs.writeFileSync(emptyMjs, 'export {};\n');
const envFile = path.join(tmp, 'app.env');
fs.writeFileSync(envFile, 'PG_LAUNCH_TEST=1\n');
const emptyCnf = path.join(tmp, 'openssl.cnf');
fs.writeFileSync(emptyCnf, '');
fs.mkdirSync(path.join(tmp, 'with space'));
const spaced = path.join(tmp, 'with space', 'preload.cjs');
fs.writeFileSync(spaced, '');
const libm = ['/usr/lib/x86_64-linux-gnu/libm.so.6', '/lib/x86_64-linux-gnu/libm.so.6', '/usr/lib/aarch64-linux-gnu/libm.so.6'].find((p) => fs.existsSync(p));

async function audit({ env = {}, execArgv = [], appArgs = [], expected = [] } = {}) {
  const { lines } = await runJsonChild([...execArgv, path.join(children, 'audit-child.cjs'), dist, JSON.stringify(expected), ...appArgs], {
    env: cleanEnv(env),
    timeoutMs: 30000,
  });
  return lines[0].observations;
}

test('a clean start gives no launch observation', async () => {
  assert.deepEqual(await audit(), [], 'clean node process: nothing reported');
});

const envCases = [
  ['ELECTRON_RUN_AS_NODE', '1', 'run-as-node'],
  ['NODE_OPTIONS', '--no-warnings', 'node-options'],
  ['NODE_REPL_EXTERNAL_MODULE', empty, 'node-env-hook'],
  ['NODE_PATH', tmp, 'node-env-hook'],
  ['NODE_COMPILE_CACHE', tmp, 'node-env-hook'],
  ['NODE_EXTRA_CA_CERTS', path.join(tmp, 'none.pem'), 'tls-override'],
  ['NODE_TLS_REJECT_UNAUTHORIZED', '0', 'tls-override'],
  ['OPENSSL_CONF', emptyCnf, 'openssl-config'],
  ['LD_PRELOAD', libm ?? '', 'preload-library'],
  ['LD_AUDIT', path.join(tmp, 'no-such-audit.so'), 'preload-library'],
  ['LD_LIBRARY_PATH', tmp, 'library-path'],
  ['DYLD_INSERT_LIBRARIES', path.join(tmp, 'x.dylib'), 'preload-library'],
  ['DYLD_LIBRARY_PATH', tmp, 'library-path'],
  ['DYLD_FRAMEWORK_PATH', tmp, 'library-path'],
  ['SSLKEYLOGFILE', path.join(tmp, 'keys.log'), 'tls-keylog'],
  ['GTK_MODULES', 'canberra-gtk-module', 'preload-library'],
  ['GTK3_MODULES', 'pg-evil-module', 'preload-library'],
  ['GIO_EXTRA_MODULES', tmp, 'library-path'],
];
for (const [name, value, kind] of envCases) {
  test(`env ${name} is detected from a spawned process`, async () => {
    const obs = await audit({ env: { [name]: value } });
    assert.deepEqual(obs.map((o) => o.key), [`launch:env:${name}`], `exactly the ${name} observation`);
    assert.equal(obs[0].kind, kind);
    assert.equal(obs[0].subsystem, 'launch');
    assert.deepEqual([obs[0].evidence.source, obs[0].evidence.name, obs[0].evidence.value], ['env', name, value], 'evidence');
  });
}

test('NODE_OPTIONS evidence lists the risky flags inside it', async () => {
  const obs = await audit({ env: { NODE_OPTIONS: `--require ${empty} --no-warnings` } });
  assert.deepEqual(obs[0].evidence.flags, ['--require']);
});

// Each risky option inside NODE_OPTIONS is its own observation with its own kind; the child really
// started with it (Node refuses to start on a NODE_OPTIONS it cannot parse or a file it cannot load).
const nodeOptionsCases = [
  [`--require ${empty}`, '--require', 'code-preload', empty],
  [`-r ${empty}`, '--require', 'code-preload', empty],
  [`--import=${emptyMjs}`, '--import', 'code-preload', emptyMjs],
  [`--experimental_loader ${emptyMjs}`, '--experimental-loader', 'code-preload', emptyMjs],
  [`--openssl-config=${emptyCnf}`, '--openssl-config', 'openssl-config', emptyCnf],
  [`--no-warnings --require "${spaced}"`, '--require', 'code-preload', spaced],
];
for (const [value, flag, kind, file] of nodeOptionsCases) {
  test(`NODE_OPTIONS="${value.replace(tmp, '<tmp>')}" is reported as ${flag} (${kind}) from a spawned process`, async () => {
    const obs = await audit({ env: { NODE_OPTIONS: value } });
    assert.deepEqual(obs.map((o) => o.key), ['launch:env:NODE_OPTIONS', `launch:NODE_OPTIONS:${flag}`], 'the variable and the option inside it');
    const o = obs[1];
    assert.equal(o.kind, kind, `${flag} inside NODE_OPTIONS has kind ${kind}`);
    assert.equal(o.evidence.source, 'NODE_OPTIONS');
    assert.equal(o.evidence.value, file, 'evidence gives the option value (quotes removed)');
    assert.deepEqual(obs[0].evidence.flags, [flag], 'the variable\'s evidence lists the normalised flag');
  });
}

/**
 * Runs audit-child with a NODE_OPTIONS that opens the inspector and (for --inspect-brk and
 * --inspect-wait) holds the process until a debugger asks it to run: inspector-release.cjs does
 * that from outside, as a real debugger would. Resolves with the child's observations.
 */
function auditHeld(nodeOptions, release) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(children, 'audit-child.cjs'), dist, '[]'], { env: cleanEnv({ NODE_OPTIONS: nodeOptions }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let releaser = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      releaser?.kill('SIGKILL');
    }, 30000);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      const url = /ws:\/\/[^\s]+/.exec(err)?.[0];
      if (release && url && !releaser) {
        const wsFlag = typeof globalThis.WebSocket === 'function' ? [] : ['--experimental-websocket'];
        releaser = spawn(process.execPath, [...wsFlag, path.join(children, 'inspector-release.cjs'), url, release], { stdio: ['ignore', 'ignore', 'inherit'], env: cleanEnv() });
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      releaser?.kill('SIGKILL');
      if (code !== 0) return reject(new Error(`audit child exited ${code ?? signal} (NODE_OPTIONS=${nodeOptions}): ${err}`));
      resolve(JSON.parse(out.split('\n').filter(Boolean)[0]).observations);
    });
  });
}

// Every debug-port spelling Node accepts inside NODE_OPTIONS, in a child really started with it
// (--inspect-brk-node is Electron's and Node refuses it there). `opens`: the inspector is really
// listening, so the audit also sees it open.
const nodeOptionsDebugCases = [
  ['--inspect=127.0.0.1:0', '--inspect', true, null],
  ['--inspect-brk=127.0.0.1:0', '--inspect-brk', true, 'pause'],
  ['--inspect_brk=127.0.0.1:0', '--inspect-brk', true, 'pause'],
  ['--inspect-wait=127.0.0.1:0', '--inspect-wait', true, 'no-pause'],
  ['--inspect-port=0', '--inspect-port', false, null],
  ['--inspect-port 0', '--inspect-port', false, null],
  ['--debug-port=0', '--debug-port', false, null],
];
for (const [value, flag, opens, release] of nodeOptionsDebugCases) {
  test(`NODE_OPTIONS="${value}" is reported as ${flag} (debug-port) from a spawned process`, async () => {
    const obs = await auditHeld(value, release);
    const keys = obs.map((o) => o.key).sort();
    const want = ['launch:env:NODE_OPTIONS', `launch:NODE_OPTIONS:${flag}`, ...(opens ? ['launch:inspector:open'] : [])].sort();
    assert.deepEqual(keys, want, `the variable, ${flag} inside it${opens ? ' and the open inspector' : ''}`);
    const o = obs.find((x) => x.key === `launch:NODE_OPTIONS:${flag}`);
    assert.equal(o.kind, 'debug-port', `${flag} inside NODE_OPTIONS is a debug-port vector`);
    assert.equal(o.evidence.arg, value.split(' ')[0], 'evidence keeps the raw option');
  });
}

const execCases = [
  [['--inspect=127.0.0.1:0'], ['launch:execArgv:--inspect', 'launch:inspector:open']],
  [['--inspect-port=0'], ['launch:execArgv:--inspect-port']],
  [['-r', empty], ['launch:execArgv:--require']],
  [[`--require=${empty}`], ['launch:execArgv:--require']],
  [['--import', emptyMjs], ['launch:execArgv:--import']],
  [['--experimental-loader', emptyMjs], ['launch:execArgv:--experimental-loader']],
  // Node reads '_' as '-' in option names (the loader really runs); execArgv keeps the underscore.
  [['--experimental_loader', emptyMjs], ['launch:execArgv:--experimental-loader']],
  [[`--experimental_loader=${emptyMjs}`], ['launch:execArgv:--experimental-loader']],
  [['--inspect_port=0'], ['launch:execArgv:--inspect-port']],
  [['--debug-port=0'], ['launch:execArgv:--debug-port']],
  [[`--env-file=${envFile}`], ['launch:execArgv:--env-file']],
  [[`--openssl-config=${emptyCnf}`], ['launch:execArgv:--openssl-config']],
];
for (const [execArgv, keys] of execCases) {
  test(`node option ${execArgv[0]} is detected from a spawned process`, async () => {
    const obs = await audit({ execArgv });
    assert.deepEqual(obs.map((o) => o.key).sort(), [...keys].sort(), `keys for ${execArgv.join(' ')}`);
    const o = obs.find((x) => x.key === keys[0]);
    assert.equal(o.evidence.source, 'execArgv');
    assert.equal(o.evidence.arg, execArgv[0], 'evidence keeps the raw argument');
  });
}

const argvCases = [
  ['--remote-debugging-port=9222', 'debug-port'],
  ['--remote-debugging-pipe', 'debug-port'],
  ['--js-flags=--allow-natives-syntax', 'js-flags'],
  ['--no-sandbox', 'sandbox-disabled'],
  ['--disable-web-security', 'web-security-disabled'],
  ['--host-rules=MAP * 127.0.0.1', 'network-redirect'],
  ['--host-resolver-rules=MAP * 127.0.0.1', 'network-redirect'],
  ['--proxy-server=http://127.0.0.1:8080', 'network-redirect'],
  ['--load-extension=/tmp/ext', 'extension-loaded'],
  ['--renderer-cmd-prefix=gdb --args', 'cmd-prefix'],
  ['--utility-cmd-prefix=strace', 'cmd-prefix'],
  ['--gpu-launcher=xterm -e', 'cmd-prefix'],
  ['--browser-subprocess-path=/tmp/evil-helper', 'cmd-prefix'],
  ['--single-process', 'sandbox-disabled'],
  ['--no-zygote', 'sandbox-disabled'],
  ['--inspect=9229', 'debug-port'],
  ['-remote-debugging-port=9333', 'debug-port'],
  ['--disable-gpu-sandbox', 'sandbox-disabled'],
  ['--disable-seccomp-filter-sandbox', 'sandbox-disabled'],
  ['--disable-setuid-sandbox', 'sandbox-disabled'],
  ['--disable-namespace-sandbox', 'sandbox-disabled'],
  ['--in-process-gpu', 'sandbox-disabled'],
  ['--ignore-certificate-errors', 'tls-override'],
  ['--ignore-certificate-errors-spki-list=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', 'tls-override'],
  ['--ssl-key-log-file=/tmp/pg-keys.log', 'tls-keylog'],
];
for (const [arg, kind] of argvCases) {
  test(`switch ${arg} is detected in argv of a spawned process`, async () => {
    const obs = await audit({ appArgs: [arg] });
    const flag = '--' + arg.replace(/^-+/, '').split('=')[0];
    assert.deepEqual(obs.map((o) => o.key), [`launch:argv:${flag}`], `exactly the ${flag} observation`);
    assert.equal(obs[0].kind, kind);
    assert.equal(obs[0].evidence.arg, arg, 'evidence keeps the raw argument');
    assert.equal(obs[0].evidence.index, 4, 'evidence gives the argv index');
  });
}

test('argv: Node-parsed inspector switches match with _ for -, Chromium switches only as written', async () => {
  const obs = await audit({ appArgs: ['--inspect_brk=9229', '--remote_debugging_port=9222'] });
  // Chromium's base::CommandLine does not normalise '_' ('--remote_debugging_port' opens nothing);
  // Node's option parser does, and Electron hands the inspector switches to it.
  assert.deepEqual(obs.map((o) => o.key), ['launch:argv:--inspect-brk'], 'only the Node-parsed switch is normalised');
  assert.equal(obs[0].evidence.arg, '--inspect_brk=9229', 'evidence keeps the raw argument');
});

test('an inspector opened at run time is detected', async () => {
  const obs = await audit({ appArgs: ['open-inspector'] });
  assert.deepEqual(obs.map((o) => o.key), ['launch:inspector:open']);
  assert.match(obs[0].evidence.url, /^ws:\/\/127\.0\.0\.1:\d+\//, 'evidence is the inspector URL');
});

test('the expected allowlist (from code) hides expected flags only', async () => {
  const obs = await audit({ execArgv: ['--inspect=127.0.0.1:0'], appArgs: ['--no-sandbox'], expected: ['--inspect'] });
  assert.deepEqual(obs.map((o) => o.key), ['launch:argv:--no-sandbox'], '--inspect and the open inspector are expected; --no-sandbox is not');
  const all = auditLaunch({ env: {}, argv: ['node', 'x', '--inspect'], execArgv: [], inspectorUrl: null, expected: ['--inspect'], includeExpected: true });
  assert.equal(all[0].evidence.expected, true, 'includeExpected marks the hit');
});

test('injected input: terminator, node-only options, Windows switches, case', () => {
  const base = { env: {}, execArgv: [], inspectorUrl: null };
  assert.deepEqual(auditLaunch({ ...base, argv: ['app', 'x', '--', '--no-sandbox'] }), [], 'switches after -- are arguments');
  assert.deepEqual(auditLaunch({ ...base, argv: ['app', '--require=x'] }), [], '--require after the script is not a Node option');
  assert.deepEqual(auditLaunch({ ...base, argv: ['app', '/no-sandbox'], platform: 'linux' }), [], '/switch is a path on Linux');
  assert.equal(auditLaunch({ ...base, argv: ['app', '/No-Sandbox'], platform: 'win32' })[0]?.key, 'launch:argv:--no-sandbox', 'Windows /switch, case-insensitive');
  assert.throws(() => auditLaunch({ ...base, argv: [], expected: [1] }), TypeError);
  // Expected names are normalised like Node's; expecting NODE_OPTIONS does not expect code in it.
  assert.deepEqual(auditLaunch({ ...base, argv: [], execArgv: ['--experimental-loader=x.mjs'], expected: ['--experimental_loader'] }), [], 'expected names are normalised');
  const injected = auditLaunch({ ...base, env: { NODE_OPTIONS: '--max-old-space-size=512 -r ./hook.js' }, argv: [], expected: ['NODE_OPTIONS'] });
  assert.deepEqual(injected.map((o) => o.key), ['launch:NODE_OPTIONS:--require'], 'a --require inside an expected NODE_OPTIONS is still reported');
  assert.deepEqual(auditLaunch({ ...base, argv: ['app', 'x', '--require=y'] }), [], 'Node-only options after the script stay unmatched');
  assert.equal(auditLaunch({ ...base, argv: [], execArgv: ['--env-file-if-exists=.env'] })[0]?.kind, 'node-env-hook', '--env-file-if-exists (Node 22+) is known');
  // NODE_OPTIONS splitting as Node's ParseNodeOptionsEnvVar: ' ' only, quotes removed, '\\' escapes inside quotes.
  assert.deepEqual(splitNodeOptions('--require "/a b/c\\"d.js"  -r x "" --x\tY'), ['--require', '/a b/c"d.js', '-r', 'x', '--x\tY']);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
