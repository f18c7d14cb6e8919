'use strict';
// Which directories a benchmark or reliability runtime loads nodes from: the package itself (its
// package.json "node-red" section) plus, for node types that are compiled under dist/nodes/ but not
// (yet) declared in package.json, a small generated module that loads them from dist/. Node-RED would
// refuse a type registered twice, so only the undeclared ones are added.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

/** Node types compiled under dist/nodes (one file per type). */
function compiledTypes() {
  const dir = path.join(ROOT, 'dist', 'nodes');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /^notifier-[a-z-]+\.js$/.test(f))
    .map((f) => f.replace(/\.js$/, ''));
}

function declaredTypes() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  return Object.keys((pkg['node-red'] && pkg['node-red'].nodes) || {});
}

let shimDir;
/** [ROOT] plus, when needed, a generated module for the undeclared compiled types. */
function nodesDirs() {
  const declared = new Set(declaredTypes());
  const missing = compiledTypes().filter((t) => !declared.has(t));
  if (!missing.length) return [ROOT];
  if (!shimDir) {
    shimDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pn-shim-'));
    const nodes = {};
    // config nodes first (notifier-smtp), so that nodes using them find the type
    missing.sort((a, b) => (a === 'notifier-smtp' ? -1 : b === 'notifier-smtp' ? 1 : a.localeCompare(b)));
    for (const type of missing) {
      const target = path.join(ROOT, 'dist', 'nodes', `${type}.js`);
      fs.writeFileSync(
        path.join(shimDir, `${type}.js`),
        `'use strict';\nconst m = require(${JSON.stringify(target)});\nmodule.exports = m.default || m;\n`,
      );
      nodes[type] = `${type}.js`;
    }
    fs.writeFileSync(path.join(shimDir, 'package.json'), JSON.stringify({ name: 'pn-bench-undeclared-nodes', version: '0.0.0', 'node-red': { nodes } }));
  }
  return [ROOT, shimDir];
}

module.exports = { ROOT, nodesDirs, compiledTypes, declaredTypes };
