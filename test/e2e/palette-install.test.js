'use strict';
// Installs the `npm pack` tarball into an empty Node-RED user directory, as the Palette Manager
// would, and starts Node-RED on it (4.1 under `npm test`, 5 under `npm run test:nr5`): the install
// runs no script and prints no warning, the module must load every type listed in package.json with no
// error, and its examples must be listed.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { ROOT, startRuntime, tmpDir } = require('../helpers/nr');

const pkg = require(path.join(ROOT, 'package.json'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// The machine's npm, as a user has it: under `npm test` the PATH starts with node_modules/.bin, where Node-RED
// 5's bundled npm (a devDependency's) would answer instead and run the `prepack` build on pack, rewriting
// dist/ while other test files load it; npm's own npm_* settings are not handed down either.
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
npmEnv.PATH = (process.env.PATH || '')
  .split(path.delimiter)
  .filter((p) => !p.includes(`node_modules${path.sep}.bin`))
  .join(path.delimiter);
Object.assign(npmEnv, { npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' });

let rt;
let userDir;
let tarball;
let installOutput;
test.before(() => {
  const out = tmpDir('pn-pack-');
  // --ignore-scripts: dist/ is already built by the test runner; pack only what `files` lists.
  const json = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', out], { cwd: ROOT, env: npmEnv, encoding: 'utf8' });
  const info = JSON.parse(json)[0];
  tarball = { path: path.join(out, info.filename), files: info.files.map((f) => f.path) };
  userDir = tmpDir('pn-palette-');
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
  // scripts are not ignored here: a user's install runs them, and npm 11 warns about any it would run
  const install = spawnSync(npm, ['install', '--prefer-offline', '--omit=dev', '--no-package-lock', '--loglevel=warn', tarball.path], {
    cwd: userDir,
    env: npmEnv,
    encoding: 'utf8',
  });
  installOutput = `${install.stdout}\n${install.stderr}`;
  if (install.status !== 0) throw new Error(`npm install of the tarball failed:\n${installOutput}`);
  tarball.manifest = JSON.parse(fs.readFileSync(path.join(userDir, 'node_modules', ...pkg.name.split('/'), 'package.json'), 'utf8'));
});
test.after(() => rt && rt.stop());

test('the tarball holds what a user needs and no tests or sources', () => {
  const files = tarball.files;
  for (const type of Object.keys(pkg['node-red'].nodes)) {
    assert.ok(files.includes(`dist/nodes/${type}.js`), `${type}.js packed`);
    assert.ok(files.includes(`dist/nodes/${type}.html`), `${type}.html packed`);
    assert.ok(files.includes(`dist/nodes/locales/en-US/${type}.json`), `${type} message catalogue packed`);
  }
  assert.ok(files.includes('package.json') && files.includes('README.md') && files.includes('LICENSE'));
  assert.ok(
    files.some((f) => f.startsWith('examples/')),
    'examples packed',
  );
  const unwanted = files.filter(
    (f) => /^(test|src|bench|scripts|\.ci)\//.test(f) || f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts')),
  );
  assert.deepEqual(unwanted, []);
});

test('installing the tarball runs no script and warns about none (build on prepack, not prepare)', () => {
  const scripts = tarball.manifest.scripts || {};
  for (const hook of ['preinstall', 'install', 'postinstall', 'prepare'])
    assert.equal(scripts[hook], undefined, `no ${hook} script in the published package`);
  assert.ok(scripts.prepack, 'dist/ is built on prepack (npm pack, npm publish)');
  assert.doesNotMatch(installOutput, /install-scripts|allowScripts|\bscripts?\b|prepare|EBADENGINE/i, `npm install output:\n${installOutput}`);
  assert.doesNotMatch(installOutput, /npm (warn|WARN|ERR)/, `npm install output:\n${installOutput}`);
});

test('Node-RED loads every type of the installed module with no error and lists its examples', async () => {
  rt = await startRuntime({ userDir, nodesDir: [] });
  const res = await fetch(`${rt.adminUrl}/nodes`, { headers: { accept: 'application/json' } });
  const sets = (await res.json()).filter((s) => s.module === pkg.name);
  assert.ok(sets.length > 0, 'the module is registered');
  const types = sets.flatMap((s) => s.types);
  for (const s of sets) {
    assert.equal(s.err, undefined, `${s.id} loaded without error: ${s.err}`);
    assert.equal(s.enabled, true);
  }
  for (const type of Object.keys(pkg['node-red'].nodes)) assert.ok(types.includes(type), `${type} registered`);
  const lib = await fetch(`${rt.adminUrl}/library/examples/flows/`, { headers: { accept: 'application/json' } });
  const modules = await lib.json();
  assert.ok(JSON.stringify(modules).includes(pkg.name), `examples listed: ${JSON.stringify(modules)}`);
  const examples = await (
    await fetch(`${rt.adminUrl}/library/_examples_/${pkg.name}/`, { headers: { accept: 'application/json' } })
  )
    .json()
    .catch(() => null);
  if (examples) assert.ok(Array.isArray(examples) ? examples.length : Object.keys(examples).length);
});
