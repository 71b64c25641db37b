'use strict';
// Where node-gyp and the Node headers are on this machine, so no build step downloads anything.
// Shared by the package's install script, the prebuild and the test-only native build.
const fs = require('node:fs');
const path = require('node:path');

/** Headers of the running Node when it ships them (Debian's nodejs, the official tarballs): no download. */
function localNodedir() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node.h')) ? prefix : null;
}

/** node-gyp: the one npm runs scripts with, else npm's bundled copy next to this node, else a local one. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not installed locally */
  }
  return candidates.find((p) => p && fs.existsSync(p));
}

module.exports = { localNodedir, nodeGyp };
