// Lets a Node process started with --inspect-brk or --inspect-wait run: connects to its inspector
// (argv[2], the ws:// URL), asks it to run, resumes the first pause, then disconnects.
// Needs a global WebSocket (Node 22+, or Node 20 with --experimental-websocket).
'use strict';
const ws = new WebSocket(process.argv[2]);
let id = 0;
const send = (method) => ws.send(JSON.stringify({ id: ++id, method }));
const timer = setTimeout(() => {
  process.stderr.write('inspector-release: no pause or run within 20 s\n');
  process.exit(2);
}, 20000);
ws.onopen = () => {
  send('Debugger.enable');
  send('Runtime.runIfWaitingForDebugger');
};
ws.onmessage = (ev) => {
  const m = JSON.parse(String(ev.data));
  if (m.method === 'Debugger.paused') {
    send('Debugger.resume');
    // Resumed: leave (the target's own code closes the inspector when done).
    setTimeout(() => { clearTimeout(timer); ws.close(); }, 100);
  }
  // --inspect-wait does not pause: once the target runs, the job is done.
  if (m.id === 2 && process.argv[3] === 'no-pause') setTimeout(() => { clearTimeout(timer); ws.close(); }, 100);
};
ws.onerror = (e) => {
  process.stderr.write(`inspector-release: ${e.message ?? 'socket error'}\n`);
  process.exit(2);
};
