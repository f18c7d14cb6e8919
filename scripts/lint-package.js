#!/usr/bin/env node
// `npm run lint:package`: the checks of `node-red-dev validate` (the Flow Library scorecard) that can run
// without the network, on the built package. Fails (exit 1) on any miss.
//   P01 license · P03 repository or bugs · P04 scoped name · P05 `node-red` keyword ·
//   P06 Node-RED version range admits 4.x and 5.x · P07 Node.js range admits Node-RED 5's minimum and Node 20 ·
//   N01 node types parsed from the literal RED.nodes.registerType in each .html, matching package.json ·
//   N02 an example for every non-config node · D01 at most 6 dependencies.
// Usage: node scripts/lint-package.js [--dir <package dir>] [--json]
'use strict';
const fs = require('node:fs');
const path = require('node:path');

// Versions the scorecard compares against (npm dist-tags of node-red when this was written):
// `latest` and the 4.x maintenance line. Update when Node-RED releases.
const NODE_RED_VERSIONS = ['4.1.15', '5.0.7'];
const NODE_RED_LATEST_ENGINES = '>=22.9';

function parseTypes(htmlPath) {
  const acorn = require('acorn');
  const html = fs.readFileSync(htmlPath, 'utf8');
  const found = [];
  const errors = [];
  const re = /<script[^>]*type=["']text\/javascript["'][^>]*>([\s\S]*?)<\/script>/gi;
  let m;
  while ((m = re.exec(html))) {
    let ast;
    try {
      ast = acorn.parse(m[1], { ecmaVersion: 'latest', sourceType: 'script' });
    } catch (err) {
      errors.push(`cannot parse a script in ${path.basename(htmlPath)}: ${err.message}`);
      continue;
    }
    walk(ast, (node) => {
      if (
        node.type === 'CallExpression' &&
        node.callee.type === 'MemberExpression' &&
        node.callee.property.name === 'registerType' &&
        node.callee.object.type === 'MemberExpression' &&
        node.callee.object.property.name === 'nodes' &&
        node.callee.object.object.name === 'RED'
      ) {
        const [name, def] = node.arguments;
        if (!name || name.type !== 'Literal' || typeof name.value !== 'string') {
          errors.push(`${path.basename(htmlPath)}: registerType's first argument must be a string literal`);
          return;
        }
        if (!def || def.type !== 'ObjectExpression') {
          errors.push(`${path.basename(htmlPath)}: registerType('${name.value}', …) must be given an object literal`);
          return;
        }
        const props = {};
        for (const p of def.properties) {
          const key = p.key && (p.key.name ?? p.key.value);
          if (key && p.value.type === 'Literal') props[key] = p.value.value;
          else if (key) props[key] = { nonLiteral: p.value.type };
        }
        found.push({ type: name.value, props });
      }
    });
  }
  return { found, errors };
}

function walk(node, fn) {
  if (!node || typeof node.type !== 'string') return;
  fn(node);
  for (const key of Object.keys(node)) {
    const v = node[key];
    if (Array.isArray(v)) v.forEach((c) => walk(c, fn));
    else if (v && typeof v.type === 'string') walk(v, fn);
  }
}

function listJson(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listJson(p) : e.name.endsWith('.json') ? [p] : [];
  });
}

function lint(dir) {
  const semver = require('semver');
  const results = [];
  const check = (id, name, ok, detail) => results.push({ id, name, ok: !!ok, detail });
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));

  check('P01', 'license', typeof pkg.license === 'string' && pkg.license.trim(), 'package.json needs a "license"');
  check('P03', 'repository or bugs', pkg.repository || pkg.bugs, 'package.json needs "repository" or "bugs"');
  const scoped = /^@[a-z0-9-~][a-z0-9-._~]*\/[a-z0-9-~][a-z0-9-._~]*$/.test(pkg.name ?? '');
  const legacyOk = !/^node-?red/.test(pkg.name ?? '') || /^node-red-contrib-/.test(pkg.name ?? '');
  check('P04', 'scoped name', scoped || (legacyOk && pkg.name), `name "${pkg.name}" must be scoped (@scope/name)`);
  check('P05', 'node-red keyword', Array.isArray(pkg.keywords) && pkg.keywords.includes('node-red'), 'keywords must include "node-red"');
  const nrRange = pkg['node-red']?.version;
  const admits = NODE_RED_VERSIONS.filter((v) => nrRange && semver.satisfies(v, nrRange));
  check(
    'P06',
    'Node-RED version range',
    nrRange && admits.length === NODE_RED_VERSIONS.length,
    `node-red.version "${nrRange}" must admit ${NODE_RED_VERSIONS.join(' and ')}`,
  );
  const nodeRange = pkg.engines?.node;
  const minNode = semver.minVersion(NODE_RED_LATEST_ENGINES).version;
  check(
    'P07',
    'Node.js range',
    nodeRange && semver.satisfies(minNode, nodeRange) && semver.satisfies('20.19.0', nodeRange),
    `engines.node "${nodeRange}" must admit ${minNode} (Node-RED 5's minimum) and 20.x`,
  );

  const nodes = pkg['node-red']?.nodes ?? {};
  const types = [];
  const parseErrors = [];
  const missing = [];
  for (const [set, js] of Object.entries(nodes)) {
    const jsPath = path.join(dir, js);
    const htmlPath = jsPath.replace(/\.c?js$/, '.html');
    if (!fs.existsSync(jsPath)) missing.push(`${set}: ${js} is missing (run the build)`);
    if (!fs.existsSync(htmlPath)) {
      missing.push(`${set}: ${path.relative(dir, htmlPath)} is missing`);
      continue;
    }
    const { found, errors } = parseTypes(htmlPath);
    parseErrors.push(...errors);
    if (!found.length) parseErrors.push(`${path.relative(dir, htmlPath)}: no literal RED.nodes.registerType('type', { … })`);
    for (const f of found) {
      types.push(f);
      for (const key of ['category', 'color', 'icon']) {
        if (f.props[key] !== undefined && typeof f.props[key] === 'object') {
          parseErrors.push(`${f.type}: "${key}" must be a literal for the Flow Library`);
        }
      }
      if (
        f.props.icon &&
        typeof f.props.icon === 'string' &&
        !f.props.icon.includes('/') &&
        !fs.existsSync(path.join(path.dirname(htmlPath), 'icons', f.props.icon))
      ) {
        if (/^notifier-/.test(f.props.icon))
          parseErrors.push(`${f.type}: icon ${f.props.icon} is not in ${path.relative(dir, path.dirname(htmlPath))}/icons`);
      }
    }
  }
  const typeNames = types.map((t) => t.type);
  const unlisted = Object.keys(nodes).filter((set) => !typeNames.includes(set));
  check(
    'N01',
    'node types parsed from registerType',
    types.length && !parseErrors.length && !missing.length && !unlisted.length,
    [...missing, ...parseErrors, ...unlisted.map((u) => `package.json lists ${u} but no .html registers that type`)].join('; ') ||
      'no node types found',
  );

  const exampleTypes = new Set();
  const exampleErrors = [];
  for (const file of listJson(path.join(dir, 'examples'))) {
    try {
      const flow = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (!Array.isArray(flow)) throw new Error('not a flat JSON array of nodes');
      flow.forEach((n) => exampleTypes.add(n.type));
    } catch (err) {
      exampleErrors.push(`${path.relative(dir, file)}: ${err.message}`);
    }
  }
  const uncovered = types.filter((t) => t.props.category !== 'config' && !exampleTypes.has(t.type)).map((t) => t.type);
  check(
    'N02',
    'an example for every node',
    types.length && !uncovered.length && !exampleErrors.length,
    [...exampleErrors, ...uncovered.map((t) => `no example uses ${t}`)].join('; '),
  );

  const deps = Object.keys(pkg.dependencies ?? {});
  check('D01', 'at most 6 dependencies', deps.length <= 6, `${deps.length} dependencies: ${deps.join(', ')}`);
  return results;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--dir');
  const dir = path.resolve(i >= 0 ? args[i + 1] : path.join(__dirname, '..'));
  const results = lint(dir);
  if (args.includes('--json')) console.log(JSON.stringify(results));
  else for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.id} ${r.name}${r.ok ? '' : `: ${r.detail}`}`);
  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    console.error(`lint:package: ${failed.length} check(s) failed`);
    process.exit(1);
  }
  console.log(`lint:package: all ${results.length} checks passed`);
}
module.exports = { lint, parseTypes };
