'use strict';
// The output nodes' editors in Chromium: template fields in code editors, header validation with a
// message, credentials as password fields, labels, and no page error.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { chromiumMissing, launch, openEditor, addAndEdit, screenshot } = require('../helpers/browser');

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

async function done(page) {
  await page.click('.red-ui-tray #node-dialog-ok');
  await page.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });
}

test('notifier-webhook: fields, template editors, header validation with a message, label', async (t) => {
  const page = await editorPage(t);
  if (!page) return;
  const def = await page.evaluate(() => {
    const d = RED.nodes.getType('notifier-webhook');
    const creds = Object.fromEntries(Object.entries(d.credentials).map(([k, v]) => [k, { type: v.type }]));
    return { category: d.category, color: d.color, creds, inputs: d.inputs, outputs: d.outputs };
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
  await page.fill('#node-input-secret', 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64'));
  await page.selectOption('#node-input-auth', 'bearer');
  assert.equal(await page.locator('#node-input-token').getAttribute('type'), 'password');
  await page.fill('#node-input-token', 't0ken');
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
  assert.ok(
    saved.errors.some((e) => /Headers: line 2: `r and `n would inject a line break/.test(e)),
    JSON.stringify(saved.errors),
  );
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
  // the card title is one line: a plain input (with its preview), not a code editor with a minimap
  assert.equal(await page.locator('#node-input-title').getAttribute('type'), 'text');
  assert.equal(await page.locator('#node-input-title-editor').count(), 0);
  assert.equal(
    await page
      .locator('#node-input-title')
      .evaluate((el) => !!el.closest('.form-row').nextElementSibling?.classList.contains('pn-otterscript-preview')),
    true,
  );
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

  // so is the email subject; the body stays a code editor
  await addAndEdit(page, 'notifier-email');
  assert.equal(await page.locator('#node-input-subject').getAttribute('type'), 'text');
  assert.equal(await page.locator('#node-input-subject-editor').count(), 0);
  assert.equal(await page.locator('#node-input-body-editor').count(), 1);
  await page.fill('#node-input-subject', 'New: $PackageId');
  await page.waitForFunction(() => /New: MyCorp\.CoolUtils/.test(document.querySelector('.pn-otterscript-output')?.textContent || ''), null, {
    timeout: 10000,
  });
  await page.click('.red-ui-tray #node-dialog-cancel');
  await page.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });

  const help = await page.evaluate(() =>
    ['notifier-webhook', 'notifier-slack', 'notifier-teams'].map((t) => $(`script[data-help-name="${t}"]`).text()),
  );
  for (const h of help) assert.match(h, /Inputs[\s\S]*Outputs[\s\S]*Details[\s\S]*References/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('required settings mark the node invalid before deploy (red triangle, "not properly configured"), and a stored credential counts', async (t) => {
  const page = await editorPage(t);
  if (!page) return;
  const SLACK_URL = 'https://hooks.slack.com/services/T000/B000/XXXX';
  // [id, node, what the node must report] — as imported from an example: no credentials unless given
  const cases = [
    ['slack-missing', { type: 'notifier-slack', name: 'no url' }, /Slack webhook URL is required/],
    ['slack-ok', { type: 'notifier-slack', name: 'with url', credentials: { url: SLACK_URL } }, null],
    ['teams-missing', { type: 'notifier-teams' }, /Teams webhook URL is required/],
    ['webhook-signing', { type: 'notifier-webhook', url: 'https://example.com/h', signing: 'standard' }, /Signing needs a secret/],
    ['webhook-basic', { type: 'notifier-webhook', url: 'https://example.com/h', auth: 'basic' }, /Basic auth needs a username/],
    ['webhook-bearer', { type: 'notifier-webhook', url: 'https://example.com/h', auth: 'bearer', credentials: { token: 't0ken' } }, null],
    ['webhook-plain', { type: 'notifier-webhook', url: 'https://example.com/h' }, null],
    ['event-secret', { type: 'notifier-event', path: '/a', auth: 'secret' }, /need a secret/],
    ['event-hmac', { type: 'notifier-event', path: '/b', auth: 'hmac' }, /need a secret/],
    ['event-none', { type: 'notifier-event', path: '/c', auth: 'none' }, null],
    [
      'smtp-login',
      { type: 'notifier-smtp', host: 'smtp.example.com', authType: 'login', credentials: { user: 'me' } },
      /^Login authentication needs a password$/,
    ],
    ['smtp-login-nouser', { type: 'notifier-smtp', host: 'smtp.example.com', authType: 'login' }, /user is required[\s\S]*needs a password/],
    ['webhook-bearer-notoken', { type: 'notifier-webhook', url: 'https://example.com/h', auth: 'bearer' }, /Bearer auth needs a token/],
    ['smtp-oauth2', { type: 'notifier-smtp', host: 'smtp.example.com', authType: 'oauth2' }, /user is required[\s\S]*client id[\s\S]*refresh token/],
    ['smtp-none', { type: 'notifier-smtp', host: 'smtp.example.com', authType: 'none' }, null],
  ];
  const result = await page.evaluate((cases) => {
    const z = RED.workspaces.active();
    RED.view.importNodes(
      cases.map(([id, n], i) => ({
        id,
        x: 200 + (i % 3) * 250,
        y: 80 + Math.floor(i / 3) * 80,
        z: n.type === 'notifier-smtp' ? undefined : z,
        wires: [],
        ...n,
      })),
      { generateIds: false, addFlow: false, touchImport: true },
    );
    RED.view.redraw(true);
    return cases.map(([id]) => {
      const n = RED.nodes.node(id);
      if (!n) return { id, missing: true };
      RED.editor.validateNode(n);
      return { id, valid: n.valid, errors: n.validationErrors || [] };
    });
  }, cases);
  for (const [id, , expected] of cases) {
    const r = result.find((x) => x.id === id);
    assert.ok(r && !r.missing, `${id} imported`);
    if (expected) {
      assert.equal(r.valid, false, `${id} is invalid`);
      assert.match(r.errors.join('\n'), expected, `${id}: ${r.errors.join('; ')}`);
    } else {
      assert.equal(r.valid, true, `${id} is valid: ${r.errors.join('; ')}`);
    }
  }
  // the red triangle on the canvas
  await page.waitForTimeout(200);
  const badges = await page.evaluate(() =>
    ['slack-missing', 'slack-ok'].map((id) => {
      const el = document.getElementById(id);
      const badge = el && el.querySelector('.red-ui-flow-node-error');
      return !!badge && getComputedStyle(badge).display !== 'none' && badge.getAttribute('display') !== 'none';
    }),
  );
  assert.deepEqual(badges, [true, false], 'a red triangle on the node without its URL only');
  await screenshot(page, 'required-settings-invalid');

  // the dialog marks the URL field; filling it makes the node valid
  await page.evaluate(() => RED.editor.edit(RED.nodes.node('slack-missing')));
  await page.waitForSelector('.red-ui-tray #node-input-url');
  assert.ok(await page.locator('#node-input-url').evaluate((el) => el.classList.contains('input-error')), 'the empty URL field is marked');
  await page.fill('#node-input-url', SLACK_URL);
  await page.dispatchEvent('#node-input-url', 'change');
  assert.equal(await page.locator('#node-input-url').evaluate((el) => el.classList.contains('input-error')), false);
  await done(page);
  assert.equal(await page.evaluate(() => RED.nodes.node('slack-missing').valid), true, 'valid once the URL is set');
  // a webhook's secret field is required only while signing is on
  await page.evaluate(() => RED.editor.edit(RED.nodes.node('webhook-signing')));
  await page.waitForSelector('.red-ui-tray #node-input-secret');
  assert.ok(await page.locator('#node-input-secret').evaluate((el) => el.classList.contains('input-error')));
  await page.selectOption('#node-input-signing', 'none');
  assert.equal(await page.locator('#node-input-secret').evaluate((el) => el.classList.contains('input-error')), false);
  await done(page);
  assert.equal(await page.evaluate(() => RED.nodes.node('webhook-signing').valid), true, 'no signing, no secret needed');

  // deploy warns about what is left ("not properly configured"), as for core nodes
  await page.click('#red-ui-header-button-deploy');
  const warning = page.locator('.red-ui-notification, .red-ui-notify').filter({ hasText: /not properly configured/ });
  await warning.first().waitFor({ timeout: 10000 });
  const text = await warning.first().textContent();
  assert.match(text, /\((notifier-(teams|smtp|event|webhook))\)/, 'it names our nodes');
  const deployed = page.evaluate(() => new Promise((resolve) => RED.events.on('deploy', () => resolve(true))));
  await page.locator('#node-dialog-confirm-deploy-deploy, button:has-text("Confirm deploy")').first().click();
  await deployed;
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // a fresh editor has not loaded credentials: a deployed node with its URL stored is valid, one without is not
  const fresh = await editorPage(t);
  await fresh
    .waitForFunction(
      () =>
        RED.nodes.node('slack-ok') &&
        RED.nodes.node('slack-ok').valid === true &&
        RED.nodes.node('teams-missing') &&
        RED.nodes.node('teams-missing').valid === false,
      null,
      { timeout: 10000 },
    )
    .catch(() => {});
  const after = await fresh.evaluate(() =>
    ['slack-ok', 'slack-missing', 'teams-missing', 'smtp-none'].map((id) => RED.nodes.node(id) && RED.nodes.node(id).valid),
  );
  assert.deepEqual(after, [true, true, false, true], 'after a reload: stored URLs count, a missing one does not');
  assert.deepEqual(fresh.errors, []);
  await fresh.context().close();
});
