'use strict';
// The editor in a real browser (Debian's Chromium through playwright-core), on Node-RED 4.1 under
// `npm test` and on Node-RED 5 under `npm run test:nr5`: every node type is in the palette under
// `notifiers`, every example imports and deploys with no page error, every edit dialog opens and
// closes cleanly. Screenshots go to test-output/.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, startRuntime } = require('../helpers/nr');
const { chromiumMissing, launch, openEditor, importFlow, deploy, screenshot } = require('../helpers/browser');

const pkg = require(path.join(ROOT, 'package.json'));
const TYPES = Object.keys(pkg['node-red'].nodes);
const EXAMPLES = fs
  .readdirSync(path.join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ name: f.replace(/\.json$/, ''), flow: JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8')) }));

let rt;
let browser;
test.before(async () => {
  rt = await startRuntime();
});
test.after(async () => {
  if (browser) await browser.close();
  if (rt) await rt.stop();
});

async function editor(t) {
  if (chromiumMissing(t)) return null;
  browser ??= await launch();
  return openEditor(browser, rt);
}

test('every node type is in the palette under notifiers (config nodes registered as config)', async (t) => {
  const page = await editor(t);
  if (!page) return;
  const info = await page.evaluate((types) => {
    return types.map((type) => {
      const def = RED.nodes.getType(type);
      const el = document.querySelector(`.red-ui-palette-node[data-palette-type="${type}"]`);
      const category = el && el.closest('.red-ui-palette-category');
      return { type, registered: !!def, category: def && def.category, inPalette: !!el, paletteCategory: category && category.id };
    });
  }, TYPES);
  for (const i of info) {
    assert.ok(i.registered, `${i.type} is registered in the editor`);
    if (i.category === 'config') continue;
    assert.equal(i.category, 'notifiers', `${i.type} category`);
    assert.ok(i.inPalette, `${i.type} shows in the palette`);
    assert.match(i.paletteCategory, /notifiers/, `${i.type} sits in the notifiers category`);
  }
  await screenshot(page, 'palette');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('every example imports and deploys with no page error', async (t) => {
  const page = await editor(t);
  if (!page) return;
  assert.ok(EXAMPLES.length > 0);
  for (const ex of EXAMPLES) {
    const before = await page.evaluate(() => RED.nodes.workspaces?.length ?? 0);
    await importFlow(page, ex.flow);
    const imported = await page.evaluate((ids) => ids.filter((id) => RED.nodes.node(id) || RED.nodes.workspace?.(id)).length, ex.flow.map((n) => n.id));
    assert.ok(imported > 0 || (await page.evaluate(() => RED.nodes.workspaces?.length ?? 0)) >= before, `${ex.name} imported`);
    await deploy(page);
    await screenshot(page, `example-${ex.name.replace(/[^A-Za-z0-9]+/g, '-')}`);
  }
  const res = await fetch(`${rt.adminUrl}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } });
  const { flows } = await res.json();
  for (const ex of EXAMPLES) {
    for (const type of new Set(ex.flow.map((n) => n.type).filter((x) => x.startsWith('notifier-')))) {
      assert.ok(flows.some((n) => n.type === type), `${ex.name}: a ${type} node was deployed`);
    }
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('every node edit dialog opens and closes cleanly', async (t) => {
  const page = await editor(t);
  if (!page) return;
  for (const type of TYPES) {
    const result = await page.evaluate(async (type) => {
      const def = RED.nodes.getType(type);
      if (!def) return { error: 'not registered' };
      if (def.category === 'config') {
        RED.editor.editConfig('', type, '', RED.workspaces.active());
      } else {
        RED.view.importNodes([{ id: RED.nodes.id(), type, x: 300, y: 200, z: RED.workspaces.active(), wires: [] }], { generateIds: true, addFlow: false, touchImport: true });
        const added = RED.nodes.filterNodes({ type }).pop();
        if (!added) return { error: 'could not add a node' };
        RED.editor.edit(added);
      }
      return { ok: true };
    }, type);
    assert.equal(result.error, undefined, `${type}: ${result.error}`);
    await page.waitForSelector('.red-ui-tray .red-ui-tray-body', { timeout: 10000 });
    await page.waitForTimeout(300);
    await screenshot(page, `dialog-${type}`);
    await page.click('.red-ui-tray #node-dialog-cancel, .red-ui-tray #node-config-dialog-cancel');
    await page.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('node labels say what the node does, from the message catalogue', async (t) => {
  const page = await editor(t);
  if (!page) return;
  const labels = await page.evaluate(() => {
    const label = (type, props) => {
      const def = RED.nodes.getType(type);
      return def.label.call(Object.assign({ type, _def: def, _: def._ }, props));
    };
    return {
      slack: label('notifier-slack', { name: 'ops' }),
      teams: label('notifier-teams', { name: 'security' }),
      webhook: label('notifier-webhook', { url: 'https://hooks.example.com/x', method: 'PUT' }),
      email: label('notifier-email', { to: 'devteam@corp.local' }),
      event: label('notifier-event', { path: '/proget/events' }),
      score: label('notifier-condition', { mode: 'score', minScore: '7.5', feeds: '' }),
      smtp: label('notifier-smtp', { host: 'smtp.corp.local', port: '587', security: 'starttls' }),
    };
  });
  assert.deepEqual(
    { slack: labels.slack, teams: labels.teams, webhook: labels.webhook, email: labels.email, event: labels.event, smtp: labels.smtp },
    {
      slack: 'Slack: ops',
      teams: 'Teams: security',
      webhook: 'PUT hooks.example.com',
      email: 'Email: devteam@corp.local',
      event: 'POST /proget/events',
      smtp: 'smtp.corp.local:587',
    },
  );
  assert.match(labels.score, /score >= 7\.5/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** Adds a node of `type` with `props` to the workspace and opens its edit dialog; returns its id. */
async function addAndEdit(page, type, props = {}) {
  const id = await page.evaluate(
    ({ type, props }) => {
      RED.view.importNodes([{ id: RED.nodes.id(), type, x: 300, y: 200, z: RED.workspaces.active(), wires: [], ...props }], { generateIds: true, addFlow: false, touchImport: true });
      const node = RED.nodes.filterNodes({ type }).pop();
      RED.editor.edit(node);
      return node.id;
    },
    { type, props },
  );
  await page.waitForSelector('.red-ui-tray .red-ui-tray-body', { timeout: 10000 });
  return id;
}

test('the condition preview evaluates the chosen mode with its settings, and an old error clears', async (t) => {
  const page = await editor(t);
  if (!page) return;
  await addAndEdit(page, 'notifier-condition', { mode: 'expression', expression: '$Compare($VulnerabilityScore, >=' });
  const status = page.locator('.pn-condition-preview .pn-otterscript-status');
  const output = page.locator('.pn-condition-preview .pn-otterscript-output');
  const expectStatus = async (re, what) => {
    await page.waitForFunction(
      ({ source, flags }) => new RegExp(source, flags).test(document.querySelector('.pn-condition-preview .pn-otterscript-status')?.textContent || ''),
      { source: re.source, flags: re.flags },
      { timeout: 10000 },
    ).catch(() => {});
    assert.match(await status.textContent(), re, what);
  };
  await expectStatus(/Error/, 'the broken expression shows its error');

  // Package matches: MyCorp.* against the Package Promoted sample (MyCorp.CoolUtils)
  await page.selectOption('#node-input-mode', 'package');
  await page.selectOption('.pn-condition-preview select', 'package.promoted');
  await page.fill('#node-input-packageName', 'MyCorp.*');
  await expectStatus(/The sample event passes/, 'package MyCorp.* passes for MyCorp.CoolUtils (the old syntax error is gone)');
  assert.match(await output.textContent(), /MyCorp\.CoolUtils/);
  assert.doesNotMatch(await output.textContent(), /empty: always passes/);
  await page.fill('#node-input-packageName', 'Other.*');
  await expectStatus(/does not pass/, 'package Other.* does not pass');

  // Vulnerability score against New Vulnerability Detected (score 7.5)
  await page.selectOption('#node-input-mode', 'score');
  await page.selectOption('.pn-condition-preview select', 'sca.new-vulnerability');
  await page.fill('#node-input-minScore', '8');
  await expectStatus(/does not pass/, 'score 7.5 < 8');
  assert.match(await output.textContent(), /VulnerabilityScore: 7\.5/);
  await page.fill('#node-input-minScore', '7');
  await expectStatus(/The sample event passes/, 'score 7.5 >= 7');
  await page.fill('#node-input-minScore', 'eleven');
  await expectStatus(/Error/, 'a bad score is an error in the preview');
  assert.match(await output.textContent(), /minScore/);

  // severity, and the feed filter before the mode
  await page.selectOption('#node-input-mode', 'severity');
  await page.selectOption('#node-input-minSeverity', 'Critical');
  await expectStatus(/does not pass/, 'High < Critical');
  await page.selectOption('#node-input-minSeverity', 'Medium');
  await expectStatus(/The sample event passes/, 'High >= Medium');
  await page.fill('#node-input-feeds', 'no-such-feed');
  await page.selectOption('#node-input-mode', 'always');
  await page.selectOption('.pn-condition-preview select', 'package.promoted');
  await expectStatus(/does not pass/, 'the feed filter runs first');
  assert.match(await output.textContent(), /feed filter/);

  // JSONata, evaluated over the sample message as Node-RED does
  await page.fill('#node-input-feeds', '');
  await page.selectOption('#node-input-mode', 'jsonata');
  await page.evaluate(() => $('#node-input-jsonata').typedInput('value', 'msg.event.vars.PackageId = "MyCorp.CoolUtils"'));
  await page.evaluate(() => $('#node-input-jsonata').trigger('change'));
  await expectStatus(/The sample event passes/, 'JSONata true');
  await screenshot(page, 'condition-preview-jsonata');
  await page.click('.red-ui-tray #node-dialog-cancel');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
