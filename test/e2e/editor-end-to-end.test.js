'use strict';
// One path end to end from the editor, as a user takes it (Chromium via playwright-core, Node-RED 4.1, and 5
// with NR_RUNTIME=5): import an example through the Import dialog, point its webhook at a local receiver in
// the edit dialog, deploy, post ProGet's event to the flow's endpoint, see the delivery arrive and the
// record appear in the "Notifier history" sidebar. Screenshots: test-output/nr4|nr5/end-to-end-*.png.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, startRuntime } = require('../helpers/nr');
const { startReceiver } = require('../helpers/receivers');
const { progetExample } = require('../helpers/seed');
const { chromiumMissing, launch, openEditor, importFlow, deploy, screenshot } = require('../helpers/browser');

const EXAMPLE = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'Dispatch history, failures and redelivery.json'), 'utf8'));

test(
  'import an example, point it at a local receiver, deploy, post an event, see it delivered and in the history sidebar',
  { timeout: 180000 },
  async (t) => {
    if (chromiumMissing(t)) return;
    const rx = await startReceiver();
    const rt = await startRuntime();
    const browser = await launch();
    try {
      const page = await openEditor(browser, rt);
      await importFlow(page, EXAMPLE);
      const webhook = EXAMPLE.find((n) => n.type === 'notifier-webhook');
      const imported = await page.evaluate(
        (name) =>
          RED.nodes
            .filterNodes({ type: 'notifier-webhook' })
            .filter((n) => n.name === name)
            .map((n) => n.id),
        webhook.name,
      );
      assert.equal(imported.length, 1, 'the example webhook node is on the canvas');

      // point it at the local receiver through its edit dialog
      await page.evaluate((id) => RED.editor.edit(RED.nodes.node(id)), imported[0]);
      await page.waitForSelector('#node-input-url', { state: 'visible' });
      await page.fill('#node-input-url', rx.url('/from-the-editor'));
      await screenshot(page, 'end-to-end-edit-webhook');
      await page.click('#node-dialog-ok');
      await page.waitForFunction(() => !document.querySelector('.red-ui-tray'));
      await deploy(page);
      await screenshot(page, 'end-to-end-flow');

      // ProGet posts its package event to the flow's endpoint
      const endpoint = EXAMPLE.find((n) => n.type === 'notifier-event').path;
      const res = await fetch(rt.nodeUrl + endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(progetExample('package.promoted')),
      });
      assert.equal(res.status, 202);
      const deadline = Date.now() + 10000;
      while (rx.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      assert.equal(rx.requests.length, 1, 'the receiver got the delivery');
      assert.equal(rx.requests[0].path ?? rx.requests[0].url, '/from-the-editor');
      assert.deepEqual(JSON.parse(rx.requests[0].body), progetExample('package.promoted'), "ProGet's default body");

      // …and the dispatch shows in the history sidebar
      await page.evaluate(() => RED.actions.invoke('notifier-history:show-sidebar'));
      const row = page.locator(`.pn-history-notifier[data-notifier-id="${imported[0]}"]`);
      await row.waitFor({ state: 'visible', timeout: 15000 });
      assert.equal(await row.locator('.pn-history-name').textContent(), webhook.name);
      assert.equal(await row.locator('.pn-history-outcome').textContent(), 'delivered');
      await row.click();
      const record = page.locator('.pn-history-records .pn-history-record').first();
      await record.waitFor({ state: 'visible' });
      assert.equal(await record.locator('.pn-history-status').textContent(), 'HTTP 200');
      assert.match(await record.locator('.pn-history-record-summary').textContent(), /MyCorp\.CoolUtils 3\.2\.0-pre\.1 Promoted/);
      await screenshot(page, 'end-to-end-history');
      if (process.env.UPDATE_README_SCREENSHOTS) {
        // README images: the flow with the sidebar open on the notifier, its record expanded
        await record.locator('.pn-history-record-head').click();
        await record.locator('.pn-history-details').waitFor({ state: 'visible' });
        await page.evaluate(() => {
          document.querySelectorAll('.red-ui-notification').forEach((n) => n.remove());
          RED.view.select({ nodes: [] });
        });
        const dir = path.join(ROOT, 'docs', 'images');
        fs.mkdirSync(dir, { recursive: true });
        await page.screenshot({ path: path.join(dir, 'flow-and-history.png') });
      }
      assert.deepEqual(page.errors, []);
    } finally {
      await browser.close();
      await rt.stop();
      await rx.close();
    }
  },
);
