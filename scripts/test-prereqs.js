#!/usr/bin/env node
// First step of `npm test`: make sure the machine has what the suites need, before anything runs.
// - Debian/Ubuntu as root: apt-get installs whatever is missing of the packages .ci/run installs
//   (chromium for the renderer tests, b3sum for the bench reference, mingw-w64 for the Windows
//   compile check, util-linux for setpriv, g++/make/python3 for the test addons, xdg-desktop-portal and
//   dbus-daemon for the desktop-portal tests).
// - Elsewhere: the renderer tests need a Chromium (scripts/find-browser.js: Playwright's own or a
//   system Chrome/Chromium). Without one this stops with one message naming the one command to run;
//   the other tools are optional (their tests skip, the bench prints null).
// PROCGUARD_NO_INSTALL=1 checks only. Tool lookups use PATH, so a PATH that hides a tool shows this path.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const { findBrowser, onPath } = require('./find-browser');

/** What the suites use: how to see it is there, and the Debian package that brings it. */
const NEEDS = [
  { what: 'a Chromium for the renderer tests', found: () => findBrowser() !== null, apt: ['chromium'], required: true },
  { what: 'b3sum (bench reference)', found: () => onPath(['b3sum']) !== null, apt: ['b3sum'] },
  { what: 'mingw-w64 (Windows compile check)', found: () => onPath(['x86_64-w64-mingw32-g++']) !== null, apt: ['g++-mingw-w64-x86-64-posix'] },
  { what: 'osslsigncode + openssl (manifest: Authenticode signing survival)', found: () => onPath(['osslsigncode']) !== null && onPath(['openssl']) !== null, apt: ['osslsigncode', 'openssl'] },
  { what: 'lld + llvm-mc (manifest: a Mach-O linked and ad-hoc signed)', found: () => onPath(['ld64.lld', 'ld64.lld-14']) !== null && onPath(['llvm-mc']) !== null, apt: ['lld', 'llvm'] },
  { what: 'setpriv (unprivileged-uid tests)', found: () => onPath(['setpriv']) !== null, apt: ['util-linux'] },
  {
    what: 'xdg-desktop-portal and dbus-daemon (desktop-portal tests)',
    found: () => ['/usr/libexec/xdg-desktop-portal', '/usr/lib/xdg-desktop-portal'].some((p) => fs.existsSync(p)) && onPath(['dbus-daemon']) !== null,
    apt: ['xdg-desktop-portal', 'dbus-daemon'],
    linuxOnly: true,
  },
  { what: 'a C++ toolchain for the test addons', found: () => ['g++', 'make', 'python3'].every((t) => onPath([t]) !== null), apt: ['g++', 'make', 'python3'], linuxOnly: true },
];

function isDebianRoot() {
  return process.platform === 'linux' && process.getuid?.() === 0 && fs.existsSync('/etc/debian_version') && onPath(['apt-get']) !== null;
}

function aptInstall(pkgs) {
  console.log(`test-prereqs: apt-get install ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
  // `update` first: a fresh image has no package lists, and stale ones point at removed versions.
  return run(['update', '-qq']) && run(['install', '-y', '-qq', '--no-install-recommends', ...pkgs]);
}

function oneCommand() {
  if (process.platform === 'linux' && fs.existsSync('/etc/debian_version')) return `${process.getuid?.() === 0 ? '' : 'sudo '}apt-get install -y chromium`;
  return 'npx playwright install chromium';
}

function main() {
  const relevant = NEEDS.filter((n) => !n.linuxOnly || process.platform === 'linux');
  let missing = relevant.filter((n) => !n.found());
  if (missing.length > 0 && isDebianRoot() && !process.env.PROCGUARD_NO_INSTALL) {
    if (!aptInstall(missing.flatMap((n) => n.apt))) console.error('test-prereqs: apt-get install failed (see above)');
    missing = missing.filter((n) => !n.found());
  }
  for (const n of missing.filter((m) => !m.required)) console.log(`test-prereqs: ${n.what} not found (Debian: ${n.apt.join(' ')})`);
  if (missing.some((n) => n.required)) {
    console.error(
      `npm test: no Chromium found for the renderer tests (looked at $PROCGUARD_BROWSER, Playwright's own, and chromium/google-chrome on PATH).\n` +
        `Run: ${oneCommand()}\n` +
        `then npm test again (or set PROCGUARD_BROWSER=/path/to/chrome).`,
    );
    return 1;
  }
  const b = findBrowser();
  console.log(`test-prereqs: ok (browser: ${b.executablePath}, ${b.source})`);
  return 0;
}

process.exit(main());
