'use strict';
// The digest node in the editor (Chromium): in the palette under notifiers, its dialog explains the timing with an
// example that follows the settings, and bad settings mark the node invalid with a message naming the setting.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { chromiumMissing, launch, openEditor, addAndEdit } = require('../helpers/browser');

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
