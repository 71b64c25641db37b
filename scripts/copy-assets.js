#!/usr/bin/env node
// Copies non-TypeScript assets (CSS for the status element, if any) into dist/ and marks the CLI executable.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');
if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
