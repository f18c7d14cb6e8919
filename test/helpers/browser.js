'use strict';
// Debian's Chromium driven by playwright-core, for editor tests. Without Chromium the tests skip with
// a message saying how to get it, unless REQUIRE_CHROMIUM is set (as .ci/run does): then it is a failure.
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, NR5 } = require('./nr');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const OUTPUT = path.join(ROOT, 'test-output', NR5 ? 'nr5' : 'nr4');

/** true (and the test skipped or failed) when Chromium is not there */
function chromiumMissing(t) {
  if (fs.existsSync(CHROMIUM)) return false;
  const message = `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`;
  if (process.env.REQUIRE_CHROMIUM) throw new Error(message);
  t.skip(message);
  return true;
}

async function launch() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

/**
 * Opens the Node-RED editor of runtime `rt` and waits until the palette shows `waitForType`.
 * `page.errors` collects page errors and console errors for the test to assert on.
 */
async function openEditor(browser, rt, { waitForType = 'notifier-event', colorScheme = 'light', viewport = { width: 1400, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(`pageerror: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon|Failed to load resource/.test(m.text())) page.errors.push(`console: ${m.text()}`);
  });
  await page.goto(rt.adminUrl + '/', { waitUntil: 'domcontentloaded' });
  await page.waitForSelector(`.red-ui-palette-node[data-palette-type="${waitForType}"]`, { timeout: 30000 });
  await page.waitForFunction(() => window.RED && RED.nodes && RED.nodes.getType && RED.view);
  return page;
}

/** Imports a flow through the editor's Import dialog, as a user pastes it. */
async function importFlow(page, flow) {
  await page.evaluate(() => RED.actions.invoke('core:show-import-dialog'));
  await page.waitForSelector('#red-ui-clipboard-dialog-import-text');
  await page.fill('#red-ui-clipboard-dialog-import-text', JSON.stringify(flow));
  await page.dispatchEvent('#red-ui-clipboard-dialog-import-text', 'keyup');
  await page.click('#red-ui-clipboard-dialog-ok');
  // loose nodes (no tab) stick to the mouse until placed: click on the canvas
  if (!flow.some((n) => n.type === 'tab')) await page.mouse.click(480, 330);
}

/** Clicks Deploy (confirming the "not properly configured" dialog when it shows) and waits for it. */
async function deploy(page) {
  const done = page.evaluate(() => new Promise((resolve) => RED.events.on('deploy', () => resolve(true))));
  await page.click('#red-ui-header-button-deploy');
  const confirm = page.locator('#node-dialog-confirm-deploy-deploy, button:has-text("Confirm deploy")');
  await Promise.race([
    done,
    confirm
      .first()
      .waitFor({ timeout: 5000 })
      .then(() => confirm.first().click())
      .catch(() => {}),
  ]);
  await done;
}

/** Adds a node of `type` with `props` to the active workspace and opens its edit dialog; returns its id. */
async function addAndEdit(page, type, props = {}) {
  const id = await page.evaluate(
    ({ type, props }) => {
      RED.view.importNodes([{ id: RED.nodes.id(), type, x: 300, y: 200, z: RED.workspaces.active(), wires: [], ...props }], {
        generateIds: true,
        addFlow: false,
        touchImport: true,
      });
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

async function screenshot(page, name) {
  fs.mkdirSync(OUTPUT, { recursive: true });
  const file = path.join(OUTPUT, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

module.exports = { CHROMIUM, OUTPUT, chromiumMissing, launch, openEditor, importFlow, deploy, addAndEdit, screenshot };
