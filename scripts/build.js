#!/usr/bin/env node
// Builds what Node-RED loads: compiled JS under dist/, with each node's .html, locales/ and icons/
// beside it (dist/nodes/). Runs as `prepack` (npm pack, npm publish), and from `npm start` / `npm test`
// (scripts/ensure.js) when dist/ is missing or older than the sources.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

function copyDir(from, to, filter = () => true) {
  if (!fs.existsSync(from)) return;
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyDir(src, dst, filter);
    else if (filter(entry.name)) fs.copyFileSync(src, dst);
  }
}

function build() {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error('build: TypeScript compilation failed');
    process.exit(r.status || 1);
  }
  copyDir(path.join(root, 'nodes'), path.join(dist, 'nodes'), (n) => n.endsWith('.html') || n.endsWith('.json'));
  copyDir(path.join(root, 'icons'), path.join(dist, 'nodes', 'icons'), (n) => n.endsWith('.svg') || n.endsWith('.png'));
}

if (require.main === module) build();
module.exports = { build };
