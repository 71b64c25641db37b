// The one place the tests find a Chromium for Playwright (test/electron/status-element.test.mjs and
// scripts/test-prereqs.js use it). Order: $PROCGUARD_BROWSER, Playwright's own Chromium when it was
// downloaded (`npx playwright install chromium`), then a system Chromium/Chrome on PATH or in its
// usual place. Returns { executablePath, source } or null.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function isExecutable(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** First `names` entry found on `pathEnv` (process.env.PATH by default), like `command -v`. */
function onPath(names, pathEnv = process.env.PATH ?? '') {
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE').split(';') : [''];
  for (const dir of pathEnv.split(path.delimiter).filter(Boolean)) {
    for (const n of names) for (const e of exts) if (isExecutable(path.join(dir, n + e))) return path.join(dir, n + e);
  }
  return null;
}

function playwrightChromium() {
  try {
    const p = require('playwright').chromium.executablePath();
    return p && isExecutable(p) ? p : null;
  } catch {
    return null; // playwright not installed, or no browser registry entry for this platform
  }
}

const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];
const SYSTEM_PLACES = {
  darwin: ['/Applications/Chromium.app/Contents/MacOS/Chromium', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'],
  win32: [
    path.join(process.env.PROGRAMFILES ?? 'C:\\Program Files', 'Google', 'Chrome', 'Application', 'chrome.exe'),
    path.join(process.env.LOCALAPPDATA ?? '', 'Chromium', 'Application', 'chrome.exe'),
  ],
};

/**
 * @param {{ env?: NodeJS.ProcessEnv }} [opts] env to read PROCGUARD_BROWSER and PATH from (tests of
 *   this lookup pass a PATH that hides the system browser).
 */
function findBrowser({ env = process.env } = {}) {
  if (env.PROCGUARD_BROWSER) {
    return isExecutable(env.PROCGUARD_BROWSER) ? { executablePath: env.PROCGUARD_BROWSER, source: 'PROCGUARD_BROWSER' } : null;
  }
  const own = playwrightChromium();
  if (own) return { executablePath: own, source: 'playwright' };
  const sys = onPath(SYSTEM_NAMES, env.PATH ?? '') ?? (SYSTEM_PLACES[process.platform] ?? []).find(isExecutable);
  return sys ? { executablePath: sys, source: 'system' } : null;
}

module.exports = { findBrowser, onPath };
