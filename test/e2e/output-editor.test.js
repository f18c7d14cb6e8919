'use strict';
// The output nodes' editors in Chromium: template fields in code editors, header validation with a
// message, credentials as password fields, labels, and no page error.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { chromiumMissing, launch, openEditor, screenshot } = require('../helpers/browser');

let rt;
let browser;
test.before(async () => {
  rt = await startRuntime();
});
test.after(async () => {
  if (browser) await browser.close();
  if (rt) await rt.stop();
});

async function editorPage(t) {
  if (chromiumMissing(t)) return null;
  browser ??= await launch();
  return openEditor(browser, rt, { waitForType: 'notifier-webhook' });
}

/** Adds a node of `type` with `props` to the workspace and opens its edit dialog. */
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
  await page.waitForTimeout(300);
  return id;
}

async function done(page) {
  await page.click('.red-ui-tray #node-dialog-ok');
  await page.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });
}

test('notifier-webhook: fields, template editors, header validation with a message, label', async (t) => {
  const page = await editorPage(t);
  if (!page) return;
  const def = await page.evaluate(() => {
    const d = RED.nodes.getType('notifier-webhook');
    return { category: d.category, color: d.color, creds: d.credentials, inputs: d.inputs, outputs: d.outputs };
  });
  assert.deepEqual(def, {
    category: 'notifiers',
    color: '#B7A6D9',
    creds: { secret: { type: 'password' }, username: { type: 'text' }, password: { type: 'password' }, token: { type: 'password' } },
    inputs: 1,
    outputs: 1,
  });
  const id = await addAndEdit(page, 'notifier-webhook');
  assert.equal(await page.locator('#node-input-method').inputValue(), 'POST');
  assert.equal(await page.locator('#node-input-secret').isVisible(), false, 'no secret field without signing');
  await page.selectOption('#node-input-signing', 'standard');
  assert.equal(await page.locator('#node-input-secret').isVisible(), true);
  assert.equal(await page.locator('#node-input-secret').getAttribute('type'), 'password');
  await page.selectOption('#node-input-auth', 'bearer');
  assert.equal(await page.locator('#node-input-token').getAttribute('type'), 'password');
  await page.fill('#node-input-url', 'https://hooks.example.com/proget/$FeedName');
  // the code editors hold the templates
  await page.evaluate(() => {
    const editors = document.querySelectorAll('.pn-template-editor');
    if (editors.length !== 2) throw new Error(`expected 2 template editors, found ${editors.length}`);
  });
  await page.evaluate(() => {
    const n = RED.nodes.filterNodes({ type: 'notifier-webhook' }).pop();
    n._pnEditors.headers.setValue('X-Feed: $FeedName\nX-Evil: a`r`nX-Injected: yes');
    n._pnEditors.content.setValue('$ToJson(%(id: $PackageId))');
  });
  await screenshot(page, 'output-editor-webhook');
  await done(page);
  const saved = await page.evaluate((id) => {
    const n = RED.nodes.node(id);
    return { headers: n.headers, content: n.content, url: n.url, valid: n.valid, errors: n.validationErrors, label: RED.utils.getNodeLabel(n) };
  }, id);
  assert.equal(saved.content, '$ToJson(%(id: $PackageId))');
  assert.equal(saved.url, 'https://hooks.example.com/proget/$FeedName');
  assert.equal(saved.valid, false, 'header injection marks the node invalid');
  assert.ok(saved.errors.some((e) => /Headers: line 2: `r and `n would inject a line break/.test(e)), JSON.stringify(saved.errors));
  assert.equal(saved.label, 'POST hooks.example.com');

  await page.evaluate((id) => {
    const n = RED.nodes.node(id);
    n.headers = 'X-Feed: $FeedName';
    RED.editor.validateNode(n);
  }, id);
  assert.equal(await page.evaluate((id) => RED.nodes.node(id).valid, id), true);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('notifier-slack and notifier-teams: URL as a password credential, text templates, labels', async (t) => {
  const page = await editorPage(t);
  if (!page) return;
  const slackId = await addAndEdit(page, 'notifier-slack', { name: 'alerts' });
  assert.equal(await page.locator('#node-input-url').getAttribute('type'), 'password');
  await page.fill('#node-input-url', 'https://hooks.slack.com/services/T000/B000/XXXX');
  await page.evaluate(() => RED.nodes.filterNodes({ type: 'notifier-slack' }).pop()._pnEditors.text.setValue('*$PackageId* is here'));
  await screenshot(page, 'output-editor-slack');
  await done(page);
  const slack = await page.evaluate((id) => {
    const n = RED.nodes.node(id);
    return { text: n.text, label: RED.utils.getNodeLabel(n), valid: n.valid };
  }, slackId);
  assert.deepEqual(slack, { text: '*$PackageId* is here', label: 'Slack: alerts', valid: true });

  const teamsId = await addAndEdit(page, 'notifier-teams');
  assert.equal(await page.locator('#node-input-url').getAttribute('type'), 'password');
  assert.equal(await page.locator('#node-input-format').inputValue(), 'adaptive');
  await page.evaluate(() => {
    const n = RED.nodes.filterNodes({ type: 'notifier-teams' }).pop();
    n._pnEditors.title.setValue('New: $PackageId');
    n._pnEditors.text.setValue('**$PackageVersion**');
  });
  await screenshot(page, 'output-editor-teams');
  await done(page);
  const teams = await page.evaluate((id) => {
    const n = RED.nodes.node(id);
    return { title: n.title, text: n.text, format: n.format, label: RED.utils.getNodeLabel(n) };
  }, teamsId);
  assert.deepEqual(teams, { title: 'New: $PackageId', text: '**$PackageVersion**', format: 'adaptive', label: 'Teams' });

  const help = await page.evaluate(() => ['notifier-webhook', 'notifier-slack', 'notifier-teams'].map((t) => $(`script[data-help-name="${t}"]`).text()));
  for (const h of help) assert.match(h, /Inputs[\s\S]*Outputs[\s\S]*Details[\s\S]*References/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
