// Every Electron API the glue uses (src/electron/api-surface.ts) exists in the pinned electron
// package's typings, parsed with the TypeScript compiler; private ones are not there (so they are
// named private for a reason). An upgrade that removes or renames one fails here, before it ships.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import ts from 'typescript';
import { ELECTRON_API_SURFACE, ELECTRON_TYPINGS_VERSION } from '../../dist/electron/api-surface.js';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '..', '..');

/** owner name -> { members: Set, statics: Set, events: Set } from `declare namespace Electron`. */
function readTypings(file) {
  const src = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const owners = new Map();
  const entry = (name) => {
    if (!owners.has(name)) owners.set(name, { members: new Set(), statics: new Set(), events: new Set() });
    return owners.get(name);
  };
  const visitOwner = (node) => {
    const e = entry(node.name.text);
    for (const m of node.members) {
      const name = m.name && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) ? m.name.text : undefined;
      if (name === undefined) continue;
      const isStatic = ts.canHaveModifiers(m) && (ts.getModifiers(m) ?? []).some((x) => x.kind === ts.SyntaxKind.StaticKeyword);
      (isStatic ? e.statics : e.members).add(name);
      // Events are on(event: 'name', ...) overloads.
      if (name === 'on' && (ts.isMethodDeclaration(m) || ts.isMethodSignature(m))) {
        const t = m.parameters[0]?.type;
        if (t && ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)) e.events.add(t.literal.text);
      }
    }
  };
  const walk = (node) => {
    if ((ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node)) && node.name) visitOwner(node);
    ts.forEachChild(node, walk);
  };
  walk(src);
  return owners;
}

test('api surface: the pinned electron typings are the version the list was checked against', () => {
  const pkg = JSON.parse(fs.readFileSync(require.resolve('electron/package.json'), 'utf8'));
  assert.equal(pkg.version, ELECTRON_TYPINGS_VERSION, `node_modules/electron is ${pkg.version}; re-check the API list (src/electron/api-surface.ts) and docs/electron.md, then update ELECTRON_TYPINGS_VERSION`);
  const devDep = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).devDependencies.electron;
  assert.equal(devDep, ELECTRON_TYPINGS_VERSION, 'package.json pins the electron version the list names');
});

test('api surface: every public Electron API the glue uses is in electron.d.ts; every private one is not', () => {
  const dts = path.join(path.dirname(require.resolve('electron/package.json')), 'electron.d.ts');
  assert.ok(fs.existsSync(dts), `the electron typings must be installed at ${dts} (devDependency electron)`);
  const owners = readTypings(dts);
  assert.ok(owners.size > 100, `parsed ${owners.size} classes/interfaces from electron.d.ts: the parser found too few`);
  const missing = [];
  for (const api of ELECTRON_API_SURFACE) {
    const o = owners.get(api.owner);
    const present = o !== undefined && (api.kind === 'event' ? o.events.has(api.member) : api.kind === 'static' ? o.statics.has(api.member) : o.members.has(api.member));
    if (api.visibility === 'public' && !present) missing.push(`${api.owner}.${api.member} (${api.kind}, used by ${api.usedBy})`);
    if (api.visibility === 'private') {
      assert.ok(!present, `${api.owner}.${api.member} is now in the public typings: mark it public in api-surface.ts and docs/electron.md`);
    }
  }
  assert.deepEqual(missing, [], `these Electron APIs the glue uses are not in electron ${ELECTRON_TYPINGS_VERSION}'s typings`);
  // The parser does see events and statics (so a pass above means something).
  assert.ok(owners.get('WebContents').events.has('did-frame-navigate') && owners.get('WebContents').statics.has('getAllWebContents'), 'parser sanity: a known event and static method are found');
  assert.ok(!owners.get('WebContents').events.has('did-frame-navigat'), 'parser sanity: a misspelt event is not found');
});

test('api surface: the list names each API once and has the private ones the glue reads', () => {
  const keys = ELECTRON_API_SURFACE.map((a) => `${a.owner}.${a.member}.${a.kind}`);
  assert.equal(new Set(keys).size, keys.length, `duplicates in the API list: ${keys.filter((k, i) => keys.indexOf(k) !== i)}`);
  assert.deepEqual(ELECTRON_API_SURFACE.filter((a) => a.visibility === 'private').map((a) => `${a.owner}.${a.member}`).sort(),
    ['WebContents._windowOpenHandler', 'WebContents.getLastWebPreferences'], 'the private APIs used');
  // docs/electron.md documents every entry of the list.
  const doc = fs.readFileSync(path.join(root, 'docs', 'electron.md'), 'utf8');
  const undocumented = ELECTRON_API_SURFACE.filter((a) => !doc.includes(`\`${a.owner}.${a.member}\``)).map((a) => `${a.owner}.${a.member}`);
  assert.deepEqual(undocumented, [], 'docs/electron.md names every Electron API the glue uses as `Owner.member`');
});
