/**
 * Whether Electron runs a webContents' renderer sandboxed, decided by Electron's own rules rather
 * than read from its webPreferences (which are only what the app asked for). On macOS and Windows
 * app.getAppMetrics() reports the outcome (ProcessMetric.sandboxed); on Linux it does not, so this
 * module computes it. Rules, as in Electron 45's sources (electron/electron):
 *
 * 1. A `--no-sandbox` switch on the browser process "will disable the sandbox for all processes"
 *    (electron/electron docs/tutorial/sandbox; docs/api/command-line-switches: "Forces renderer process and
 *    Chromium helper processes to run un-sandboxed"). Electron records per renderer
 *    `renderer_process_sandboxed_ = !HasSwitch(kNoSandbox)` (shell/browser/electron_browser_client.cc). ELECTRON_DISABLE_SANDBOX adds that switch at start
 *    (shell/app/electron_main_delegate.cc); app.enableSandbox() removes it again
 *    (shell/browser/api/electron_api_app.cc, App::EnableSandbox -> RemoveNoSandboxSwitch).
 * 2. Otherwise `--enable-sandbox` on the browser process (the command-line switch, or
 *    app.enableSandbox(), which appends it) sandboxes every renderer whatever its webPreferences
 *    (WebContentsPreferences::IsSandboxed / ShouldUseSandbox, shell/browser/web_contents_preferences.cc;
 *    the switch is copied to renderers by ElectronBrowserClient::AppendExtraCommandLineSwitches).
 * 3. Otherwise webPreferences.sandbox when the app set it.
 * 4. Otherwise sandboxed unless nodeIntegration or nodeIntegrationInWorker is on (the default
 *    since Electron 20).
 *
 * Which switches the browser process has: app.commandLine.hasSwitch() reads the same
 * base::CommandLine that app.enableSandbox() edits and ELECTRON_DISABLE_SANDBOX extends
 * (shell/common/api/electron_api_command_line.cc: base::CommandLine::ForCurrentProcess()), so it
 * is the public getter used here. Without app.commandLine, process.argv and the environment are
 * read, and app.enableSandbox() cannot be seen: a decision "unsandboxed" then is `uncertain`. The
 * app can also declare the switches itself (the `sandboxSwitches` options).
 */

/** The sandbox switches of the Electron browser process. */
export interface SandboxSwitches {
  /** `--enable-sandbox` (command line or app.enableSandbox()). */
  enableSandbox: boolean;
  /** `--no-sandbox` (command line, app.commandLine.appendSwitch before ready, ELECTRON_DISABLE_SANDBOX). */
  noSandbox: boolean;
  /** Where they were read: 'app.commandLine', 'process.argv' (app.enableSandbox() invisible) or 'declared' by the app. */
  source: 'app.commandLine' | 'process.argv' | 'declared';
}

/** The part of Electron's `app` read for the switches. */
export interface CommandLineAppLike {
  commandLine?: { hasSwitch(name: string): boolean };
}

/** The webPreferences fields Electron's sandbox rule reads. */
export interface SandboxPreferences {
  sandbox?: unknown;
  nodeIntegration?: unknown;
  nodeIntegrationInWorker?: unknown;
}

/** Which rule decided (see the module comment). */
export type SandboxBasis = 'switch --no-sandbox' | 'switch --enable-sandbox' | 'webPreferences.sandbox' | 'default' | 'default with nodeIntegration';

export interface SandboxDecision {
  sandboxed: boolean;
  basis: SandboxBasis;
  /** webPreferences.sandbox as the app asked for it, when set; it is the decision only when basis is 'webPreferences.sandbox'. */
  requested?: boolean;
  /** True when a switch that could not be read (app.enableSandbox() without app.commandLine) could change the decision. */
  uncertain: boolean;
}

function hasArg(argv: readonly string[], name: string): boolean {
  // Chromium switches: --name or --name=value; parsing stops at a bare "--".
  for (const a of argv) {
    if (a === '--') return false;
    if (a === `--${name}` || a.startsWith(`--${name}=`)) return true;
  }
  return false;
}

/**
 * The browser process's sandbox switches: from `app.commandLine` when there is one, else from
 * `argv` and `env` (ELECTRON_DISABLE_SANDBOX). `declared` (the app's own statement) wins.
 */
export function readSandboxSwitches(
  app: CommandLineAppLike | undefined,
  declared?: Partial<Pick<SandboxSwitches, 'enableSandbox' | 'noSandbox'>>,
  argv: readonly string[] = process.argv,
  env: NodeJS.ProcessEnv = process.env,
): SandboxSwitches {
  if (declared !== undefined) {
    if (typeof declared !== 'object' || declared === null) throw new TypeError('sandboxSwitches must be an object { enableSandbox?, noSandbox? }');
    for (const k of ['enableSandbox', 'noSandbox'] as const) {
      if (declared[k] !== undefined && typeof declared[k] !== 'boolean') throw new TypeError(`sandboxSwitches.${k} must be a boolean`);
    }
    return { enableSandbox: declared.enableSandbox === true, noSandbox: declared.noSandbox === true, source: 'declared' };
  }
  const cl = app?.commandLine;
  if (cl !== undefined && cl !== null && typeof cl.hasSwitch === 'function') {
    try {
      return { enableSandbox: cl.hasSwitch('enable-sandbox') === true, noSandbox: cl.hasSwitch('no-sandbox') === true, source: 'app.commandLine' };
    } catch {
      // fall through to argv
    }
  }
  const envOff = env.ELECTRON_DISABLE_SANDBOX !== undefined;
  return { enableSandbox: hasArg(argv, 'enable-sandbox'), noSandbox: hasArg(argv, 'no-sandbox') || envOff, source: 'process.argv' };
}

/** Electron's decision for the renderer of a webContents with preferences `prefs` (see the module comment). */
export function decideRendererSandbox(prefs: SandboxPreferences | null | undefined, switches: SandboxSwitches): SandboxDecision {
  const requested = typeof prefs?.sandbox === 'boolean' ? prefs.sandbox : undefined;
  const withRequested = requested === undefined ? {} : { requested };
  // app.enableSandbox() removes --no-sandbox; only readable through app.commandLine or a declaration.
  const blind = switches.source === 'process.argv';
  if (switches.noSandbox) return { sandboxed: false, basis: 'switch --no-sandbox', ...withRequested, uncertain: blind };
  if (switches.enableSandbox) return { sandboxed: true, basis: 'switch --enable-sandbox', ...withRequested, uncertain: false };
  if (requested !== undefined) return { sandboxed: requested, basis: 'webPreferences.sandbox', requested, uncertain: blind && !requested };
  const nodeOn = prefs?.nodeIntegration === true || prefs?.nodeIntegrationInWorker === true;
  return nodeOn
    ? { sandboxed: false, basis: 'default with nodeIntegration', uncertain: blind }
    : { sandboxed: true, basis: 'default', uncertain: false };
}
