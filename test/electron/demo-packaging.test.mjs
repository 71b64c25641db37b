// demo-app's electron-builder config points only at files that exist, and its macOS entitlements
// are the minimal hardened-runtime set (allow-jit only), parsed as a property list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const demo = path.resolve(import.meta.dirname, '..', '..', 'demo-app');

/** The <dict> of an XML property list as { key: value } for true/false/string values; throws on anything else. */
function plistDict(xml) {
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\s*<!DOCTYPE plist PUBLIC "-\/\/Apple\/\/DTD PLIST 1\.0\/\/EN"/, 'an XML plist with Apple\'s DOCTYPE');
  const body = xml.replace(/<!--[\s\S]*?-->/g, '');
  const dict = /<plist version="1\.0">\s*<dict>([\s\S]*)<\/dict>\s*<\/plist>\s*$/.exec(body);
  assert.ok(dict, 'one top-level <dict> in <plist version="1.0">');
  const out = {};
  const re = /\s*<key>([^<]+)<\/key>\s*(<true\/>|<false\/>|<string>([^<]*)<\/string>)/y;
  let m;
  let end = 0;
  while ((m = re.exec(dict[1])) !== null) {
    out[m[1]] = m[2] === '<true/>' ? true : m[2] === '<false/>' ? false : m[3];
    end = re.lastIndex;
  }
  assert.equal(dict[1].slice(end).trim(), '', 'nothing but key/value pairs in the dict');
  return out;
}

test('demo packaging: the entitlements file electron-builder is pointed at exists and grants only allow-jit', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(demo, 'package.json'), 'utf8'));
  const mac = pkg.build.mac;
  assert.equal(mac.hardenedRuntime, true, 'hardened runtime on');
  for (const key of ['entitlements', 'entitlementsInherit']) {
    const file = path.join(demo, mac[key]);
    assert.ok(fs.existsSync(file), `build.mac.${key} points at ${mac[key]}, which must exist`);
    assert.deepEqual(plistDict(fs.readFileSync(file, 'utf8')), { 'com.apple.security.cs.allow-jit': true }, `${mac[key]}: only com.apple.security.cs.allow-jit`);
  }
  assert.equal(pkg.build.directories.buildResources, 'build', 'buildResources is the build/ directory the entitlements live in');
});
