/** `procguard watch`: harden this process, start a Guard and print each status change live. */
import { harden } from '../harden';
import { Guard } from '../guard';
import type { Status } from '../types';

function line(s: Status): string {
  const f = s.findings.map((x) => `${x.severity}:${x.kind}${x.path ? `(${x.path}${x.offset !== undefined ? `+0x${x.offset.toString(16)}` : ''})` : ''}`);
  const last = s.lastCheck ? `${s.lastCheck.durationMs.toFixed(1)} ms` : '-';
  return `#${s.sequence} ${new Date().toISOString()} state=${s.state} severity=${s.severity ?? 'none'} ` +
    `covered=${(s.coverage.hashedBytes / 1048576).toFixed(1)}MiB last=${last} findings=${f.length}${f.length ? ' ' + f.join(' ') : ''}`;
}

export async function watch(opts: { periodMs: number; durationMs: number | null; json: boolean }, out: (s: string) => void): Promise<Status> {
  const guard = new Guard({ periodMs: opts.periodMs, keepAlive: true });
  guard.prepare(); // open the pagemap before hardening locks it away
  const report = harden();
  guard.setHardening(report);
  out(`hardened: ${report.steps.map((s) => `${s.id}=${s.status}`).join(' ')} verified=${report.verified}`);
  let lastState = '';
  guard.on('status', (s) => {
    const key = `${s.state}/${s.findings.length}/${s.lastCheck?.at}`;
    if (key === lastState) return;
    lastState = key;
    out(opts.json ? JSON.stringify(s) : line(s));
  });
  guard.on('finding', (f) => out(`finding ${f.severity} ${f.subsystem}/${f.kind}: ${f.detail}`));
  await guard.start();
  return new Promise((resolve) => {
    const finish = () => {
      guard.stop();
      resolve(guard.status());
    };
    if (opts.durationMs !== null) setTimeout(finish, opts.durationMs);
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
  });
}
