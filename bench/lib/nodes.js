'use strict';
// Which directories a benchmark runtime loads nodes from: this package (its package.json "node-red"
// section) and the peers it is measured against that are not part of Node-RED itself.
//
// node-red-node-email (the peer of the email benchmark) is installed on demand into .dev/peers/ rather
// than as a devDependency: its bundled dependencies (utf7 wants semver ~5.3.0 but the bundle carries
// 5.7.2) make `npm ci` refuse the lock file on a clean machine.
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const PEERS = path.join(ROOT, '.dev', 'peers');
const PEER_PACKAGES = { 'node-red-node-email': '5.2.5' };

function peerDir(name) {
  return path.join(PEERS, 'node_modules', name);
}

/** Installs the peer node modules that are missing (from the npm registry, once; .dev/ is git-ignored). */
function ensurePeers() {
  const missing = Object.entries(PEER_PACKAGES).filter(([name]) => !fs.existsSync(path.join(peerDir(name), 'package.json')));
  if (!missing.length) return;
  fs.mkdirSync(PEERS, { recursive: true });
  if (!fs.existsSync(path.join(PEERS, 'package.json'))) fs.writeFileSync(path.join(PEERS, 'package.json'), '{"private":true}\n');
  const specs = missing.map(([name, version]) => `${name}@${version}`);
  process.stderr.write(`bench: installing peers ${specs.join(', ')} into ${path.relative(ROOT, PEERS)}\n`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--omit=dev', ...specs], { cwd: PEERS, stdio: 'inherit' });
}

/** [ROOT] plus the installed peer modules. */
function nodesDirs() {
  return [
    ROOT,
    ...Object.keys(PEER_PACKAGES)
      .map(peerDir)
      .filter((d) => fs.existsSync(path.join(d, 'package.json'))),
  ];
}

module.exports = { ROOT, nodesDirs, ensurePeers };
