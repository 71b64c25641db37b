// procguard/renderer must be loadable by a browser as is: an ES module with no imports at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const file = fileURLToPath(new URL('../../dist/electron/renderer/status-element.mjs', import.meta.url));

test('renderer module: the emitted .mjs has no import or require at all', () => {
  const src = fs.readFileSync(file, 'utf8');
  const noComments = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  assert.doesNotMatch(noComments, /^\s*import[\s{*'"]/m, 'static import statement found');
  assert.doesNotMatch(noComments, /\bimport\s*\(/, 'dynamic import found');
  assert.doesNotMatch(noComments, /^\s*export\s[^;]*\bfrom\s*['"]/m, 're-export from another module found');
  assert.doesNotMatch(noComments, /\brequire\s*\(/, 'require call found');
});

test('renderer module: package exports map procguard/renderer to it, and it imports under Node without a DOM', async () => {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(pkg.exports['./renderer'].default, './dist/electron/renderer/status-element.mjs', 'exports ./renderer');
  assert.ok(fs.existsSync(fileURLToPath(new URL(`../../${pkg.exports['./renderer'].types}`, import.meta.url))), 'the types path exists');
  const mod = await import(file);
  assert.equal(typeof mod.connect, 'function', 'connect exported');
  assert.equal(typeof mod.ProcguardStatusElement, 'function', 'element class exported');
  assert.equal(mod.hexOffset(0x2a40), '0x2a40', 'hexOffset formats');
  assert.equal(mod.hexOffset(-1), '', 'hexOffset rejects negatives');
  assert.equal(mod.hexOffset('12'), '', 'hexOffset rejects strings');
});
