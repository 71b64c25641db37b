// Every file the documentation names exists: relative Markdown links (with their #anchors) and repository
// paths in README.md and docs/*.md, and every Markdown document any file of the repository cites.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const docs = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
// Made by a build or a test run, never committed: named in the docs, absent from a fresh clone.
const GENERATED = /^(build|dist|prebuilds|test-artifacts|node_modules|\.cache|test\/native\/build)\//;
const TOP_DIRS = ['src', 'native', 'test', 'scripts', 'bench', 'docs', 'demo-app', '.ci'];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(file) {
  const seen = new Map();
  const out = new Set();
  let fenced = false;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (/^```/.test(line)) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** `a/{b,c}.h` -> a/b.h, a/c.h. */
function expandBraces(p) {
  const m = /\{([^{}]*)\}/.exec(p);
  if (!m) return [p];
  return m[1].split(',').flatMap((alt) => expandBraces(p.slice(0, m.index) + alt + p.slice(m.index + m[0].length)));
}

/** A repository path exists as named, or (for a stem such as `native/scanner/scanner_store`) with an extension. */
function repoPathExists(rel) {
  const p = path.join(root, rel.replace(/\/$/, ''));
  if (fs.existsSync(p)) return true;
  const dir = path.dirname(p);
  return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.startsWith(`${path.basename(p)}.`));
}

const stripCode = (text) => text.replace(/^```[\s\S]*?^```/gm, '');

test('relative links in README.md and docs/*.md point at files and headings that exist', () => {
  const broken = [];
  for (const doc of docs) {
    const text = stripCode(fs.readFileSync(path.join(root, doc), 'utf8'));
    for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/i.test(target)) continue; // http:, https:, mailto:
      const [file, anchor] = target.split('#');
      const abs = file ? path.resolve(path.dirname(path.join(root, doc)), decodeURIComponent(file)) : path.join(root, doc);
      if (!fs.existsSync(abs)) {
        broken.push(`${doc}: ${target} (no file ${path.relative(root, abs)})`);
        continue;
      }
      if (anchor && abs.endsWith('.md') && !anchorsOf(abs).has(anchor)) broken.push(`${doc}: ${target} (no heading #${anchor} in ${path.relative(root, abs)})`);
    }
  }
  assert.deepEqual(broken, [], `broken links:\n${broken.join('\n')}`);
});

test('repository paths named in README.md and docs/*.md exist', () => {
  const missing = [];
  const dirs = TOP_DIRS.map((d) => d.replace('.', '\\.')).join('|');
  const pathRe = new RegExp(`(?<![\\w./@-])(?:${dirs})/[\\w.*{},/<>-]*[\\w*}/>]`, 'g');
  for (const doc of docs) {
    const text = fs.readFileSync(path.join(root, doc), 'utf8');
    for (const [named] of text.matchAll(pathRe)) {
      if (GENERATED.test(named)) continue;
      // `<os>` is a placeholder, like a glob.
      for (const one of expandBraces(named.replace(/<[^<>]*>/g, '*'))) {
        // A glob names a folder's files: the folder must exist.
        const rel = one.includes('*') ? one.slice(0, one.indexOf('*')).replace(/[^/]*$/, '') : one;
        if (!repoPathExists(rel)) missing.push(`${doc}: ${named}`);
      }
    }
  }
  assert.deepEqual([...new Set(missing)], [], `paths named in the docs that are not in the repository:\n${[...new Set(missing)].join('\n')}`);
});

test('no file of the repository cites a Markdown document that is not in the repository', () => {
  const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\n');
  const sources = tracked.filter((f) => /\.(md|ts|mts|cc|h|inc|c|mjs|js|sh|gyp)$/.test(f) && !f.startsWith('test/fixtures/'));
  const missing = [];
  for (const f of sources) {
    const abs = path.join(root, f);
    if (!fs.existsSync(abs)) continue; // deleted in the working tree
    for (const [name] of fs.readFileSync(abs, 'utf8').matchAll(/(?<![\w./:-])[\w./-]*[\w-]\.md\b/g)) {
      if (name.startsWith('http') || /node_modules/.test(name)) continue;
      const candidates = [path.join(root, name), path.resolve(path.dirname(abs), name), path.join(root, 'docs', name)];
      if (!candidates.some((c) => fs.existsSync(c))) missing.push(`${f}: ${name}`);
    }
  }
  assert.deepEqual(missing, [], `documents cited but not in the repository:\n${missing.join('\n')}`);
});
