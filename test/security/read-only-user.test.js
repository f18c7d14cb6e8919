'use strict';
// A read-only user of the editor (Node-RED adminAuth, permissions "read") cannot make the runtime work: the
// OtterScript preview route and the event node's "send test event" route need a write permission. A user
// who may run the preview gets the same work budget as a deployed template: a heavy template is stopped.
// (A real RED.init runtime in a child process, as in test/e2e/history-auth.test.js.)
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, tmpDir } = require('../helpers/nr');
const { startChild, kill9 } = require('../fixtures/history-child');

const bcrypt = require(require.resolve('bcryptjs', { paths: [ROOT] }));

async function token(rt, username, password, scope) {
  const res = await fetch(`${rt.adminUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password }).toString(),
  });
  assert.equal(res.status, 200, `token for ${username}`);
  return (await res.json()).access_token;
}

test('the preview and test-event routes refuse a read-only user; the preview stops a heavy template on its budget', { timeout: 90000 }, async (t) => {
  const userDir = tmpDir('pn-sec-auth-');
  fs.writeFileSync(
    path.join(userDir, 'flows.json'),
    JSON.stringify([
      { id: 'tab1', type: 'tab', label: 'auth' },
      { id: 'ev1', type: 'notifier-event', z: 'tab1', path: '', events: [], auth: 'secret', wires: [['d1']] },
      { id: 'd1', type: 'debug', z: 'tab1', active: false },
    ]),
  );
  const rt = await startChild(userDir, {
    adminAuth: {
      type: 'credentials',
      users: [
        { username: 'admin', password: bcrypt.hashSync('admin-pass', 8), permissions: '*' },
        { username: 'viewer', password: bcrypt.hashSync('viewer-pass', 8), permissions: 'read' },
      ],
    },
  });
  t.after(() => kill9(rt));
  const admin = await token(rt, 'admin', 'admin-pass', '*');
  const viewer = await token(rt, 'viewer', 'viewer-pass', 'read');
  const post = (route, body, bearer) =>
    fetch(`${rt.adminUrl}/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify(body),
    });
  // a template that would take seconds without a budget: 1,000 loops of a 1 MiB $Replace
  const heavy = {
    kind: 'template',
    eventType: 'package.promoted',
    source: '<% foreach $i in @Range(0, 1000) { %>$Replace($PadLeft(x, 1048576, a), a, b)<% } %>',
  };
  const light = { kind: 'template', eventType: 'package.promoted', source: '$PackageId' };

  // the viewer can read (the flows) but neither run a preview nor send a test event
  assert.equal((await fetch(`${rt.adminUrl}/flows`, { headers: { Authorization: `Bearer ${viewer}` } })).status, 200);
  for (const [route, body] of [
    ['notifier-otterscript/preview', heavy],
    ['notifier-otterscript/preview', light],
    ['notifier-event/ev1/test', { eventType: 'package.promoted' }],
  ]) {
    assert.equal((await post(route, body)).status, 401, `anonymous ${route}`);
    const res = await post(route, body, viewer);
    assert.equal(res.status, 401, `read-only ${route}`);
    assert.doesNotMatch(await res.text(), /result|MyCorp/);
  }

  // the admin can; the heavy template stops on the work budget with a clear error
  const ok = await post('notifier-otterscript/preview', light, admin);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { result: 'MyCorp.CoolUtils' });
  const stopped = await post('notifier-otterscript/preview', heavy, admin);
  assert.equal(stopped.status, 200);
  const answer = await stopped.json();
  assert.equal(answer.error?.phase, 'run');
  assert.match(answer.error.message, /more work than allowed/);
  // and the runtime still answers at once
  assert.equal((await post('notifier-otterscript/preview', light, admin)).status, 200);
});
