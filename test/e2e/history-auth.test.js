'use strict';
// The history's admin API behind Node-RED's adminAuth (a real RED.init runtime): a "read" user can read the history
// (Node-RED lets `read` match `notifier-history.read`) but cannot redeliver or clear; anonymous requests are refused;
// a "*" user can do everything. (The runtime runs in a child process: adminAuth's session-expiry timer would keep this
// test process alive after RED.stop.)
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, tmpDir } = require('../helpers/nr');
const { startChild, kill9 } = require('../fixtures/history-child');

const bcrypt = require(require.resolve('bcryptjs', { paths: [ROOT] }));
const NOTIFIER = 'auth-out-1';

function flows() {
  return [
    { id: 'tab1', type: 'tab', label: 'auth' },
    { id: 'in1', type: 'http in', z: 'tab1', url: '/dispatch', method: 'post', upload: false, swaggerDoc: '', wires: [['move1']] },
    { id: 'move1', type: 'change', z: 'tab1', rules: [{ t: 'move', p: 'payload', pt: 'msg', to: 'dispatch', tot: 'msg' }], wires: [['hist1']] },
    { id: 'hist1', type: 'notifier-history', z: 'tab1', name: '', limit: 50, wires: [[]] },
    { id: 'done1', type: 'complete', z: 'tab1', scope: ['hist1'], uncaught: false, wires: [['res1']] },
    { id: 'res1', type: 'http response', z: 'tab1', statusCode: '', headers: {}, wires: [] },
  ];
}

async function token(rt, username, password, scope) {
  const res = await fetch(`${rt.adminUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password }).toString(),
  });
  assert.equal(res.status, 200, `token for ${username}`);
  return (await res.json()).access_token;
}

test('with adminAuth, a read-only user reads the history but cannot redeliver or clear; anonymous is refused', { timeout: 60000 }, async (t) => {
  const userDir = tmpDir('pn-hist-auth-');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows()));
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
  // the flows in the user directory run: the admin can read them, anonymous cannot
  assert.equal((await fetch(`${rt.adminUrl}/flows`)).status, 401);
  assert.equal((await fetch(`${rt.adminUrl}/flows`, { headers: { Authorization: `Bearer ${admin}` } })).status, 200);

  const record = {
    id: 'auth-rec-1',
    notifier: 'Guarded webhook',
    notifierId: NOTIFIER,
    channel: 'webhook',
    eventId: 'e1',
    eventType: 'package.added',
    summary: 'something happened',
    outcome: 'delivered',
    attempts: 1,
    startedAt: new Date().toISOString(),
    durationMs: 1,
    request: { method: 'POST', url: 'http://127.0.0.1:9/x' },
  };
  const kept = await fetch(`${rt.nodeUrl}/dispatch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(record),
  });
  assert.equal(kept.status, 200);

  const as = (bearer) => (bearer ? { Authorization: `Bearer ${bearer}` } : {});
  const call = (method, route, bearer) => fetch(`${rt.adminUrl}/${route}`, { method, headers: as(bearer) });

  // anonymous: refused everywhere
  for (const [method, route] of [
    ['GET', 'notifier-history'],
    ['GET', `notifier-history/${NOTIFIER}`],
    ['POST', `notifier-history/${NOTIFIER}/auth-rec-1/redeliver`],
    ['DELETE', `notifier-history/${NOTIFIER}`],
  ]) {
    assert.equal((await call(method, route)).status, 401, `anonymous ${method} ${route}`);
  }

  // viewer: reads
  const list = await call('GET', 'notifier-history', viewer);
  assert.equal(list.status, 200);
  assert.deepEqual(
    (await list.json()).notifiers.map((n) => n.notifier),
    ['Guarded webhook'],
  );
  const records = await call('GET', `notifier-history/${NOTIFIER}`, viewer);
  assert.equal(records.status, 200);
  assert.deepEqual(
    (await records.json()).records.map((r) => r.id),
    ['auth-rec-1'],
  );
  // ...but cannot redeliver or clear
  assert.equal((await call('POST', `notifier-history/${NOTIFIER}/auth-rec-1/redeliver`, viewer)).status, 401);
  assert.equal((await call('DELETE', `notifier-history/${NOTIFIER}`, viewer)).status, 401);
  assert.equal((await (await call('GET', `notifier-history/${NOTIFIER}`, viewer)).json()).total, 1, 'nothing was cleared');

  // admin: passes the permission check (the output node is not deployed here: 404 from the route itself)
  const redeliver = await call('POST', `notifier-history/${NOTIFIER}/auth-rec-1/redeliver`, admin);
  assert.equal(redeliver.status, 404);
  assert.equal((await redeliver.json()).error, 'Notifier node not deployed');
  const cleared = await call('DELETE', `notifier-history/${NOTIFIER}`, admin);
  assert.equal(cleared.status, 200);
  assert.deepEqual(await cleared.json(), { cleared: NOTIFIER, removed: 1 });
  assert.equal((await call('GET', `notifier-history/${NOTIFIER}`, viewer)).status, 404);
});
