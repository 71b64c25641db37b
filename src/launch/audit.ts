/**
 * Launch-vector audit: the environment variables, command-line switches and debug endpoints an
 * attacker (or a careless launcher) uses to get code into an Electron or Node process, or to
 * weaken it. Every hit is an Observation of subsystem 'launch' with its evidence.
 *
 * The "expected" allowlist comes only from the app's code (e.g. a test build passing
 * `expected: ['--inspect']`); procguard never reads an allowlist from the environment, since
 * whoever controls the environment is exactly who this audit is about.
 */
import type { Observation } from '../types';

export interface LaunchAuditInput {
  /** Default process.env. */
  env?: Record<string, string | undefined>;
  /** Default process.argv (Electron/Chromium switches appear here). */
  argv?: readonly string[];
  /** Default process.execArgv (Node options before the script). */
  execArgv?: readonly string[];
  /** Default require('node:inspector').url() (undefined when closed); null means "closed". */
  inspectorUrl?: string | null;
  /** Default process.platform (Windows also accepts "/switch" like Chromium). */
  platform?: NodeJS.Platform;
}

export interface LaunchAuditOptions extends LaunchAuditInput {
  /**
   * Flags or variables the app expects (e.g. ['--inspect', 'NODE_OPTIONS', 'inspector']). Matches
   * the switch name ('--inspect' matches '--inspect=9229') or the exact argument.
   */
  expected?: readonly string[];
  /** Also return expected hits, with evidence.expected = true. Default false. */
  includeExpected?: boolean;
}

/**
 * `node`: an option Node's own parser reads (in execArgv, in NODE_OPTIONS, and for the inspector
 * switches in an Electron command line). Node's parser treats '_' and '-' alike in option names
 * (`--experimental_loader` is `--experimental-loader`), so these are matched with the name
 * normalised; Chromium's switch parser does not, so Chromium switches are matched as written.
 * `nodeOnly`: a Node option that means nothing after the script (not matched in argv).
 */
type Vector = { kind: string; why: string; node?: boolean; nodeOnly?: boolean };

/** Environment variables and why they matter. A variable that is set (even empty) is reported. */
const ENV: Record<string, Vector> = {
  ELECTRON_RUN_AS_NODE: { kind: 'run-as-node', why: 'turns the Electron binary into a plain Node.js interpreter' },
  NODE_OPTIONS: { kind: 'node-options', why: 'injects Node options (--require, --import, --inspect, ...) into every Node process' },
  NODE_REPL_EXTERNAL_MODULE: { kind: 'node-env-hook', why: 'loads an arbitrary module in place of the REPL' },
  NODE_PATH: { kind: 'node-env-hook', why: 'adds module search directories (bare-specifier hijack)' },
  NODE_COMPILE_CACHE: { kind: 'node-env-hook', why: 'loads V8 code cache from a directory' },
  NODE_EXTRA_CA_CERTS: { kind: 'tls-override', why: 'adds trusted CA certificates (TLS interception)' },
  OPENSSL_CONF: { kind: 'openssl-config', why: 'Node loads this OpenSSL configuration at startup; it can load engine or provider libraries' },
  NODE_TLS_REJECT_UNAUTHORIZED: { kind: 'tls-override', why: 'can disable TLS certificate verification' },
  LD_PRELOAD: { kind: 'preload-library', why: 'the dynamic loader maps these libraries into the process first' },
  LD_AUDIT: { kind: 'preload-library', why: 'the dynamic loader runs these rtld-audit libraries' },
  LD_LIBRARY_PATH: { kind: 'library-path', why: 'changes where shared libraries are found (library hijack)' },
  DYLD_INSERT_LIBRARIES: { kind: 'preload-library', why: 'macOS: dyld maps these libraries into the process' },
  DYLD_LIBRARY_PATH: { kind: 'library-path', why: 'macOS: changes where dyld finds libraries' },
  DYLD_FRAMEWORK_PATH: { kind: 'library-path', why: 'macOS: changes where dyld finds frameworks' },
  SSLKEYLOGFILE: { kind: 'tls-keylog', why: 'Chromium\'s network stack (and other TLS libraries) write every TLS session secret to this file: whoever reads it decrypts the traffic' },
  GTK_MODULES: { kind: 'preload-library', why: 'GTK loads these modules (shared libraries) into the process when it initialises (Electron on Linux)' },
  GTK3_MODULES: { kind: 'preload-library', why: 'GTK 3 loads these modules (shared libraries) into the process when it initialises (Electron on Linux)' },
  GIO_EXTRA_MODULES: { kind: 'library-path', why: 'GIO loads every module found in these directories into the process' },
};

/** Switch names (without dashes) and why they matter. A trailing '*' matches a prefix. */
const SWITCHES: [string, Vector][] = [
  ['inspect', { kind: 'debug-port', why: 'opens the V8 inspector (full code execution for whoever connects)', node: true }],
  ['inspect-brk', { kind: 'debug-port', why: 'opens the V8 inspector and waits', node: true }],
  ['inspect-brk-node', { kind: 'debug-port', why: 'opens the V8 inspector (Electron)', node: true }],
  ['inspect-wait', { kind: 'debug-port', why: 'opens the V8 inspector and waits', node: true }],
  ['inspect-port', { kind: 'debug-port', why: 'sets the V8 inspector port', node: true }],
  ['debug-port', { kind: 'debug-port', why: 'sets the V8 inspector port (alias of --inspect-port)', node: true }],
  ['debug', { kind: 'debug-port', why: 'legacy debugger switch', node: true, nodeOnly: true }],
  ['remote-debugging-port', { kind: 'debug-port', why: 'opens the Chrome DevTools protocol on a TCP port' }],
  ['remote-debugging-pipe', { kind: 'debug-port', why: 'opens the Chrome DevTools protocol on a pipe' }],
  ['remote-allow-origins', { kind: 'debug-port', why: 'lets web origins connect to the DevTools port' }],
  ['js-flags', { kind: 'js-flags', why: 'passes raw V8 flags (e.g. --allow-natives-syntax)' }],
  ['no-sandbox', { kind: 'sandbox-disabled', why: 'disables the Chromium renderer sandbox' }],
  ['single-process', { kind: 'sandbox-disabled', why: 'runs renderers inside the browser process: no sandbox, no site isolation' }],
  ['no-zygote', { kind: 'sandbox-disabled', why: 'child processes are exec\'d without the zygote, which the Linux sandbox needs' }],
  ['disable-web-security', { kind: 'web-security-disabled', why: 'disables the same-origin policy' }],
  ['disable-site-isolation-trials', { kind: 'web-security-disabled', why: 'disables site isolation' }],
  ['disable-gpu-sandbox', { kind: 'sandbox-disabled', why: 'runs the GPU process without its sandbox' }],
  ['disable-seccomp-filter-sandbox', { kind: 'sandbox-disabled', why: 'turns off the Linux seccomp-bpf system-call filter of sandboxed processes' }],
  ['disable-setuid-sandbox', { kind: 'sandbox-disabled', why: 'turns off the Linux setuid sandbox (the layer used when user namespaces are unavailable)' }],
  ['disable-namespace-sandbox', { kind: 'sandbox-disabled', why: 'turns off the Linux namespace sandbox' }],
  ['in-process-gpu', { kind: 'sandbox-disabled', why: 'runs the GPU code inside the browser process: no GPU process, no GPU sandbox' }],
  ['ignore-certificate-errors', { kind: 'tls-override', why: 'accepts any TLS certificate' }],
  ['ignore-certificate-errors-spki-list', { kind: 'tls-override', why: 'accepts certificates whose public key hash is listed, from any issuer (TLS interception)' }],
  ['ssl-key-log-file', { kind: 'tls-keylog', why: 'writes every TLS session secret to a file: whoever reads it decrypts the traffic' }],
  ['allow-running-insecure-content', { kind: 'web-security-disabled', why: 'allows mixed content' }],
  ['host-rules', { kind: 'network-redirect', why: 'remaps host names (traffic redirection)' }],
  ['host-resolver-rules', { kind: 'network-redirect', why: 'remaps DNS resolution (traffic redirection)' }],
  ['proxy-server', { kind: 'network-redirect', why: 'routes traffic through a proxy' }],
  ['proxy-pac-url', { kind: 'network-redirect', why: 'routes traffic by a PAC script' }],
  ['load-extension', { kind: 'extension-loaded', why: 'loads unpacked browser extensions' }],
  ['browser-subprocess-path', { kind: 'cmd-prefix', why: 'runs another program as every child process (renderer, GPU, utility)' }],
  ['renderer-cmd-prefix', { kind: 'cmd-prefix', why: 'runs renderer processes through another program' }],
  ['utility-cmd-prefix', { kind: 'cmd-prefix', why: 'runs utility processes through another program' }],
  ['*-cmd-prefix', { kind: 'cmd-prefix', why: 'runs child processes (renderer, GPU, utility) through another program' }],
  ['gpu-launcher', { kind: 'cmd-prefix', why: 'runs the GPU process through another program' }],
  ['require', { kind: 'code-preload', why: 'preloads a module before the app', node: true, nodeOnly: true }],
  ['import', { kind: 'code-preload', why: 'preloads an ES module before the app', node: true, nodeOnly: true }],
  ['loader', { kind: 'code-preload', why: 'installs a module loader hook', node: true, nodeOnly: true }],
  ['experimental-loader', { kind: 'code-preload', why: 'installs a module loader hook', node: true, nodeOnly: true }],
  ['env-file', { kind: 'node-env-hook', why: 'loads environment variables (NODE_OPTIONS too) from a file at startup', node: true, nodeOnly: true }],
  ['env-file-if-exists', { kind: 'node-env-hook', why: 'loads environment variables (NODE_OPTIONS too) from a file at startup', node: true, nodeOnly: true }],
  ['openssl-config', { kind: 'openssl-config', why: 'loads an OpenSSL configuration at startup; it can load engine or provider libraries', node: true, nodeOnly: true }],
];

function matchSwitch(name: string): Vector | null {
  for (const [pattern, v] of SWITCHES) {
    if (pattern.startsWith('*')) {
      if (name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1) return v;
    } else if (name === pattern) {
      return v;
    }
  }
  return null;
}

/** Node's option-name normalisation (src/node_options-inl.h): every '_' in a '--name' is a '-'. */
function nodeName(name: string): string {
  return name.replace(/_/g, '-');
}

/**
 * The vector a switch name hits, and the name to report it under. `nodeParsed`: Node's parser
 * reads this list (execArgv, NODE_OPTIONS), so only Node options count and '_' is '-'. Otherwise
 * (argv, which Chromium parses) the name is matched as written, and Node options that an Electron
 * command line hands to Node (the inspector switches) also match with '_' normalised.
 */
function lookup(name: string, nodeParsed: boolean): { v: Vector; name: string } | null {
  const normal = nodeName(name);
  if (nodeParsed) {
    const v = matchSwitch(normal);
    return v !== null && v.node === true ? { v, name: normal } : null;
  }
  const exact = matchSwitch(name);
  if (exact !== null) return { v: exact, name };
  const v = matchSwitch(normal);
  return v !== null && v.node === true ? { v, name: normal } : null;
}

/** '--Name=value' / '-name' / '/name' (Windows) -> { name, value }, or null when not a switch. */
function parseSwitch(arg: string, platform: NodeJS.Platform): { name: string; value: string | null } | null {
  // Node's one-letter alias for --require.
  if (arg === '-r') return { name: 'require', value: null };
  let body: string;
  if (arg.startsWith('--')) body = arg.slice(2);
  else if (arg.startsWith('-') && arg.length > 1) body = arg.slice(1);
  else if (platform === 'win32' && arg.startsWith('/') && arg.length > 1) body = arg.slice(1);
  else return null;
  const eq = body.indexOf('=');
  // Chromium lower-cases switch names on Windows only; elsewhere (and in Node) case matters.
  const raw = eq < 0 ? body : body.slice(0, eq);
  const name = platform === 'win32' ? raw.toLowerCase() : raw;
  return { name, value: eq < 0 ? null : body.slice(eq + 1) };
}

/**
 * Splits a NODE_OPTIONS value the way Node does (ParseNodeOptionsEnvVar in src/node_options.cc):
 * on ' ' outside double quotes; quotes are removed and start no argument by themselves; inside
 * quotes a backslash takes the next character literally.
 */
export function splitNodeOptions(value: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let startNew = true;
  for (let i = 0; i < value.length; i++) {
    let c = value[i];
    if (c === '\\' && quoted) {
      if (i + 1 === value.length) break; // Node refuses to start ("invalid escape")
      c = value[++i];
    } else if (c === ' ' && !quoted) {
      startNew = true;
      continue;
    } else if (c === '"') {
      quoted = !quoted;
      continue;
    }
    if (startNew) {
      out.push(c);
      startNew = false;
    } else {
      out[out.length - 1] += c;
    }
  }
  return out;
}

/** Node options that take their value as the next argument when it is not given with '='. */
const VALUE_OPTIONS = new Set(['require', 'import', 'loader', 'experimental-loader', 'env-file', 'env-file-if-exists', 'openssl-config', 'inspect-port', 'debug-port']);

type OptionHit = { flag: string; v: Vector; arg: string; value: string | null; index: number };

/** The known risky Node options inside a NODE_OPTIONS value, in order, with their token index. */
function nodeOptionHits(value: string): OptionHit[] {
  const hits: OptionHit[] = [];
  const tokens = splitNodeOptions(value);
  for (let i = 0; i < tokens.length; i++) {
    const start = i;
    const sw = parseSwitch(tokens[i], 'linux'); // Node's parser: no '/switch', and case matters everywhere
    if (!sw) continue;
    const hit = lookup(sw.name, true);
    if (!hit) continue;
    let v = sw.value;
    if (v === null && VALUE_OPTIONS.has(hit.name) && i + 1 < tokens.length) v = tokens[++i];
    hits.push({ flag: `--${hit.name}`, v: hit.v, arg: tokens[start], value: v, index: start });
  }
  return hits;
}

/** Canonical form of an `expected` entry: switch names normalised like Node's ('_' is '-'). */
function expectedForms(e: string): string[] {
  return e.startsWith('--') ? [e, `--${nodeName(e.slice(2))}`] : [e];
}

function clip(v: string): string {
  return v.length > 200 ? v.slice(0, 200) + '...' : v;
}

function defaultInspectorUrl(): string | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: some embedders build Node without the inspector
    const url = (require('node:inspector') as typeof import('node:inspector')).url();
    return url ?? null;
  } catch {
    return null;
  }
}

/**
 * Audit the launch vectors of this process (or of the injected input). Returns one observation
 * per hit not marked expected. Keys are stable: `launch:<source>:<name>`.
 */
export function auditLaunch(opts: LaunchAuditOptions = {}): Observation[] {
  if (opts === null || typeof opts !== 'object') throw new TypeError('auditLaunch: options must be an object');
  const expected = new Set<string>();
  for (const e of opts.expected ?? []) {
    if (typeof e !== 'string') throw new TypeError('auditLaunch: expected must be an array of strings');
    for (const f of expectedForms(e)) expected.add(f);
  }
  const env = opts.env ?? process.env;
  const argv = opts.argv ?? process.argv;
  const execArgv = opts.execArgv ?? process.execArgv;
  const platform = opts.platform ?? process.platform;
  const inspectorUrl = opts.inspectorUrl === undefined ? defaultInspectorUrl() : opts.inspectorUrl;
  const out: Observation[] = [];

  const push = (o: Observation, isExpected: boolean) => {
    if (isExpected && !opts.includeExpected) return;
    if (isExpected) o.evidence = { ...o.evidence, expected: true };
    out.push(o);
  };

  for (const [name, v] of Object.entries(ENV)) {
    const value = env[name];
    if (value === undefined) continue;
    push(
      {
        key: `launch:env:${name}`,
        subsystem: 'launch',
        kind: v.kind,
        detail: `environment variable ${name} is set: ${v.why}`,
        evidence: { source: 'env', name, value: clip(value), ...(name === 'NODE_OPTIONS' ? { flags: nodeOptionHits(value).map((h) => h.flag) } : {}) },
      },
      expected.has(name),
    );
  }

  // Each risky option inside NODE_OPTIONS on its own, with its own kind (a --require there is code
  // loaded into every Node process this environment starts, not just "an option is set").
  const nodeOptions = env.NODE_OPTIONS;
  if (typeof nodeOptions === 'string') {
    for (const h of nodeOptionHits(nodeOptions)) {
      push(
        {
          key: `launch:NODE_OPTIONS:${h.flag}`,
          subsystem: 'launch',
          kind: h.v.kind,
          detail: `NODE_OPTIONS holds ${h.flag}: ${h.v.why}`,
          evidence: { source: 'NODE_OPTIONS', flag: h.flag, arg: clip(h.arg), index: h.index, ...(h.value !== null ? { value: clip(h.value) } : {}) },
        },
        // Expecting NODE_OPTIONS itself (say, for --max-old-space-size) does not expect code in it.
        expected.has(h.flag) || expected.has(h.arg),
      );
    }
  }

  const scan = (list: readonly string[], source: 'argv' | 'execArgv', from: number) => {
    for (let i = from; i < list.length; i++) {
      const arg = list[i];
      if (typeof arg !== 'string') continue;
      if (arg === '--') break; // switches end here (Chromium and Node)
      // Node parses execArgv the same way on every OS (no '/switch', case-sensitive).
      const sw = parseSwitch(arg, source === 'execArgv' ? 'linux' : platform);
      if (!sw) continue;
      const hit = lookup(sw.name, source === 'execArgv');
      if (!hit || (hit.v.nodeOnly && source !== 'execArgv')) continue;
      const v = hit.v;
      const flag = `--${hit.name}`;
      push(
        {
          key: `launch:${source}:${flag}`,
          subsystem: 'launch',
          kind: v.kind,
          detail: `${source === 'argv' ? 'command-line switch' : 'Node option'} ${flag}: ${v.why}`,
          evidence: { source, flag, arg: clip(arg), index: i, ...(sw.value !== null ? { value: clip(sw.value) } : {}) },
        },
        expected.has(flag) || expected.has(arg),
      );
    }
  };
  scan(execArgv, 'execArgv', 0);
  scan(argv, 'argv', 1); // argv[0] is the executable

  if (inspectorUrl) {
    const isExpected = expected.has('inspector') || ['--inspect', '--inspect-brk', '--inspect-wait'].some((f) => expected.has(f));
    push(
      {
        key: 'launch:inspector:open',
        subsystem: 'launch',
        kind: 'inspector-open',
        detail: `the V8 inspector is open at ${inspectorUrl}`,
        evidence: { source: 'inspector', url: inspectorUrl },
      },
      isExpected,
    );
  }
  return out;
}

/** The vectors this audit knows, for documentation and UIs. */
export function launchVectors(): { source: 'env' | 'switch'; name: string; kind: string; why: string }[] {
  return [
    ...Object.entries(ENV).map(([name, v]) => ({ source: 'env' as const, name, ...v })),
    ...SWITCHES.map(([name, v]) => ({ source: 'switch' as const, name: `--${name}`, kind: v.kind, why: v.why })),
  ];
}
