#!/usr/bin/env node
// The package's install script: node-gyp-build (uses prebuilds/<platform>-<arch> when one matches,
// else compiles with node-gyp). When compiling, the headers of the running Node are used if it ships
// them (Debian's nodejs, the official tarballs: <prefix>/include/node), so nothing is downloaded.
'use strict';
const { spawnSync } = require('node:child_process');

const { localNodedir } = require('./node-gyp-local');

const env = { ...process.env };
const nodedir = localNodedir();
if (!env.npm_config_nodedir && nodedir) env.npm_config_nodedir = nodedir;
const r = spawnSync(process.execPath, [require.resolve('node-gyp-build/bin.js')], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
