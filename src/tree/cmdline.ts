/**
 * Chromium process type from a /proc/<pid>/cmdline. Pure.
 *
 * Chromium's children rewrite their argv (setproctitle), so the cmdline is often ONE NUL-terminated
 * string of space-joined flags rather than one argument per NUL; a flag value may itself contain
 * spaces ("--enable-crash-reporter=,built on Debian ..."). Flags are therefore matched at the start
 * of the text or after a NUL or a space, and values end at a NUL or a space (the values read here,
 * type names and sandbox types, never contain spaces).
 */
export type ProcessType = 'browser' | 'renderer' | 'gpu-process' | 'utility' | 'zygote' | 'crashpad-handler' | 'other';

export interface ProcessKind {
  type: ProcessType;
  /** The raw --type= value ('' when absent), e.g. 'ppapi' for a type we do not name. */
  rawType: string;
  /** Utility processes: --utility-sub-type (e.g. 'network.mojom.NetworkService'). */
  utilitySubType?: string;
  /** Utility processes: --service-sandbox-type (e.g. 'none', 'utility', 'audio'). */
  serviceSandboxType?: string;
  /** --no-sandbox is on this process's command line. */
  noSandboxFlag: boolean;
}

/** The value of `--name=` in the cmdline text, or null. */
export function flagValue(cmdline: string, name: string): string | null {
  const re = new RegExp(`(?:^|[\\0 ])--${name.replace(/[-]/g, '\\-')}=([^\\0 ]*)`);
  const m = re.exec(cmdline);
  return m ? m[1] : null;
}

/** True when `--name` (with or without a value) is present. */
export function hasFlag(cmdline: string, name: string): boolean {
  return new RegExp(`(?:^|[\\0 ])--${name.replace(/[-]/g, '\\-')}(?:=|[\\0 ]|$)`).test(cmdline);
}

/**
 * A Windows command line (one string, as the PEB holds it) split into its arguments the way
 * CommandLineToArgvW and the C runtime split it, joined with NULs for classifyCmdline: so a quoted
 * `"--type=renderer"` or `"--no-sandbox"` is read as the flag it is. The program name (first
 * argument) ends at the next quote if it starts with one, else at white space, with no escapes;
 * after it, 2n backslashes before a quote are n backslashes and the quote toggles quoting, 2n + 1
 * are n and a literal quote, `""` inside quotes is a literal quote, and other backslashes are literal.
 */
export function windowsArgv(commandLine: string): string[] {
  if (typeof commandLine !== 'string') throw new TypeError('windowsArgv: commandLine must be a string');
  const args: string[] = [];
  let i = 0;
  const n = commandLine.length;
  const white = (c: string): boolean => c === ' ' || c === '\t';
  // The program name.
  let prog = '';
  if (commandLine[0] === '"') {
    i = 1;
    while (i < n && commandLine[i] !== '"') prog += commandLine[i++];
    if (i < n) i++;
  } else {
    while (i < n && !white(commandLine[i])) prog += commandLine[i++];
  }
  args.push(prog);
  for (;;) {
    while (i < n && white(commandLine[i])) i++;
    if (i >= n) break;
    let arg = '';
    let quoted = false;
    while (i < n && (quoted || !white(commandLine[i]))) {
      const c = commandLine[i];
      if (c === '\\') {
        let slashes = 0;
        while (i < n && commandLine[i] === '\\') {
          slashes++;
          i++;
        }
        if (commandLine[i] === '"') {
          arg += '\\'.repeat(slashes >> 1);
          if (slashes % 2 === 1) {
            arg += '"';
            i++;
          }
        } else {
          arg += '\\'.repeat(slashes);
        }
      } else if (c === '"') {
        if (quoted && commandLine[i + 1] === '"') {
          arg += '"';
          i += 2;
        } else {
          quoted = !quoted;
          i++;
        }
      } else {
        arg += c;
        i++;
      }
    }
    args.push(arg);
  }
  return args;
}

const KNOWN: Record<string, ProcessType> = {
  renderer: 'renderer',
  'gpu-process': 'gpu-process',
  utility: 'utility',
  zygote: 'zygote',
  'crashpad-handler': 'crashpad-handler',
};

/**
 * Classify one process from its cmdline text (NULs kept). `isRoot` marks the tree's root, which
 * is the 'browser' when it has no --type (Chromium's browser process, Electron's main).
 * The crashpad handler is a separate executable: it carries no --type= but names itself in
 * --monitor-self-annotation=ptype=crashpad-handler.
 */
export function classifyCmdline(cmdline: string, isRoot: boolean): ProcessKind {
  if (typeof cmdline !== 'string') throw new TypeError('classifyCmdline: cmdline must be a string');
  const rawType = flagValue(cmdline, 'type') ?? '';
  const noSandboxFlag = hasFlag(cmdline, 'no-sandbox');
  let type: ProcessType = KNOWN[rawType] ?? 'other';
  if (rawType === '') {
    if (/(?:^|[\0 ])--monitor-self-annotation=ptype=crashpad-handler(?:[\0 ]|$)/.test(cmdline) || /(?:^|\/)chrome_crashpad_handler(?:[\0 ]|$)/.test(cmdline)) {
      type = 'crashpad-handler';
    } else if (isRoot) {
      type = 'browser';
    }
  }
  const kind: ProcessKind = { type, rawType, noSandboxFlag };
  if (type === 'utility') {
    const sub = flagValue(cmdline, 'utility-sub-type');
    const sb = flagValue(cmdline, 'service-sandbox-type');
    if (sub !== null) kind.utilitySubType = sub;
    if (sb !== null) kind.serviceSandboxType = sb;
  }
  return kind;
}
