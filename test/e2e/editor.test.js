'use strict';
// The editor in a real browser (Debian's Chromium through playwright-core), on Node-RED 4.1 under
// `npm test` and on Node-RED 5 under `npm run test:nr5`: every node type is in the palette under
// `notifiers`, every example imports and deploys with no page error (on its own tab, statuses clear of
// other nodes), every edit dialog opens and closes cleanly, the palette, labels, dialog layout and the
// condition preview. Screenshots go to test-output/.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, startRuntime } = require('../helpers/nr');
const { chromiumMissing, launch, openEditor, importFlow, deploy, addAndEdit, screenshot } = require('../helpers/browser');

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
    const imported = await page.evaluate(
      (ids) => ids.filter((id) => RED.nodes.node(id) || RED.nodes.workspace?.(id)).length,
      ex.flow.map((n) => n.id),
    );
    assert.ok(imported > 0 || (await page.evaluate(() => RED.nodes.workspaces?.length ?? 0)) >= before, `${ex.name} imported`);
    await deploy(page);
    // on its own tab: no status text sits under another node or another status
    const tab = ex.flow.find((n) => n.type === 'tab');
    await page.evaluate((id) => RED.workspaces.show(id), tab.id);
    await page
      .waitForFunction(
        (id) =>
          RED.nodes
            .filterNodes({ z: id })
            .filter((n) => /^notifier-/.test(n.type))
            .every((n) => {
              const label = document.getElementById(n.id)?.querySelector('.red-ui-flow-node-status-label');
              return label && label.textContent.trim() !== '';
            }),
        tab.id,
        { timeout: 10000 },
      )
      .catch(() => {});
    const overlaps = await page.evaluate((id) => {
      const boxes = RED.nodes
        .filterNodes({ z: id })
        .map((n) => {
          const g = document.getElementById(n.id);
          const body = g && g.querySelector('.red-ui-flow-node');
          const label = g && g.querySelector('.red-ui-flow-node-status-label');
          const status = label && label.textContent.trim() ? label.getBoundingClientRect() : null;
          return { id: n.id, body: body && body.getBoundingClientRect(), status, text: label && label.textContent.trim() };
        })
        .filter((b) => b.body);
      const hit = (a, b) => a.left < b.right + 4 && b.left < a.right + 4 && a.top < b.bottom + 2 && b.top < a.bottom + 2;
      const out = [];
      for (const a of boxes) {
        if (!a.status) continue;
        for (const b of boxes) {
          if (b === a) continue;
          if (hit(a.status, b.body)) out.push(`status "${a.text}" of ${a.id} sits on ${b.id}`);
          if (b.status && a.id < b.id && hit(a.status, b.status)) out.push(`status "${a.text}" of ${a.id} meets the status of ${b.id}`);
        }
      }
      return out;
    }, tab.id);
    assert.deepEqual(overlaps, [], `${ex.name}: statuses clear of other nodes`);
    await screenshot(page, `example-${ex.name.replace(/[^A-Za-z0-9]+/g, '-')}`);
  }
  const res = await fetch(`${rt.adminUrl}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } });
  const { flows } = await res.json();
  for (const ex of EXAMPLES) {
    for (const type of new Set(ex.flow.map((n) => n.type).filter((x) => x.startsWith('notifier-')))) {
      assert.ok(
        flows.some((n) => n.type === type),
        `${ex.name}: a ${type} node was deployed`,
      );
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
        RED.view.importNodes([{ id: RED.nodes.id(), type, x: 300, y: 200, z: RED.workspaces.active(), wires: [] }], {
          generateIds: true,
          addFlow: false,
          touchImport: true,
        });
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

test('the condition preview evaluates the chosen mode with its settings, and an old error clears', async (t) => {
  const page = await editor(t);
  if (!page) return;
  await addAndEdit(page, 'notifier-condition', { mode: 'expression', expression: '$Compare($VulnerabilityScore, >=' });
  const status = page.locator('.pn-condition-preview .pn-otterscript-status');
  const output = page.locator('.pn-condition-preview .pn-otterscript-output');
  const expectStatus = async (re, what) => {
    await page
      .waitForFunction(
        ({ source, flags }) =>
          new RegExp(source, flags).test(document.querySelector('.pn-condition-preview .pn-otterscript-status')?.textContent || ''),
        { source: re.source, flags: re.flags },
        { timeout: 10000 },
      )
      .catch(() => {});
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

test('palette: one naming style, in the order of a flow; canvas labels do not repeat; the sidebar tab is "Notifier history"', async (t) => {
  const page = await editor(t);
  if (!page) return;
  const palette = await page.evaluate(() =>
    [...document.querySelectorAll('.red-ui-palette-node[data-palette-type^="notifier-"]')].map((el) => [
      el.getAttribute('data-palette-type'),
      el.textContent.trim(),
    ]),
  );
  assert.deepEqual(palette, [
    ['notifier-event', 'event'],
    ['notifier-condition', 'condition'],
    ['notifier-digest', 'digest'],
    ['notifier-webhook', 'webhook'],
    ['notifier-slack', 'slack'],
    ['notifier-teams', 'teams'],
    ['notifier-email', 'email'],
    ['notifier-history', 'history'],
  ]);
  // the palette labels come from the message catalogue
  const fromCatalogue = await page.evaluate(
    (types) =>
      types.map((type) => {
        const def = RED.nodes.getType(type);
        return (
          typeof def.paletteLabel === 'function' && def.paletteLabel.call(def) === RED._(`@package-notifiers/node-red/${type}:${type}.paletteLabel`)
        );
      }),
    TYPES,
  );
  assert.deepEqual(
    fromCatalogue,
    TYPES.map(() => true),
  );
  const labels = await page.evaluate(() => {
    const label = (type, props) => {
      const def = RED.nodes.getType(type);
      return def.label.call(Object.assign({ type, _def: def, _: def._ }, props));
    };
    return [
      label('notifier-teams', { name: 'Teams security channel' }),
      label('notifier-slack', { name: '#ops on Slack' }),
      label('notifier-slack', { name: 'ops' }),
    ];
  });
  assert.deepEqual(labels, ['Teams security channel', '#ops on Slack', 'Slack: ops']);
  await page.evaluate(() => RED.sidebar.show('notifier-history'));
  const tab = await page.evaluate(() => {
    const el =
      document.getElementById('red-ui-tab-notifier-history') ||
      document.querySelector('[id$="notifier-history"].red-ui-tab, [data-tab-id="notifier-history"]');
    return el ? el.textContent.trim() || el.getAttribute('aria-label') || el.getAttribute('title') || '' : null;
  });
  assert.match(String(tab), /Notifier history/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('edit dialogs: labels on one line, drop-down options not cut, tips and previews no wider than the inputs', async (t) => {
  const page = await editor(t);
  if (!page) return;
  const cases = [
    ['notifier-event', { auth: 'hmac' }],
    ['notifier-event', { auth: 'secret', port: '8443' }],
    ['notifier-event', { auth: 'hmac', source: 'artifactory' }],
    ['notifier-condition', { mode: 'score' }],
    ['notifier-condition', { mode: 'severity' }],
    ['notifier-condition', { mode: 'package' }],
    ['notifier-condition', { mode: 'expression' }],
    ['notifier-webhook', { signing: 'standard', auth: 'basic' }],
    ['notifier-slack', {}],
    ['notifier-teams', {}],
    ['notifier-email', {}],
    ['notifier-digest', {}],
    ['notifier-smtp', { authType: 'oauth2' }],
    ['notifier-smtp', { authType: 'login', rejectUnauthorized: false }],
    ['notifier-history', {}],
  ];
  const problems = [];
  for (const [type, props] of cases) {
    await page.evaluate(
      ({ type, props }) => {
        const id = RED.nodes.id();
        if (RED.nodes.getType(type).category === 'config') {
          RED.view.importNodes([{ id, type, ...props }], { generateIds: false, addFlow: false, touchImport: true });
          RED.editor.editConfig('', type, id, RED.workspaces.active());
        } else {
          RED.view.importNodes([{ id, type, x: 300, y: 200, z: RED.workspaces.active(), wires: [], ...props }], {
            generateIds: false,
            addFlow: false,
            touchImport: true,
          });
          RED.editor.edit(RED.nodes.node(id));
        }
      },
      { type, props },
    );
    await page.waitForSelector('.red-ui-tray #dialog-form, .red-ui-tray #node-config-dialog-edit-form');
    // the previews arrive from the runtime
    await page
      .waitForFunction(() => [...document.querySelectorAll('.red-ui-tray .pn-otterscript-status')].every((s) => s.textContent.trim() !== ''), null, {
        timeout: 10000,
      })
      .catch(() => {});
    const found = await page.evaluate(() => {
      const form = document.querySelector('.red-ui-tray #dialog-form, .red-ui-tray #node-config-dialog-edit-form');
      const visible = (el) => el.offsetParent !== null && el.getBoundingClientRect().width > 0;
      const out = [];
      for (const l of form.querySelectorAll('.form-row > label')) {
        if (!visible(l) || !l.textContent.trim()) continue;
        const lineHeight = parseFloat(getComputedStyle(l).lineHeight) || 20;
        if (l.getBoundingClientRect().height > lineHeight * 1.5) out.push(`label on two lines: "${l.textContent.trim()}"`);
      }
      const ctx = document.createElement('canvas').getContext('2d');
      for (const s of form.querySelectorAll('select')) {
        if (!visible(s)) continue;
        ctx.font = getComputedStyle(s).font;
        for (const o of s.options) {
          // room for the option text: the select's width less its padding and the arrow
          if (ctx.measureText(o.textContent).width > s.clientWidth - 28) out.push(`option cut: ${s.id} "${o.textContent}"`);
        }
      }
      let right = 0;
      for (const i of form.querySelectorAll(
        'input[type=text], input[type=password], select, .red-ui-typedInput-container, .pn-template-editor, .pn-email-editor, .pn-condition-editor',
      )) {
        if (visible(i)) right = Math.max(right, i.getBoundingClientRect().right);
      }
      for (const tip of form.querySelectorAll('.form-tips, .pn-otterscript-preview')) {
        if (visible(tip) && tip.getBoundingClientRect().right > right + 2)
          out.push(`wider than the inputs: ${tip.className} "${tip.textContent.trim().slice(0, 40)}"`);
      }
      return out;
    });
    problems.push(...found.map((p) => `${type} ${JSON.stringify(props)}: ${p}`));
    await screenshot(page, `layout-${type}-${Object.values(props).join('-') || 'default'}`);
    await page.click('.red-ui-tray #node-dialog-cancel, .red-ui-tray #node-config-dialog-cancel');
    await page.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });
  }
  assert.deepEqual(problems, []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('previews wrap between words, and an error caret stays under its column', async (t) => {
  const page = await editor(t);
  if (!page) return;
  await addAndEdit(page, 'notifier-webhook', { url: 'https://example.com/h' });
  await page.selectOption('.pn-otterscript-preview select >> nth=1', 'sca.new-vulnerability');
  await page.waitForFunction(() => /Newtonsoft/.test(document.querySelectorAll('.pn-otterscript-output')[1]?.textContent || ''), null, {
    timeout: 10000,
  });
  const wrap = await page.evaluate(() => {
    const out = document.querySelectorAll('.pn-otterscript-output')[1];
    const cs = getComputedStyle(out);
    return { wordBreak: cs.wordBreak, overflowWrap: cs.overflowWrap, whiteSpace: cs.whiteSpace };
  });
  assert.notEqual(wrap.wordBreak, 'break-all', 'no break inside words ("Newtonsof / t.Json")');
  assert.equal(wrap.whiteSpace, 'pre-wrap');
  assert.equal(wrap.overflowWrap, 'break-word');
  // a long line with an error: the excerpt keeps its lines, so the caret sits under the column it names
  await page.evaluate(() => {
    const n = RED.nodes.filterNodes({ type: 'notifier-webhook' }).pop();
    n._pnEditors.content.setValue('{"a": "' + 'x'.repeat(120) + '", "b": $NoSuchFunction(1)}');
  });
  await page.waitForFunction(() => /Error/.test(document.querySelectorAll('.pn-otterscript-status')[1]?.textContent || ''), null, { timeout: 10000 });
  const caret = await page.evaluate(() => {
    const out = document.querySelectorAll('.pn-otterscript-output')[1];
    const lines = out.textContent.split('\n');
    const at = lines.findIndex((l) => /^\s*\^/.test(l));
    return {
      whiteSpace: getComputedStyle(out).whiteSpace,
      scrolls: out.scrollWidth > out.clientWidth,
      source: lines[at - 1],
      caretColumn: at > 0 ? lines[at].indexOf('^') : -1,
    };
  });
  assert.equal(caret.whiteSpace, 'pre');
  assert.ok(caret.scrolls, 'the long line scrolls sideways instead of wrapping');
  assert.ok(caret.caretColumn >= 0, 'an excerpt with a caret');
  assert.equal(caret.source.slice(caret.caretColumn, caret.caretColumn + 1), '$', `the caret points at $NoSuchFunction: ${caret.source}`);
  await page.click('.red-ui-tray #node-dialog-cancel');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
