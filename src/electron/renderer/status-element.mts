/**
 * procguard/renderer: the <procguard-status> custom element. A browser ES module with no imports
 * at all, so a page can load it straight from the package (or a custom protocol) under a strict CSP.
 *
 *   import { connect } from 'procguard/renderer';          // or a relative URL to the .mjs file
 *   const el = document.querySelector('procguard-status');
 *   const stop = connect(el, window.procguard);
 *
 * Every value shown comes from the status object, which holds attacker-influenced strings (module
 * paths, details): it is written with textContent and attributes only, never parsed as HTML.
 * Styles are a constructed stylesheet (adoptedStyleSheets), which a `style-src 'self'` CSP allows.
 * Theming: CSS custom properties (--procguard-*) and ::part(): container, header, heading, state,
 * state-icon, meta, section, steps, step, findings, finding, finding-title, finding-location,
 * severity, detail, empty, error, hardening-alerts, tracer, warnings, warning, portals (desktop-portal state),
 * protections, processes (the process table), process (one row), manifest (the signed manifest line).
 */
import type { Finding, HardenPortals, HardenStep, ProcessEntry, Status } from '../../types.js';

/** What connect() needs: the object the preload exposes as window.procguard. */
export interface StatusApi {
  getStatus(): Promise<Status>;
  /** `onError` (preload 0.2+): the main process refused the subscription. */
  onStatus(cb: (status: Status) => void, onError?: (err: Error) => void): () => void;
}

const STATE_TEXT: Record<string, { label: string; icon: string }> = {
  ok: { label: 'OK: no open findings', icon: '\u2714' },
  findings: { label: 'Findings open', icon: '\u26A0' },
  compromised: { label: 'Compromised', icon: '\u2716' },
  stalled: { label: 'Checker stalled', icon: '\u2016' },
  starting: { label: 'Starting', icon: '\u2026' },
};
const SEVERITY_RANK: Record<string, number> = { log: 0, isolate: 1, restart: 2, degrade: 3, 'safe-mode': 4 };

const CSS = `
:host { display: block; font: var(--procguard-font, 14px/1.4 system-ui, sans-serif); color: var(--procguard-fg, #1b1b1b); }
[part~=container] { background: var(--procguard-bg, #fff); border: 1px solid var(--procguard-border, #c8c8c8); border-radius: var(--procguard-radius, 6px); padding: var(--procguard-padding, 12px 16px); }
[part~=header] { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px; }
[part~=heading] { font-size: 1.1em; margin: 0; }
[part~=state] { font-weight: 600; padding: 2px 8px; border-radius: 4px; border: 2px solid currentColor; }
[data-state=ok] [part~=state] { color: var(--procguard-ok, #176b2c); }
[data-state=findings] [part~=state] { color: var(--procguard-warn, #8a5300); }
[data-state=compromised] [part~=state] { color: var(--procguard-bad, #b00020); }
[data-state=stalled] [part~=state], [data-state=starting] [part~=state], [data-state=unknown] [part~=state] { color: var(--procguard-muted, #555); }
[part~=meta] { color: var(--procguard-muted, #555); margin: 6px 0; }
h3 { font-size: 1em; margin: 10px 0 4px; }
ul { margin: 0; padding-left: 1.2em; }
[part~=finding] { margin: 4px 0; }
[part~=finding-location], code { font-family: var(--procguard-mono, ui-monospace, monospace); overflow-wrap: anywhere; }
[part~=severity] { font-weight: 600; text-transform: uppercase; font-size: 0.85em; }
[part~=error] { color: var(--procguard-bad, #b00020); }
[part~=hardening-alerts] { border-left: 4px solid var(--procguard-warn, #8a5300); padding-left: 8px; margin: 8px 0; }
[part~=tracer] { color: var(--procguard-bad, #b00020); font-weight: 600; margin: 4px 0; }
[part~=portals] { margin: 6px 0 2px; }
[part~=portals][data-state=refused] { color: var(--procguard-warn, #8a5300); font-weight: 600; }
[part~=processes] { border-collapse: collapse; font-size: 0.9em; }
[part~=processes] th, [part~=processes] td { text-align: left; padding: 1px 8px 1px 0; vertical-align: top; }
[part~=process][data-sandboxed=no][data-required=yes] td { color: var(--procguard-bad, #b00020); }
`;

const Base: typeof HTMLElement = (globalThis as { HTMLElement?: typeof HTMLElement }).HTMLElement ?? (class {} as unknown as typeof HTMLElement);

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : '';
}

/** A byte offset as hex ("0x1a2b"), or '' when it is not a non-negative safe integer. */
export function hexOffset(v: unknown): string {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? `0x${v.toString(16)}` : '';
}

function formatMs(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return '';
  return v < 10 ? `${v.toFixed(2)} ms` : v < 100 ? `${v.toFixed(1)} ms` : v < 10000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`;
}

function el<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, part?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = doc.createElement(tag);
  if (part !== undefined) e.setAttribute('part', part);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The custom element. Set `.status` to a Status snapshot (or null); `.error` to show a failure. */
export class ProcguardStatusElement extends Base {
  #status: Status | null = null;
  #error: string | null = null;
  #root: ShadowRoot | null = null;

  get status(): Status | null {
    return this.#status;
  }
  set status(value: Status | null) {
    this.#status = value ?? null;
    if (value !== null && value !== undefined) this.#error = null;
    this.#render();
  }
  get error(): string | null {
    return this.#error;
  }
  set error(value: string | null) {
    this.#error = value === null || value === undefined ? null : String(value);
    this.#render();
  }

  connectedCallback(): void {
    // A page may set .status before this module defined the element: re-apply it through the setter.
    for (const prop of ['status', 'error'] as const) {
      if (Object.prototype.hasOwnProperty.call(this, prop)) {
        const v = (this as Record<string, unknown>)[prop];
        delete (this as Record<string, unknown>)[prop];
        (this as Record<string, unknown>)[prop] = v;
      }
    }
    this.#render();
  }

  #shadow(): ShadowRoot {
    if (this.#root !== null) return this.#root;
    const root = this.attachShadow({ mode: 'open' });
    const doc = this.ownerDocument;
    const win = doc.defaultView;
    if (win !== null && 'adoptedStyleSheets' in root && typeof win.CSSStyleSheet === 'function') {
      const sheet = new win.CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.appendChild(el(doc, 'style', undefined, CSS));
    }
    this.#root = root;
    return root;
  }

  #render(): void {
    const root = this.#shadow();
    const doc = this.ownerDocument;
    const s = this.#status;
    const valid = s !== null && typeof s === 'object' && s.version === 1;
    const state = valid ? str(s.state) : 'unknown';
    const info = STATE_TEXT[state] ?? { label: valid ? `Unknown state: ${state}` : 'No status yet', icon: '?' };

    const container = el(doc, 'section', 'container');
    container.dataset.state = STATE_TEXT[state] !== undefined ? state : 'unknown';
    const headingId = 'procguard-heading';
    container.setAttribute('aria-labelledby', headingId);

    const header = el(doc, 'div', 'header');
    const heading = el(doc, 'h2', 'heading', this.getAttribute('heading') ?? 'Process integrity');
    heading.id = headingId;
    // The live region holds only the one-line state, so screen readers announce changes briefly.
    const live = el(doc, 'p', 'state');
    live.setAttribute('role', 'status');
    live.setAttribute('aria-live', 'polite');
    live.setAttribute('aria-atomic', 'true');
    const icon = el(doc, 'span', 'state-icon', `${info.icon} `);
    icon.setAttribute('aria-hidden', 'true');
    live.append(icon, doc.createTextNode(info.label));
    header.append(heading, live);
    container.append(header);

    if (this.#error !== null) container.append(el(doc, 'p', 'error', `Status unavailable: ${this.#error}`));

    if (valid) {
      container.append(this.#meta(doc, s));
      const alerts = hardeningAlerts(doc, s);
      if (alerts !== null) container.append(alerts);
      container.append(this.#loops(doc, s)); // fastloops: what is off and why
      if (s.manifest !== null && typeof s.manifest === 'object') container.append(manifestLine(doc, s.manifest));
      container.append(this.#hardening(doc, s));
      container.append(this.#findings(doc, s));
      if (Array.isArray(s.processes)) container.append(processTable(doc, s, s.processes));
    }
    root.replaceChildren(container);
    // Reflect the state for page CSS and tests outside the shadow root.
    this.setAttribute('state', container.dataset.state ?? 'unknown');
  }

  #meta(doc: Document, s: Status): HTMLElement {
    const p = el(doc, 'p', 'meta');
    if (s.lastCheck !== null && typeof s.lastCheck === 'object') {
      p.append('Last check: ');
      const t = el(doc, 'time', undefined, str(s.lastCheck.at));
      t.setAttribute('datetime', str(s.lastCheck.at));
      p.append(t, `, took ${formatMs(s.lastCheck.durationMs)}`);
    } else {
      p.append('No check completed yet');
    }
    const cov = s.coverage;
    if (cov !== null && typeof cov === 'object' && typeof cov.regions === 'number') {
      p.append(` \u00B7 ${cov.regions} regions, ${(Number(cov.bytes) / 1048576).toFixed(1)} MiB covered`);
    }
    if (typeof s.heartbeatAgeMs === 'number') p.append(` \u00B7 heartbeat ${formatMs(s.heartbeatAgeMs)} ago`);
    if (typeof s.sequence === 'number') p.append(` \u00B7 snapshot #${s.sequence}`);
    return p;
  }

  /** The Guard's loops (Status.loops): a sentinel or watch loop that is off says why; unwatched code files. */
  #loops(doc: Document, s: Status): HTMLElement {
    const p = el(doc, 'p', 'loops');
    const l = (s as { loops?: unknown }).loops as Status['loops'] | undefined;
    if (!l || typeof l !== 'object') return p;
    const parts: string[] = [];
    for (const [name, v] of [['tamper sentinel', l.sentinel], ['kernel watch', l.kernel]] as const) {
      if (!v || typeof v !== 'object') continue;
      parts.push(v.state === 'running' ? `${name} on` : `${name} OFF${v.reason ? ` (${str(v.reason)})` : ''}`);
    }
    if (l.files && typeof l.files === 'object') {
      parts.push(`${Number(l.files.watched) || 0} code files watched${Number(l.files.unwatchedCount) > 0 ? `, ${Number(l.files.unwatchedCount)} not watched` : ''}`);
    }
    p.dataset.sentinel = str(l.sentinel?.state);
    p.dataset.kernel = str(l.kernel?.state);
    p.append(parts.join(' \u00B7 '));
    return p;
  }

  #hardening(doc: Document, s: Status): HTMLElement {
    const sec = el(doc, 'section', 'section hardening');
    sec.setAttribute('aria-label', 'Hardening');
    sec.append(el(doc, 'h3', undefined, 'Hardening'));
    const steps: HardenStep[] = s.hardening !== null && s.hardening !== undefined && Array.isArray(s.hardening.steps) ? s.hardening.steps : [];
    if (steps.length === 0) {
      sec.append(el(doc, 'p', 'empty', s.hardening === null ? 'harden() was not run' : 'No hardening steps'));
      return sec;
    }
    const ul = el(doc, 'ul', 'steps');
    for (const step of steps) {
      const li = el(doc, 'li', 'step');
      li.dataset.status = str(step.status);
      const verified = step.verified === true ? ', verified' : step.verified === false ? ', NOT verified' : '';
      li.append(el(doc, 'code', undefined, str(step.id)), `: ${str(step.status)}${verified}`);
      if (str(step.detail) !== '') li.append(` \u2014 ${str(step.detail)}`);
      ul.append(li);
    }
    sec.append(ul);
    const portals = portalsState(doc, s.hardening?.portals);
    if (portals !== null) sec.append(...portals);
    return sec;
  }

  #findings(doc: Document, s: Status): HTMLElement {
    const sec = el(doc, 'section', 'section findings-section');
    sec.setAttribute('aria-label', 'Open findings');
    const list: Finding[] = Array.isArray(s.findings) ? [...s.findings] : [];
    sec.append(el(doc, 'h3', undefined, `Open findings (${list.length})`));
    if (list.length === 0) {
      sec.append(el(doc, 'p', 'empty', 'None'));
      return sec;
    }
    list.sort((a, b) => (SEVERITY_RANK[str(b.severity)] ?? -1) - (SEVERITY_RANK[str(a.severity)] ?? -1));
    const ul = el(doc, 'ul', 'findings');
    for (const f of list) {
      const li = el(doc, 'li', 'finding');
      li.dataset.severity = str(f.severity);
      li.dataset.kind = str(f.kind);
      const title = el(doc, 'div', 'finding-title');
      title.append(el(doc, 'span', 'severity', str(f.severity) || 'unknown'), ` ${str(f.subsystem)} \u00B7 ${str(f.kind)}`);
      li.append(title);
      const where: string[] = [];
      if (str(f.path) !== '') where.push(str(f.path));
      const off = hexOffset(f.offset);
      if (off !== '') where.push(`offset ${off}`);
      if (str(f.address) !== '') where.push(`address ${str(f.address)}`);
      if (typeof f.page === 'number') where.push(`page ${f.page}`);
      if (where.length > 0) li.append(el(doc, 'div', 'finding-location', where.join(' \u00B7 ')));
      if (str(f.detail) !== '') li.append(el(doc, 'div', 'detail', str(f.detail)));
      if (str(f.firstSeen) !== '') {
        const d = el(doc, 'div', 'detail', 'First seen ');
        const t = el(doc, 'time', undefined, str(f.firstSeen));
        t.setAttribute('datetime', str(f.firstSeen));
        d.append(t);
        li.append(d);
      }
      ul.append(li);
    }
    sec.append(ul);
    return sec;
  }
}

/**
 * What harden() warned about, and a tracer that was attached before it ran (the report's
 * `tracerBefore`; hardening does not detach it, so it keeps full access): a section of its own,
 * shown only when there is something to say. Its heading names it for assistive technology; it is
 * not a live region, so a new snapshot does not announce it again.
 */
function hardeningAlerts(doc: Document, s: Status): HTMLElement | null {
  const h = s.hardening;
  if (h === null || typeof h !== 'object') return null;
  const tracer = h.tracerBefore !== null && typeof h.tracerBefore === 'object' && h.tracerBefore.state === 'attached' ? h.tracerBefore : null;
  // harden() also words the tracer as a warning ("a tracer/debugger ... was attached before
  // harden()", src/harden.ts); the tracer line says it already, so it is not listed twice.
  const warnings = Array.isArray(h.warnings)
    ? h.warnings.map(str).filter((w) => w !== '' && !(tracer !== null && w.startsWith('a tracer/debugger')))
    : [];
  if (tracer === null && warnings.length === 0) return null;
  const sec = el(doc, 'section', 'section hardening-alerts');
  const headingId = 'procguard-hardening-alerts';
  sec.setAttribute('aria-labelledby', headingId);
  const count = warnings.length + (tracer !== null ? 1 : 0);
  const heading = el(doc, 'h3', undefined, `Hardening warnings (${count})`);
  heading.id = headingId;
  sec.append(heading);
  if (tracer !== null) {
    const pid = typeof tracer.tracerPid === 'number' && Number.isSafeInteger(tracer.tracerPid) ? ` (pid ${tracer.tracerPid})` : '';
    const p = el(doc, 'p', 'tracer');
    p.dataset.state = 'attached';
    const icon = el(doc, 'span', undefined, '\u26A0 ');
    icon.setAttribute('aria-hidden', 'true');
    p.append(icon, `A tracer or debugger${pid} was attached before hardening. Hardening does not detach it: it keeps full access to this process.`);
    if (str(tracer.detail) !== '') p.append(el(doc, 'span', 'detail', ` (${str(tracer.detail)})`));
    sec.append(p);
  }
  if (warnings.length > 0) {
    const ul = el(doc, 'ul', 'warnings');
    for (const w of warnings) ul.append(el(doc, 'li', 'warning', w));
    sec.append(ul);
  }
  return sec;
}

const PORTAL_USES = 'file dialogs, screen sharing, settings';

/**
 * Desktop portals (Linux): what a portal call on a new D-Bus connection gets, measured
 * (hardening.portals.check, from checkPortals()) or, until then, expected from the prediction.
 * With portals 'allow' the protections that remain are listed under it.
 */
function portalsState(doc: Document, p: HardenPortals | undefined): HTMLElement[] | null {
  if (p === null || typeof p !== 'object' || p.prediction === null || typeof p.prediction !== 'object') return null;
  const line = el(doc, 'p', 'portals');
  const check = p.check !== null && typeof p.check === 'object' ? p.check : null;
  let state: string;
  let text: string;
  if (check !== null) {
    const when = str(check.at) !== '' ? ` (checked ${str(check.at)})` : '';
    const r = str(check.result);
    state = r === 'primed-connections-only' ? 'refused' : r === 'ok' ? 'ok' : r === 'none' ? 'none' : 'unknown';
    text =
      state === 'refused'
        ? `Desktop portals: REFUSED on new connections: ${PORTAL_USES} opened from now on fail${when}.`
        : state === 'ok'
          ? `Desktop portals: answered on a new connection${when}.`
          : state === 'none'
            ? `Desktop portals: none on the session bus${when}.`
            : `Desktop portals: could not check: ${str(check.detail)}${when}.`;
  } else {
    const e = str(p.expected);
    state = e === 'refused-new-connections' ? 'refused' : e === 'allowed' ? 'ok' : 'none';
    text =
      state === 'refused'
        ? `Desktop portals: expected to refuse new connections (${PORTAL_USES}); not checked.`
        : state === 'ok'
          ? 'Desktop portals: expected to work; not checked.'
          : `Desktop portals: none expected (${str(p.prediction.detail)}).`;
  }
  line.dataset.state = state;
  line.dataset.checked = check !== null ? 'yes' : 'no';
  line.dataset.mode = str(p.mode);
  line.append(text);
  if (str(p.mode) === 'allow') line.append(" The process stays dumpable (portals 'allow'); what still protects it:");
  const out: HTMLElement[] = [line];
  const protections = str(p.mode) === 'allow' && p.remaining !== null && typeof p.remaining === 'object' && Array.isArray(p.remaining.protections) ? p.remaining.protections : [];
  if (protections.length > 0) {
    const ul = el(doc, 'ul', 'protections');
    for (const x of protections) ul.append(el(doc, 'li', undefined, str(x)));
    out.push(ul);
  }
  return out;
}

/**
 * The process tree (Status.processes) as a compact table: type and label, pid, sandboxed yes/no
 * (from the kernel's view; "no (required)" when the policy requires it), and the open findings about
 * that process. A real <table> with a caption and column headers, so screen readers announce cells.
 */
function processTable(doc: Document, s: Status, procs: ProcessEntry[]): HTMLElement {
  const sec = el(doc, 'section', 'section processes-section');
  sec.setAttribute('aria-label', 'Processes');
  const table = el(doc, 'table', 'processes');
  table.append(el(doc, 'caption', undefined, `Processes (${procs.length})`));
  const head = el(doc, 'tr');
  for (const h of ['Type', 'PID', 'Sandboxed', 'Findings']) {
    const th = el(doc, 'th', undefined, h);
    th.setAttribute('scope', 'col');
    head.append(th);
  }
  const thead = el(doc, 'thead');
  thead.append(head);
  const tbody = el(doc, 'tbody');
  const findings: Finding[] = Array.isArray(s.findings) ? s.findings : [];
  for (const p of procs) {
    if (p === null || typeof p !== 'object') continue;
    const row = el(doc, 'tr', 'process');
    const sandboxed = p.sandboxed === true;
    row.dataset.sandboxed = sandboxed ? 'yes' : 'no';
    row.dataset.required = p.sandboxRequired === true ? 'yes' : 'no';
    row.dataset.type = str(p.type);
    const type = el(doc, 'th', undefined, str(p.type));
    type.setAttribute('scope', 'row');
    const label = str(p.label);
    if (label !== '' && label !== str(p.type)) type.append(el(doc, 'div', 'detail', label));
    const mine = findings.filter((f) => f.pid === p.pid);
    const kinds = [...new Set(mine.map((f) => str(f.kind)))];
    row.append(
      type,
      el(doc, 'td', undefined, str(p.pid)),
      el(doc, 'td', undefined, sandboxed ? 'yes' : p.sandboxRequired === true ? 'no (required)' : 'no'),
      el(doc, 'td', undefined, mine.length === 0 ? 'none' : `${mine.length}: ${kinds.join(', ')}`),
    );
    tbody.append(row);
  }
  table.append(thead, tbody);
  sec.append(table);
  return sec;
}

/** Registers <procguard-status> (idempotent). Runs on import when customElements exists. */
export function defineProcguardStatus(registry: CustomElementRegistry | undefined = (globalThis as { customElements?: CustomElementRegistry }).customElements): void {
  if (registry !== undefined && registry.get('procguard-status') === undefined) registry.define('procguard-status', ProcguardStatusElement);
}
defineProcguardStatus();

/**
 * Shows the live status in `element`: fetches the current snapshot and subscribes to new ones.
 * Ignores snapshots older than the one shown (a push can overtake the first reply).
 * Returns a function that unsubscribes.
 */
export function connect(element: ProcguardStatusElement, api: StatusApi | undefined): () => void {
  if (api === undefined || api === null || typeof api.getStatus !== 'function' || typeof api.onStatus !== 'function') {
    element.error = 'window.procguard is missing (is the procguard preload configured?)';
    return () => {};
  }
  let stopped = false;
  const show = (s: Status): void => {
    if (stopped) return;
    const cur = element.status;
    if (cur !== null && typeof cur.sequence === 'number' && typeof s.sequence === 'number' && s.sequence < cur.sequence) return;
    element.status = s;
  };
  const off = api.onStatus(show, (err: unknown) => {
    if (!stopped) element.error = err instanceof Error ? err.message : String(err);
  });
  api.getStatus().then(show, (err: unknown) => {
    if (!stopped) element.error = err instanceof Error ? err.message : String(err);
  });
  return () => {
    stopped = true;
    off();
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'procguard-status': ProcguardStatusElement;
  }
}

/** The signed manifest (Status.manifest): state, files checked, differences; an invalid one says why. */
function manifestLine(doc: Document, m: NonNullable<Status['manifest']>): HTMLElement {
  const p = el(doc, 'p', 'manifest');
  const state = str(m.state);
  p.dataset.manifest = state;
  const app = m.app !== null && typeof m.app === 'object' ? ` (${str(m.app.name)} ${str(m.app.version)})` : '';
  const counts = `${Number(m.filesChecked) || 0} of ${Number(m.filesListed) || 0} files checked, ${Number(m.differences) || 0} differences`;
  if (state === 'invalid') p.append(`Manifest INVALID: ${str(m.reason)}`);
  else if (state === 'verifying') p.append('Manifest: verifying');
  else p.append(`Manifest${app}: ${state === 'match' ? 'matches the vendor build' : 'DIFFERS from the vendor build'} \u00B7 ${counts}`);
  return p;
}
