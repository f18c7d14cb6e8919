'use strict';
// The digest node in the editor (Chromium): in the palette under notifiers, its dialog explains the timing with an
// example that follows the settings, and bad settings mark the node invalid with a message naming the setting; its
// groupBy shows the key of a sample event live; the output and condition nodes preview templates with a sample digest.
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

test('notifier-digest: in the palette, a dialog with a timing example, validation naming the setting', async (t) => {
  if (chromiumMissing(t)) return;
  browser ??= await launch();
  const page = await openEditor(browser, rt, { waitForType: 'notifier-digest' });
  const palette = await page.evaluate(() => {
    const el = document.querySelector('.red-ui-palette-node[data-palette-type="notifier-digest"]');
    const def = RED.nodes.getType('notifier-digest');
    const defaults = Object.fromEntries(Object.entries(def.defaults).map(([k, v]) => [k, v.value]));
    return { label: el && el.textContent.trim(), category: el && el.closest('.red-ui-palette-category').id, def: def.category, defaults };
  });
  assert.deepEqual(palette.defaults, { name: '', groupBy: '$FeedName/$WebhookEvent', wait: 30, threshold: 3, interval: 300, maxEvents: 1000 });
  assert.equal(palette.label, 'digest');
  assert.match(palette.category, /notifiers/);
  assert.equal(palette.def, 'notifiers');

  await addAndEdit(page, 'notifier-digest', palette.defaults);
  assert.equal(await page.locator('#node-input-groupBy').inputValue(), '$FeedName/$WebhookEvent');
  assert.equal(await page.locator('#node-input-wait').inputValue(), '30');
  assert.match(
    await page.locator('#pn-digest-example').textContent(),
    /one digest, 30 s after the first; more of them go at most every 300 s\. Fewer than 3/,
  );
  await page.fill('#node-input-wait', '0');
  await page.fill('#node-input-threshold', '5');
  assert.match(await page.locator('#pn-digest-example').textContent(), /events pass at once until 5 of one group arrive within 300 s/);
  await page.fill('#node-input-threshold', '2.5');
  await page.fill('#node-input-maxEvents', '20000');
  await page.click('.red-ui-tray #node-dialog-ok');
  await page.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });
  const node = await page.evaluate(() => {
    let found;
    RED.nodes.eachNode((n) => {
      if (n.type === 'notifier-digest') found = n;
    });
    RED.editor.validateNode(found);
    return { valid: found.valid, errors: found.validationErrors || [], wait: found.wait };
  });
  assert.equal(node.valid, false);
  assert.equal(String(node.wait), '0');
  assert.ok(
    node.errors.some((e) => /Digest from must be a whole number/.test(e)),
    node.errors.join(' | '),
  );
  assert.ok(
    node.errors.some((e) => /List at most must be a whole number from 1 to 10000/.test(e)),
    node.errors.join(' | '),
  );
});

/** Waits until the preview output in `panel` (a CSS selector) matches `re`; returns its text (asserted to match). */
async function previewShows(page, panel, re) {
  const text = () => page.evaluate((p) => document.querySelector(p + ' .pn-otterscript-output')?.textContent || '', panel);
  await page
    .waitForFunction(
      ({ panel, source, flags }) => new RegExp(source, flags).test(document.querySelector(panel + ' .pn-otterscript-output')?.textContent || ''),
      { panel, source: re.source, flags: re.flags },
      { timeout: 10000 },
    )
    .catch(() => {});
  const shown = await text();
  assert.match(shown, re);
  return shown;
}

test('every output and condition preview offers "Digest (from notifier-digest)" after the ten ProGet types', async (t) => {
  if (chromiumMissing(t)) return;
  browser ??= await launch();
  const page = await openEditor(browser, rt, { waitForType: 'notifier-digest' });
  for (const type of ['notifier-webhook', 'notifier-slack', 'notifier-teams', 'notifier-email', 'notifier-condition']) {
    await addAndEdit(page, type);
    await page.waitForSelector('.red-ui-tray .pn-otterscript-preview select');
    const selects = await page.evaluate(() =>
      [...document.querySelectorAll('.red-ui-tray .pn-otterscript-preview select')].map((s) => [...s.options].map((o) => [o.value, o.textContent])),
    );
    assert.ok(selects.length >= 1, `${type}: a preview`);
    for (const options of selects) {
      assert.equal(options.length, 11, `${type}: ${JSON.stringify(options)}`);
      assert.deepEqual(options[10], ['digest', 'Digest (from notifier-digest)'], type);
      assert.equal(options[0][0], 'package.added', type);
    }
    await page.click('.red-ui-tray #node-dialog-cancel');
    await page.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('notifier-slack: with the digest sample the preview shows the default digest message, then renders a digest template', async (t) => {
  if (chromiumMissing(t)) return;
  browser ??= await launch();
  const page = await openEditor(browser, rt, { waitForType: 'notifier-slack' });
  await addAndEdit(page, 'notifier-slack');
  const panel = '.red-ui-tray .pn-otterscript-preview';
  await page.selectOption(`${panel} select`, 'digest');
  const shown = await previewShows(page, panel, /… and 2 more/);
  assert.match(shown, /^12 events in internal-utils\/Promoted/);
  assert.match(await page.locator(`${panel} .pn-otterscript-status`).textContent(), /Empty: the default/);
  await page.evaluate(() => {
    const n = RED.nodes.filterNodes({ type: 'notifier-slack' }).pop();
    n._pnEditors.text.setValue('*$EventCount* in $GroupKey:<% foreach %e in @Events { %> $(%e.PackageId)<% } %> (+$OmittedCount)');
  });
  const rendered = await previewShows(page, panel, /\(\+2\)$/);
  assert.equal(
    rendered,
    '*12* in internal-utils/Promoted: MyCorp.CoolUtils MyCorp.Logging MyCorp.Http MyCorp.Json MyCorp.Cli MyCorp.Data MyCorp.Auth MyCorp.Cache MyCorp.Metrics MyCorp.Queue (+2)',
  );
  assert.match(await page.locator(`${panel} .pn-otterscript-status`).textContent(), /Rendered/);
  // a variable a digest does not have is an error with its place
  await page.evaluate(() => RED.nodes.filterNodes({ type: 'notifier-slack' }).pop()._pnEditors.text.setValue('$PackageId'));
  await previewShows(page, panel, /Unknown variable \$PackageId/);
  assert.match(await page.locator(`${panel} .pn-otterscript-status`).textContent(), /Error \(line 1, column 1\)/);
  await screenshot(page, 'digest-preview-slack');
  await page.click('.red-ui-tray #node-dialog-cancel');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('notifier-digest: the groupBy preview shows the key of the chosen sample event, live', async (t) => {
  if (chromiumMissing(t)) return;
  browser ??= await launch();
  const page = await openEditor(browser, rt, { waitForType: 'notifier-digest' });
  await addAndEdit(page, 'notifier-digest', { groupBy: '$FeedName/$WebhookEvent' });
  const panel = '.red-ui-tray .pn-otterscript-preview';
  const options = await page.evaluate((p) => [...document.querySelector(p + ' select').options].map((o) => o.value), panel);
  assert.equal(options.length, 10, "ProGet's ten types, no digest (a digest is not grouped again)");
  assert.ok(!options.includes('digest'));
  assert.equal(await page.locator(`${panel} select`).inputValue(), 'package.promoted');
  assert.equal(await previewShows(page, panel, /^internal-utils\/Promoted$/), 'internal-utils/Promoted');
  assert.match(await page.locator(`${panel} .pn-otterscript-status`).textContent(), /Group key/);
  // the preview sits right under the groupBy row
  assert.ok(
    await page.evaluate((p) => document.querySelector(p).previousElementSibling.contains(document.querySelector('#node-input-groupBy')), panel),
    'under Group by',
  );
  await page.fill('#node-input-groupBy', '$FeedName:$PackageId');
  assert.equal(await previewShows(page, panel, /^internal-utils:MyCorp\.CoolUtils$/), 'internal-utils:MyCorp.CoolUtils');
  await page.fill('#node-input-groupBy', '');
  await previewShows(page, panel, /^internal-utils\/Promoted$/);
  assert.match(await page.locator(`${panel} .pn-otterscript-status`).textContent(), /default \$FeedName\/\$WebhookEvent/);
  // an event without a feed: grouped by its type, and the preview says why
  await page.selectOption(`${panel} select`, 'sca.build-issues-opened');
  await previewShows(page, panel, /^Issues Opened on Build\n\nUnknown variable \$FeedName/);
  assert.match(await page.locator(`${panel} .pn-otterscript-status`).textContent(), /grouped by its type/);
  await page.fill('#node-input-groupBy', '$FeedName/$(');
  await previewShows(page, panel, /Expected a variable/);
  assert.match(await page.locator(`${panel} .pn-otterscript-status`).textContent(), /Error \(line 1, column \d+\)/);
  await screenshot(page, 'digest-groupby-preview');
  await page.click('.red-ui-tray #node-dialog-cancel');
  await page.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
