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

/** `nodeOnly`: a Node option that means nothing after the script (matched in execArgv only). */
type Vector = { kind: string; why: string; nodeOnly?: boolean };

/** Environment variables and why they matter. A variable that is set (even empty) is reported. */
const ENV: Record<string, Vector> = {
  ELECTRON_RUN_AS_NODE: { kind: 'run-as-node', why: 'turns the Electron binary into a plain Node.js interpreter' },
  NODE_OPTIONS: { kind: 'node-options', why: 'injects Node options (--require, --import, --inspect, ...) into every Node process' },
  NODE_REPL_EXTERNAL_MODULE: { kind: 'node-env-hook', why: 'loads an arbitrary module in place of the REPL' },
  NODE_PATH: { kind: 'node-env-hook', why: 'adds module search directories (bare-specifier hijack)' },
  NODE_COMPILE_CACHE: { kind: 'node-env-hook', why: 'loads V8 code cache from a directory' },
  NODE_EXTRA_CA_CERTS: { kind: 'tls-override', why: 'adds trusted CA certificates (TLS interception)' },
  NODE_TLS_REJECT_UNAUTHORIZED: { kind: 'tls-override', why: 'can disable TLS certificate verification' },
  LD_PRELOAD: { kind: 'preload-library', why: 'the dynamic loader maps these libraries into the process first' },
  LD_AUDIT: { kind: 'preload-library', why: 'the dynamic loader runs these rtld-audit libraries' },
  LD_LIBRARY_PATH: { kind: 'library-path', why: 'changes where shared libraries are found (library hijack)' },
  DYLD_INSERT_LIBRARIES: { kind: 'preload-library', why: 'macOS: dyld maps these libraries into the process' },
  DYLD_LIBRARY_PATH: { kind: 'library-path', why: 'macOS: changes where dyld finds libraries' },
  DYLD_FRAMEWORK_PATH: { kind: 'library-path', why: 'macOS: changes where dyld finds frameworks' },
};

/** Switch names (without dashes) and why they matter. A trailing '*' matches a prefix. */
const SWITCHES: [string, Vector][] = [
  ['inspect', { kind: 'debug-port', why: 'opens the V8 inspector (full code execution for whoever connects)' }],
  ['inspect-brk', { kind: 'debug-port', why: 'opens the V8 inspector and waits' }],
  ['inspect-brk-node', { kind: 'debug-port', why: 'opens the V8 inspector (Electron)' }],
  ['inspect-wait', { kind: 'debug-port', why: 'opens the V8 inspector and waits' }],
  ['inspect-port', { kind: 'debug-port', why: 'sets the V8 inspector port' }],
  ['debug', { kind: 'debug-port', why: 'legacy debugger switch', nodeOnly: true }],
  ['remote-debugging-port', { kind: 'debug-port', why: 'opens the Chrome DevTools protocol on a TCP port' }],
  ['remote-debugging-pipe', { kind: 'debug-port', why: 'opens the Chrome DevTools protocol on a pipe' }],
  ['remote-allow-origins', { kind: 'debug-port', why: 'lets web origins connect to the DevTools port' }],
  ['js-flags', { kind: 'js-flags', why: 'passes raw V8 flags (e.g. --allow-natives-syntax)' }],
  ['no-sandbox', { kind: 'sandbox-disabled', why: 'disables the Chromium renderer sandbox' }],
  ['disable-web-security', { kind: 'web-security-disabled', why: 'disables the same-origin policy' }],
  ['disable-site-isolation-trials', { kind: 'web-security-disabled', why: 'disables site isolation' }],
  ['ignore-certificate-errors', { kind: 'tls-override', why: 'accepts any TLS certificate' }],
  ['allow-running-insecure-content', { kind: 'web-security-disabled', why: 'allows mixed content' }],
  ['host-rules', { kind: 'network-redirect', why: 'remaps host names (traffic redirection)' }],
  ['host-resolver-rules', { kind: 'network-redirect', why: 'remaps DNS resolution (traffic redirection)' }],
  ['proxy-server', { kind: 'network-redirect', why: 'routes traffic through a proxy' }],
  ['proxy-pac-url', { kind: 'network-redirect', why: 'routes traffic by a PAC script' }],
  ['load-extension', { kind: 'extension-loaded', why: 'loads unpacked browser extensions' }],
  ['*-cmd-prefix', { kind: 'cmd-prefix', why: 'runs child processes (renderer, GPU, utility) through another program' }],
  ['gpu-launcher', { kind: 'cmd-prefix', why: 'runs the GPU process through another program' }],
  ['require', { kind: 'code-preload', why: 'preloads a module before the app', nodeOnly: true }],
  ['import', { kind: 'code-preload', why: 'preloads an ES module before the app', nodeOnly: true }],
  ['loader', { kind: 'code-preload', why: 'installs a module loader hook', nodeOnly: true }],
  ['experimental-loader', { kind: 'code-preload', why: 'installs a module loader hook', nodeOnly: true }],
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

/** The known risky switches inside a NODE_OPTIONS value (evidence only). */
function optionFlags(value: string, platform: NodeJS.Platform): string[] {
  const flags: string[] = [];
  for (const part of value.split(/\s+/)) {
    const sw = parseSwitch(part, platform);
    if (sw && matchSwitch(sw.name)) flags.push(`--${sw.name}`);
  }
  return flags;
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
  const expected = new Set(opts.expected ?? []);
  for (const e of expected) if (typeof e !== 'string') throw new TypeError('auditLaunch: expected must be an array of strings');
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
        evidence: { source: 'env', name, value: clip(value), ...(name === 'NODE_OPTIONS' ? { flags: optionFlags(value, platform) } : {}) },
      },
      expected.has(name),
    );
  }

  const scan = (list: readonly string[], source: 'argv' | 'execArgv', from: number) => {
    for (let i = from; i < list.length; i++) {
      const arg = list[i];
      if (typeof arg !== 'string') continue;
      if (arg === '--') break; // switches end here (Chromium and Node)
      const sw = parseSwitch(arg, platform);
      if (!sw) continue;
      const v = matchSwitch(sw.name);
      if (!v || (v.nodeOnly && source !== 'execArgv')) continue;
      const flag = `--${sw.name}`;
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
