// A Windows child's command line (one string from its PEB) split as CommandLineToArgvW splits it
// (src/tree/cmdline.ts windowsArgv), so that a quoted flag is classified as the flag it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { windowsArgv, classifyCmdline } = require(path.join(root, 'dist', 'tree', 'cmdline.js'));

test("windowsArgv follows CommandLineToArgvW's quoting and backslash rules", () => {
  const cases = [
    ['"C:\\Program Files\\My App\\My App.exe" --type=renderer', ['C:\\Program Files\\My App\\My App.exe', '--type=renderer']],
    ['app.exe "--type=gpu-process"  --x', ['app.exe', '--type=gpu-process', '--x']],
    ['app.exe a\\\\\\"b c', ['app.exe', 'a\\"b', 'c']], // 3 backslashes + quote: 1 backslash, a literal quote
    ['app.exe "a\\\\" b', ['app.exe', 'a\\', 'b']], // 2 backslashes + quote: 1 backslash, the quote closes
    ['app.exe a\\b\\c', ['app.exe', 'a\\b\\c']], // backslashes not before a quote are literal
    ['app.exe "a ""quoted"" word"', ['app.exe', 'a "quoted" word']], // "" inside quotes: a literal quote
    ['"C:\\a\\"b', ['C:\\a\\', 'b']], // the program name takes no escapes
    ['app.exe\t--no-sandbox\t', ['app.exe', '--no-sandbox']],
    ['', ['']],
  ];
  for (const [line, want] of cases) assert.deepEqual(windowsArgv(line), want, `windowsArgv(${JSON.stringify(line)})`);
  assert.throws(() => windowsArgv(null), TypeError, 'a non-string is a TypeError');
});

test('a quoted --type or --no-sandbox on a Windows command line is classified as the flag', () => {
  const kind = classifyCmdline(windowsArgv('"C:\\My App\\My App.exe" "--type=renderer" "--no-sandbox" --lang=en-US').join('\0'), false);
  assert.equal(kind.type, 'renderer', 'the quoted --type=renderer names a renderer');
  assert.equal(kind.noSandboxFlag, true, 'a quoted --no-sandbox is still --no-sandbox');
  const unquoted = classifyCmdline('"C:\\My App\\My App.exe" "--type=renderer"', false);
  assert.equal(unquoted.type, 'other', 'the raw string (not split) misses it: the split is what finds it');
});
