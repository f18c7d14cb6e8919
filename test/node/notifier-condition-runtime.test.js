'use strict';
// notifier-condition in a full Node-RED runtime (RED.init, this package loaded from the working
// tree): the editor helper script is served from resources/, the node's editor and help are
// registered, the preview route answers behind the real admin API (and checks permissions when
// adminAuth is on), and a deployed event → condition flow routes an event.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, startRuntime } = require('../helpers/nr');

let rt;
test.describe('in a running runtime', () => {
  test.before(async () => {
    rt = await startRuntime();
  });
  test.after(async () => {
    if (rt) await rt.stop();
  });

  test('the editor helper is served at resources/@package-notifiers/node-red/otterscript-editor.js', async () => {
    const res = await fetch(`${rt.adminUrl}/resources/@package-notifiers/node-red/otterscript-editor.js`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.equal(body, fs.readFileSync(path.join(ROOT, 'resources', 'otterscript-editor.js'), 'utf8'));
    assert.match(body, /PackageNotifiers\.attachTemplateEditor|PN\.attachTemplateEditor = function/);
  });

  test('the node is registered with its editor html (loading the helper) and help', async () => {
    const list = await (await fetch(`${rt.adminUrl}/nodes`, { headers: { accept: 'application/json' } })).json();
    const set = list.find((s) => s.id === '@package-notifiers/node-red/notifier-condition');
    assert.ok(set, 'the notifier-condition node set is listed');
    assert.deepEqual(set.types, ['notifier-condition']);
    assert.equal(set.enabled, true);
    assert.equal(set.err, undefined, `load error: ${set.err}`);
    const html = await (await fetch(`${rt.adminUrl}/nodes`, { headers: { accept: 'text/html' } })).text();
    assert.match(html, /<script src="resources\/@package-notifiers\/node-red\/otterscript-editor\.js"><\/script>/);
    assert.match(html, /RED\.nodes\.registerType\('notifier-condition'/);
    assert.match(html, /data-help-name="notifier-condition"/);
    assert.match(html, /64 KiB/, 'the help states the regex limits');
    const messages = await (await fetch(`${rt.adminUrl}/nodes/messages?lng=en-US`)).json();
    assert.equal(messages['@package-notifiers/node-red/notifier-condition']['notifier-condition'].label.feeds, 'Run on feeds');
  });

  test('the preview route answers through the admin API', async () => {
    const res = await fetch(`${rt.adminUrl}/notifier-otterscript/preview`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'template', source: '$PackageId $PackageEvent', eventType: 'package.deleted' }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { result: 'MyCorp.CoolUtils Deleted' });
  });

  test('a deployed event → condition flow passes and blocks events', async () => {
    await rt.deploy([
      { id: 'tab1', type: 'tab', label: 'conditions' },
      { id: 'ev', z: 'tab1', type: 'notifier-event', path: '', events: [], wires: [['cond']] },
      { id: 'cond', z: 'tab1', type: 'notifier-condition', feeds: 'internal-*', mode: 'score', minScore: '7', outputs: 2, wires: [['d1'], ['d2']] },
      { id: 'd1', z: 'tab1', type: 'debug', active: false, wires: [] },
      { id: 'd2', z: 'tab1', type: 'debug', active: false, wires: [] },
    ]);
    const RED = rt.RED;
    const passed = [];
    const blocked = [];
    // watch what the condition node sends, through the runtime's message hooks
    RED.hooks.add('onSend.pn-condition-test', (events) => {
      for (const e of events) {
        if (e.source.id !== 'cond') continue;
        (e.source.port === 0 ? passed : blocked).push(e.msg.event.vars.VulnerabilityScore);
      }
    });
    try {
      const ev = RED.nodes.getNode('ev');
      const base = {
        event: 'New Vulnerability Detected',
        AffectedPackages: [{ Name: 'nuget:X', AffectedVersions: '< 1' }],
        VulnerabilityId: 'PGV-1',
        VulnerabilitySummary: 's',
        VulnerabilitySeverity: '',
      };
      ev.receive({ payload: { ...base, VulnerabilityScore: '9.8', FeedName: 'internal-libs' } });
      ev.receive({ payload: { ...base, VulnerabilityScore: '3.0', FeedName: 'internal-libs' } });
      ev.receive({ payload: { ...base, VulnerabilityScore: '9.9', FeedName: 'public' } });
      const deadline = Date.now() + 5000;
      while (passed.length + blocked.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(passed, ['9.8']);
      assert.deepEqual(blocked.sort(), ['3.0', '9.9']);
    } finally {
      RED.hooks.remove('onSend.pn-condition-test');
    }
  });
});

test('with adminAuth, the preview route needs a logged-in user', async () => {
  const secured = await startRuntime({
    settings: {
      adminAuth: {
        type: 'credentials',
        users: [{ username: 'admin', password: '$2b$08$wuAqPiKJlVN27eF5qJp.RuQYuy6ZYONW7a/UWYxDTtwKFCdB8F19y', permissions: '*' }],
      },
    },
  });
  try {
    const res = await fetch(`${secured.adminUrl}/notifier-otterscript/preview`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'template', source: 'x', eventType: 'package.added' }),
    });
    assert.equal(res.status, 401);
  } finally {
    await secured.stop();
  }
});
