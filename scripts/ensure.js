'use strict';
// Makes a fresh clone usable: installs dependencies when node_modules is missing or older than
// package-lock.json, and builds dist/ when it is missing or older than the sources. Says what it does,
// so the first `npm start` on a fresh clone is not a minute and a half of silence.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');

function newestMtime(p) {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of fs.readdirSync(p)) m = Math.max(m, newestMtime(path.join(p, e)));
  return m;
}

function step(text) {
  console.log(`[setup] ${text}`);
}

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function run(cmd, args) {
  console.log(`> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status || 1);
}

function ensureReady() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (!fs.existsSync(marker) || (fs.existsSync(lock) && fs.statSync(lock).mtimeMs > fs.statSync(marker).mtimeMs + 1000)) {
    const since = Date.now();
    step(`installing dependencies (${fs.existsSync(marker) ? 'package-lock.json changed' : 'first run'}; about a minute on a fresh clone)`);
    step('an "EBADENGINE" warning about node-red@5 is expected on Node 20: it is the Node-RED 5 of `npm run test:nr5`, which runs it under Node 22');
    run('npm', [fs.existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund']);
    step(`dependencies installed in ${seconds(since)}`);
  }
  const built = newestMtime(path.join(root, 'dist'));
  const sources = Math.max(
    newestMtime(path.join(root, 'src')),
    newestMtime(path.join(root, 'nodes')),
    newestMtime(path.join(root, 'icons')),
    newestMtime(path.join(root, 'tsconfig.json')),
  );
  if (!built || sources > built) {
    const since = Date.now();
    step(built ? 'sources changed: building dist/ (TypeScript and the editor files)' : 'building dist/ (TypeScript and the editor files)');
    require('./build').build();
    step(`built in ${seconds(since)}`);
  }
}

module.exports = { ensureReady };
