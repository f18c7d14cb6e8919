'use strict';
// The offline scorecard passes on a well-formed package and fails, naming the check, on broken copies.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { lint } = require('../../scripts/lint-package');
const { ROOT, tmpDir } = require('../helpers/nr');

const HTML = (type, extra = '') => `<script type="text/html" data-template-name="${type}"></script>
<script type="text/javascript">
  RED.nodes.registerType('${type}', { category: '${extra || 'notifiers'}', color: '#C7B8E0', defaults: { name: { value: '' } }, inputs: 1, outputs: 1, icon: 'font-awesome/fa-bell' });
</script>`;

function fixture(mutate = {}) {
  const dir = tmpDir('pn-lint-');
  const pkg = {
    name: '@acme/node-red-x',
    version: '1.0.0',
    license: 'Apache-2.0',
    repository: { type: 'git', url: 'https://example.invalid/x.git' },
    keywords: ['node-red'],
    engines: { node: '>=20' },
    dependencies: { a: '1', b: '1' },
    'node-red': { version: '>=4.0.0', nodes: { 'x-one': 'dist/nodes/x-one.js', 'x-conf': 'dist/nodes/x-conf.js' } },
  };
  (mutate.pkg ?? (() => {}))(pkg);
  fs.mkdirSync(path.join(dir, 'dist', 'nodes'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'examples'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
  for (const t of ['x-one', 'x-conf']) fs.writeFileSync(path.join(dir, 'dist', 'nodes', `${t}.js`), 'module.exports = function () {};');
  fs.writeFileSync(path.join(dir, 'dist', 'nodes', 'x-one.html'), mutate.html ?? HTML('x-one'));
  fs.writeFileSync(path.join(dir, 'dist', 'nodes', 'x-conf.html'), HTML('x-conf', 'config'));
  fs.writeFileSync(path.join(dir, 'examples', 'Example.json'), mutate.example ?? JSON.stringify([{ id: '1', type: 'x-one' }]));
  return dir;
}

function failed(dir) {
  return lint(dir)
    .filter((r) => !r.ok)
    .map((r) => r.id);
}

test('a well-formed package passes every check (config nodes need no example)', () => {
  assert.deepEqual(failed(fixture()), []);
});

test('each check fails on a copy broken for it', () => {
  const cases = [
    ['P01', { pkg: (p) => delete p.license }],
    ['P03', { pkg: (p) => delete p.repository }],
    ['P04', { pkg: (p) => (p.name = 'node-red-x') }],
    ['P05', { pkg: (p) => (p.keywords = ['notifications']) }],
    ['P06', { pkg: (p) => (p['node-red'].version = '^4.0.0') }],
    ['P07', { pkg: (p) => (p.engines.node = '^20') }],
    ['N01', { html: '<script type="text/javascript">RED.nodes.registerType(TYPE, Definition);</script>' }],
    ['N01', { pkg: (p) => (p['node-red'].nodes['x-missing'] = 'dist/nodes/x-missing.js') }],
    ['N02', { example: JSON.stringify([{ id: '1', type: 'inject' }]) }],
    ['N02', { example: '{"not": "an array"}' }],
    ['D01', { pkg: (p) => (p.dependencies = Object.fromEntries('abcdefg'.split('').map((c) => [c, '1']))) }],
  ];
  for (const [id, mutate] of cases) {
    assert.deepEqual(failed(fixture(mutate)), [id], `broken for ${id}`);
  }
});

test('the node types of this package are read from its built .html files', () => {
  const results = lint(ROOT);
  const n01 = results.find((r) => r.id === 'N01');
  assert.equal(n01.ok, true, n01.detail);
});
