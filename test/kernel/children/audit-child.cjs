// Prints auditLaunch() of this process as one JSON line. argv: <distDir> <expected JSON> [app args...]
// An app arg 'open-inspector' opens the inspector at run time first.
'use strict';
const path = require('node:path');
const { auditLaunch } = require(path.join(process.argv[2], 'launch', 'audit.js'));
const expected = JSON.parse(process.argv[3]);
if (process.argv.includes('open-inspector')) require('node:inspector').open(0, '127.0.0.1');
process.stdout.write(JSON.stringify({ observations: auditLaunch({ expected }) }) + '\n');
const inspector = require('node:inspector');
if (inspector.url()) inspector.close();
