'use strict';
// The "Notifier history" sidebar in a real editor (Chromium via playwright-core), on Node-RED 4.1, and on
// Node-RED 5 with NR_RUNTIME=5 (whose sidebars were redesigned): a dispatch shows up live (RED.comms), the
// notifier's records list with outcome and status, a record expands to its redacted request and response,
// Redeliver sends the event to the receiver again and the new record appears, Clear asks first and then clears.
// Screenshots: test-output/nr4|nr5/history-sidebar-*.png.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { chromiumMissing, launch, openEditor, screenshot } = require('../helpers/browser');
const { startReceiver } = require('../helpers/receivers');
const { sampleEvent } = require('../../dist/core/events');

function flows(url) {
  return [
    { id: 'tab1', type: 'tab', label: 'History sidebar' },
    {
      id: 'ev',
      type: 'notifier-event',
      z: 'tab1',
      name: 'ProGet events',
      path: '/proget/events',
      events: [],
      auth: 'none',
      x: 140,
      y: 100,
      wires: [['wh']],
    },
    {
      id: 'wh',
      type: 'notifier-webhook',
      z: 'tab1',
      name: 'Build server hook',
      url,
      method: 'POST',
      headers: 'Authorization: Bearer sidebar-secret',
      content: '',
      signing: 'none',
      auth: 'none',
      timeout: 5,
      retries: 0,
      rate: 0,
      x: 360,
      y: 100,
      wires: [['hist']],
    },
    { id: 'hist', type: 'notifier-history', z: 'tab1', name: '', limit: 50, x: 580, y: 100, wires: [[]] },
  ];
}

test('the sidebar lists a notifier after a dispatch, shows its records, redelivers and clears', { timeout: 180000 }, async (t) => {
  if (chromiumMissing(t)) return;
  const rx = await startReceiver();
  t.after(() => rx.close());
  rx.queue({ status: 400, body: 'rejected: unknown project' }); // the first delivery fails, the redelivery succeeds
  const rt = await startRuntime({ flows: flows(rx.url('/hook')) });
  t.after(() => rt.stop());
  const browser = await launch();
  t.after(() => browser.close());
  const page = await openEditor(browser, rt, { waitForType: 'notifier-history' });

  // the tab is there (in both sidebar designs) and opens empty
  assert.equal(await page.evaluate(() => RED.sidebar.containsTab('notifier-history')), true);
  await page.evaluate(() => RED.actions.invoke('notifier-history:show-sidebar'));
  await page.locator('.pn-history-list-view .pn-history-empty').waitFor({ state: 'visible' });

  // a dispatch while the editor is open: the notifier appears without a reload
  const posted = await fetch(`${rt.nodeUrl}/proget/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sampleEvent('package.promoted')),
  });
  assert.equal(posted.status, 202);
  const row = page.locator('.pn-history-notifier[data-notifier-id="wh"]');
  await row.waitFor({ state: 'visible' });
  assert.equal(await row.locator('.pn-history-name').textContent(), 'Build server hook');
  assert.equal(await row.locator('.pn-history-channel').textContent(), 'webhook');
  assert.equal(await row.locator('.pn-history-outcome').textContent(), 'failed');
  assert.match(await row.locator('.pn-history-last-run').textContent(), /^last run \S/);
  await screenshot(page, 'history-sidebar-notifiers');

  // its records
  await row.click();
  const records = page.locator('.pn-history-records .pn-history-record');
  await records.first().waitFor({ state: 'visible' });
  assert.equal(await records.count(), 1);
  const first = records.first();
  assert.equal(await first.locator('.pn-history-outcome').textContent(), 'failed');
  assert.equal(await first.locator('.pn-history-status').textContent(), 'HTTP 400');
  assert.equal(await first.locator('.pn-history-attempts').textContent(), '1 attempt(s)');
  assert.match(await first.locator('.pn-history-duration').textContent(), /^\d+ ms$|^\d+\.\d+ s$/);
  assert.equal(await page.locator('.red-ui-palette-node[data-palette-type="notifier-history"] .red-ui-palette-label').textContent(), 'history');
  assert.match(await first.locator('.pn-history-record-summary').textContent(), /MyCorp\.CoolUtils .*Promoted/);
  assert.match(await first.locator('.pn-history-error').textContent(), /400/);
  const firstId = await first.getAttribute('data-record-id');

  // expanded: request (redacted) and response
  await first.locator('.pn-history-record-head').click();
  const details = first.locator('.pn-history-details');
  await details.waitFor({ state: 'visible' });
  const detailText = await details.textContent();
  assert.match(detailText, /POST http:\/\/127\.0\.0\.1:\d+\/hook/);
  assert.match(detailText, /Authorization: <redacted>/);
  assert.match(detailText, /rejected: unknown project/);
  assert.ok(!detailText.includes('sidebar-secret'));
  // words are not broken in the middle ("ECONNREF / USED"): only a word longer than the line is
  const breaks = await first.evaluate((el) =>
    [el.querySelector('.pn-history-details pre'), el.querySelector('.pn-history-error')].map((x) => getComputedStyle(x).wordBreak),
  );
  assert.deepEqual(breaks, ['normal', 'normal']);
  await screenshot(page, 'history-sidebar-record');

  // Redeliver: the receiver gets the event again, a new record (a redelivery) appears on top
  await first.locator('.pn-history-redeliver').click();
  await page.locator('.pn-history-records .pn-history-record:has(.pn-history-redelivery)').waitFor({ state: 'visible' });
  assert.equal(rx.requests.length, 2);
  assert.equal(rx.requests[1].body, rx.requests[0].body);
  assert.equal(await records.count(), 2);
  const newest = records.first();
  assert.notEqual(await newest.getAttribute('data-record-id'), firstId);
  assert.equal(await newest.locator('.pn-history-outcome').textContent(), 'delivered');
  assert.equal(await newest.locator('.pn-history-status').textContent(), 'HTTP 200');
  await page.locator('.red-ui-notification').filter({ hasText: 'Redelivered through Build server hook' }).first().waitFor({ state: 'visible' });
  const api = await (await fetch(`${rt.adminUrl}/notifier-history/wh`)).json();
  assert.deepEqual(
    api.records.map((r) => r.redeliveryOf),
    [firstId, undefined],
  );
  await screenshot(page, 'history-sidebar-redelivered');

  // colours come from Node-RED's theme variables (so a dark theme applies)
  const themed = () =>
    page.evaluate(() => {
      const probe = document.createElement('div');
      probe.style.color = 'var(--red-ui-primary-text-color)';
      probe.style.backgroundColor = 'var(--red-ui-primary-background)';
      document.body.appendChild(probe);
      const expected = getComputedStyle(probe);
      const actual = getComputedStyle(document.querySelector('.pn-history'));
      const result = { color: actual.color, background: actual.backgroundColor, varColor: expected.color, varBackground: expected.backgroundColor };
      probe.remove();
      return result;
    });
  const light = await themed();
  assert.equal(light.color, light.varColor);
  assert.equal(light.background, light.varBackground);

  // Clear asks first; cancel keeps, confirm clears
  await page.locator('.pn-history-clear').click();
  const dialog = page.locator('.red-ui-notification').filter({ hasText: 'Delete every record of notifier "Build server hook"' });
  await dialog.waitFor({ state: 'visible' });
  await screenshot(page, 'history-sidebar-clear-confirm');
  await dialog.locator('button', { hasText: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await fetch(`${rt.adminUrl}/notifier-history/wh`)).status, 200);
  await page.locator('.pn-history-clear').click();
  await page.locator('.pn-history-clear-confirm').click();
  await page.locator('.pn-history-list-view .pn-history-empty').waitFor({ state: 'visible' });
  assert.equal((await fetch(`${rt.adminUrl}/notifier-history/wh`)).status, 404);
  assert.equal(await page.locator('.pn-history-notifier').count(), 0);

  assert.deepEqual(page.errors, []);
  await page.context().close();

  // Node-RED 5 has a built-in dark theme (View settings: dark); the sidebar follows it (Node-RED 4.1 has none built in)
  const dark = await openEditor(browser, rt, { waitForType: 'notifier-history', colorScheme: 'dark' });
  await dark.evaluate(() => localStorage.setItem('view-dark-theme', 'dark'));
  await dark.reload({ waitUntil: 'domcontentloaded' });
  await dark.waitForSelector('.red-ui-palette-node[data-palette-type="notifier-history"]');
  if (await dark.evaluate(() => document.documentElement.classList.contains('nr-theme-dark'))) {
    await fetch(`${rt.nodeUrl}/proget/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sampleEvent('sca.new-vulnerability')),
    });
    await dark.evaluate(() => RED.actions.invoke('notifier-history:show-sidebar'));
    await dark.locator('.pn-history-notifier[data-notifier-id="wh"]').click();
    await dark.locator('.pn-history-records .pn-history-record').first().waitFor({ state: 'visible' });
    const colours = await dark.evaluate(() => {
      const actual = getComputedStyle(document.querySelector('.pn-history'));
      return { color: actual.color, background: actual.backgroundColor };
    });
    assert.notEqual(colours.background, light.background);
    assert.notEqual(colours.color, light.color);
    await screenshot(dark, 'history-sidebar-dark');
  }
  assert.deepEqual(dark.errors, []);
  await dark.context().close();
});
