'use strict';
// notifier-history under node-red-node-test-helper (NR 4.1, or NR 5 with NR_RUNTIME=5): keeping, querying,
// limits, redeploys, errors, and the admin API (auth is a pass-through here; see the e2e test for permissions).
const test = require('node:test');
const assert = require('node:assert/strict');
const { testHelper, nodeModule, tmpDir } = require('../helpers/nr');
const { sampleEvent } = require('../../dist/core/events');

const helper = testHelper();
const historyNode = nodeModule('notifier-history');

/** A stand-in output node: records a delivery and, like the real ones, can redeliver (and sends the result). */
function fakeNotifierModule(RED) {
  function FakeNotifier(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.redeliveries = [];
    node.redeliver = async (event, options) => {
      node.redeliveries.push({ event, options });
      const dispatch = makeRecord(node.id, { notifier: config.name || node.id, redeliveryOf: options.redeliveryOf, eventId: event.id });
      node.send({ dispatch, event });
      return dispatch;
    };
  }
  RED.nodes.registerType('fake-notifier', FakeNotifier);
}

let seq = 0;
function makeRecord(notifierId, overrides = {}) {
  seq++;
  return {
    id: `r${seq}`,
    notifier: notifierId === 'out1' ? 'Webhook A' : notifierId,
    notifierId,
    channel: 'webhook',
    eventId: `e${seq}`,
    eventType: 'package.added',
    feed: 'internal-utils',
    summary: `MyCorp.CoolUtils ${seq} Added`,
    outcome: 'delivered',
    attempts: 1,
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, seq)).toISOString(),
    durationMs: 5,
    request: { method: 'POST', url: 'http://127.0.0.1:1/hook', headers: { Authorization: 'Bearer zzz' }, body: '{}' },
    response: { status: 200, body: 'ok' },
    ...overrides,
  };
}

function flow(limit = 50, extra = []) {
  return [
    { id: 'f1', type: 'tab', label: 'history' },
    { id: 'h1', type: 'notifier-history', z: 'f1', name: '', limit, wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1', wires: [] },
    { id: 'done1', type: 'complete', z: 'f1', scope: ['h1'], wires: [['completed']] },
    { id: 'completed', type: 'helper', z: 'f1', wires: [] },
    { id: 'catch1', type: 'catch', z: 'f1', scope: ['h1'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1', wires: [] },
    ...extra,
  ];
}

/** Sends `msgs` to h1 one by one, each after the previous one completed (done() = on disk). */
async function dispatchAll(msgs) {
  const h1 = helper.getNode('h1');
  const completed = helper.getNode('completed');
  for (const msg of msgs) {
    const finished = new Promise((resolve) => completed.once('input', resolve));
    h1.receive(msg);
    await finished;
  }
}

function nextMessage(nodeId) {
  return new Promise((resolve) => helper.getNode(nodeId).once('input', resolve));
}

async function query(extra = {}) {
  const got = nextMessage('out');
  helper.getNode('h1').receive({ topic: 'history', ...extra });
  return got;
}

let userDir;
test.beforeEach(() => {
  userDir = tmpDir('pn-hist-node-');
  helper.settings({ userDir });
});
test.afterEach(async () => {
  await helper.unload();
});
test.before(() => helper.startServer());
test.after(() => helper.stopServer());

test('60 dispatches to one notifier keep exactly the latest 50, sent back newest first on a "history" query', async () => {
  await helper.load(historyNode, flow());
  const records = Array.from({ length: 60 }, () => makeRecord('out1'));
  await dispatchAll(records.map((dispatch) => ({ dispatch, event: sampleEvent('package.added') })));
  const msg = await query({ notifier: 'Webhook A' });
  assert.deepEqual(
    msg.payload.map((r) => r.id),
    records
      .slice(10)
      .map((r) => r.id)
      .reverse(),
  );
  assert.equal(msg.payload[0].request.headers.Authorization, '<redacted>');
  assert.equal(msg.payload[0].event.type, 'package.added');
  const byId = await query({ notifier: 'out1' });
  assert.equal(byId.payload.length, 50);
});

test('two notifiers stay apart; a query without msg.notifier sends one summary per notifier', async () => {
  await helper.load(historyNode, flow());
  const msgs = [];
  for (let i = 0; i < 6; i++) {
    msgs.push({ dispatch: makeRecord('out1') });
    msgs.push({
      dispatch: makeRecord('out2', {
        notifier: 'Slack B',
        channel: 'slack',
        outcome: 'failed',
        error: { code: 'http_500', message: 'boom', permanent: false },
      }),
    });
  }
  await dispatchAll(msgs);
  const a = await query({ notifier: 'Webhook A' });
  const b = await query({ notifier: 'Slack B' });
  assert.equal(a.payload.length, 6);
  assert.equal(b.payload.length, 6);
  assert.ok(a.payload.every((r) => r.notifierId === 'out1'));
  assert.ok(b.payload.every((r) => r.notifierId === 'out2' && r.outcome === 'failed'));
  const all = await query();
  const summary = Object.fromEntries(all.payload.map((s) => [s.notifier, s]));
  assert.deepEqual(Object.keys(summary).sort(), ['Slack B', 'Webhook A']);
  assert.equal(summary['Slack B'].lastOutcome, 'failed');
  assert.equal(summary['Slack B'].lastError, 'boom');
  assert.equal(summary['Slack B'].channel, 'slack');
  assert.equal(summary['Webhook A'].kept, 6);
  const failing = await query({ outcome: 'failed' });
  assert.deepEqual(
    failing.payload.map((s) => s.notifier),
    ['Slack B'],
  );
  const none = await query({ notifier: 'never dispatched' });
  assert.deepEqual(none.payload, []);
});

test('a lower limit after a redeploy trims the notifiers of that node; a higher one lets them grow; the history survives redeploys', async () => {
  await helper.load(historyNode, flow(50));
  const records = Array.from({ length: 30 }, () => makeRecord('out1'));
  await dispatchAll(records.map((dispatch) => ({ dispatch })));
  await helper.unload();

  await helper.load(historyNode, flow('10'));
  const trimmed = await query({ notifier: 'out1' });
  assert.deepEqual(
    trimmed.payload.map((r) => r.id),
    records
      .slice(20)
      .map((r) => r.id)
      .reverse(),
  );
  await helper.unload();

  await helper.load(historyNode, flow(12));
  const more = Array.from({ length: 5 }, () => makeRecord('out1'));
  await dispatchAll(more.map((dispatch) => ({ dispatch })));
  const grown = await query({ notifier: 'out1' });
  assert.equal(grown.payload.length, 12);
  assert.equal(grown.payload[0].id, more[4].id);
});

test('done() comes after the record is kept: a query right after completion sees it, and the status counts it', async () => {
  await helper.load(historyNode, flow());
  const h1 = helper.getNode('h1');
  const statuses = [];
  h1.on('call:status', (call) => statuses.push(call.args[0]));
  const r = makeRecord('out1', { outcome: 'failed', error: { code: 'http_404', message: 'gone', permanent: true } });
  await dispatchAll([{ dispatch: r }]);
  const msg = await query({ notifier: 'out1' });
  assert.equal(msg.payload[0].id, r.id);
  // the status is updated at most every 250 ms (it is throttled under bursts): wait for it
  for (let i = 0; i < 100 && statuses[statuses.length - 1]?.fill !== 'red'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  const last = statuses[statuses.length - 1];
  assert.equal(last.fill, 'red');
  assert.equal(last.text, 'notifier-history.status.lastFailed');
});

test('a message with neither msg.dispatch nor topic "history" fails with a clear error (to Catch nodes)', async () => {
  await helper.load(historyNode, flow());
  const caught = nextMessage('caught');
  helper.getNode('h1').receive({ payload: 'hello' });
  const msg = await caught;
  assert.match(msg.error.message, /neither msg\.dispatch .* nor msg\.topic "history"/);
});

test('an invalid msg.dispatch fails with an error naming the problem, and nothing is kept', async () => {
  await helper.load(historyNode, flow());
  const caught = nextMessage('caught');
  helper.getNode('h1').receive({ dispatch: { id: 'x', outcome: 'delivered' } });
  const msg = await caught;
  assert.match(msg.error.message, /notifier-history: Invalid msg\.dispatch: msg\.dispatch\.notifierId must be a non-empty string/);
  const all = await query();
  assert.deepEqual(all.payload, []);
});

test('bad query parameters fail with clear errors', async () => {
  await helper.load(historyNode, flow());
  let caught = nextMessage('caught');
  helper.getNode('h1').receive({ topic: 'history', notifier: 42 });
  assert.match((await caught).error.message, /msg\.notifier must be the name or id of a notifier/);
  caught = nextMessage('caught');
  helper.getNode('h1').receive({ topic: 'history', outcome: 'nope' });
  assert.match((await caught).error.message, /msg\.outcome must be "delivered" or "failed"/);
});

test('an invalid limit is reported and the default of 50 is used', async () => {
  await helper.load(historyNode, flow('lots'));
  const h1 = helper.getNode('h1');
  assert.ok(h1.error.calledWithMatch(/limit must be an integer from 1 to 10000, got "lots"; keeping 50/));
  await dispatchAll(Array.from({ length: 55 }, () => ({ dispatch: makeRecord('out1') })));
  assert.equal((await query({ notifier: 'out1' })).payload.length, 50);
});

test('removing the node keeps its data (it is back when a history node is deployed again)', async () => {
  await helper.load(historyNode, flow());
  await dispatchAll([{ dispatch: makeRecord('out1') }]);
  await helper.unload();
  await helper.load(historyNode, [{ id: 'f1', type: 'tab' }]);
  const res = await helper.request().get('/notifier-history').expect(200);
  assert.equal(res.body.notifiers.length, 1);
  await helper.unload();
  await helper.load(historyNode, flow());
  assert.equal((await query({ notifier: 'out1' })).payload.length, 1);
});

test('every kept record is announced to editors on RED.comms (notifier-history/update)', async () => {
  await helper.load(historyNode, flow());
  const published = [];
  const onComms = (m) => published.push(m);
  helper._events.on('comms', onComms);
  try {
    const r = makeRecord('out1');
    await dispatchAll([{ dispatch: r }]);
    const update = published.find((m) => m.topic === 'notifier-history/update');
    assert.ok(update, 'an update was published');
    assert.equal(update.data.action, 'kept');
    assert.equal(update.data.recordId, r.id);
    assert.equal(update.data.notifierId, 'out1');
  } finally {
    helper._events.off('comms', onComms);
  }
});

test('admin API: notifiers, paged records, bad paging, unknown notifier, clear', async () => {
  await helper.load(historyNode, flow());
  const records = Array.from({ length: 8 }, () => makeRecord('out1'));
  await dispatchAll(records.map((dispatch) => ({ dispatch, event: sampleEvent('package.added') })));
  const list = await helper.request().get('/notifier-history').expect(200);
  assert.equal(list.body.notifiers.length, 1);
  const n = list.body.notifiers[0];
  assert.equal(n.notifier, 'Webhook A');
  assert.equal(n.notifierId, 'out1');
  assert.equal(n.channel, 'webhook');
  assert.equal(n.lastRun, records[7].startedAt);
  assert.equal(n.lastOutcome, 'delivered');
  assert.equal(n.kept, 8);
  assert.equal(n.deployed, false);

  const page = await helper.request().get('/notifier-history/out1?offset=2&limit=3').expect(200);
  assert.deepEqual(
    page.body.records.map((r) => r.id),
    [records[5].id, records[4].id, records[3].id],
  );
  assert.equal(page.body.total, 8);
  assert.equal(page.body.records[0].hasEvent, true);
  assert.equal(page.body.records[0].event, undefined);

  const bad = await helper.request().get('/notifier-history/out1?limit=-1').expect(400);
  assert.match(bad.body.error, /paging/i);
  assert.match(bad.body.details, /limit must be a non-negative integer/);
  const tooMany = await helper.request().get('/notifier-history/out1?limit=5000').expect(400);
  assert.match(tooMany.body.details, /at most 1000/);
  const unknown = await helper.request().get('/notifier-history/nope').expect(404);
  assert.equal(unknown.body.error, 'Notifier not found');

  const cleared = await helper.request().delete('/notifier-history/out1').expect(200);
  assert.equal(cleared.body.removed, 8);
  await helper.request().get('/notifier-history/out1').expect(404);
  await helper.request().delete('/notifier-history/out1').expect(404);
  assert.deepEqual((await helper.request().get('/notifier-history').expect(200)).body.notifiers, []);
});

test('admin API redeliver: through the same output node, the result kept as a new record marked as a redelivery', async () => {
  const extra = [{ id: 'out9', type: 'fake-notifier', z: 'f1', name: 'Fake', wires: [['h1']] }];
  await helper.load([historyNode, fakeNotifierModule], flow(50, extra));
  const event = sampleEvent('package.promoted');
  const original = makeRecord('out9', { notifier: 'Fake', outcome: 'failed', eventId: event.id });
  await dispatchAll([{ dispatch: original, event }]);

  const listed = await helper.request().get('/notifier-history').expect(200);
  assert.equal(listed.body.notifiers[0].redeliverable, true);

  const res = await helper.request().post(`/notifier-history/out9/${original.id}/redeliver`).expect(200);
  const fake = helper.getNode('out9');
  assert.equal(fake.redeliveries.length, 1);
  assert.deepEqual(fake.redeliveries[0].options, { redeliveryOf: original.id });
  assert.equal(fake.redeliveries[0].event.id, event.id);
  assert.equal(res.body.record.redeliveryOf, original.id);
  assert.notEqual(res.body.record.id, original.id);

  // kept once, although both the route and the history node wired after the output node saw it
  const completed = helper.getNode('completed');
  const page = await helper.request().get('/notifier-history/out9').expect(200);
  if (page.body.total < 2) await new Promise((resolve) => completed.once('input', resolve));
  const after = await helper.request().get('/notifier-history/out9').expect(200);
  assert.equal(after.body.total, 2);
  assert.equal(after.body.records[0].redeliveryOf, original.id);
  assert.equal(after.body.records[0].id, res.body.record.id);
});

test('admin API redeliver errors: unknown record or node 404, a node that cannot redeliver or a record without event 409', async () => {
  await helper.load(historyNode, flow());
  await dispatchAll([
    { dispatch: makeRecord('out', { notifier: 'helper node' }), event: sampleEvent('package.added') },
    { dispatch: makeRecord('gone', { id: 'g1' }), event: sampleEvent('package.added') },
    { dispatch: makeRecord('out', { id: 'noevent' }) },
  ]);
  const noRecord = await helper.request().post('/notifier-history/out/nope/redeliver').expect(404);
  assert.equal(noRecord.body.error, 'Record not found');
  const noNotifier = await helper.request().post('/notifier-history/nobody/x/redeliver').expect(404);
  assert.equal(noNotifier.body.error, 'Notifier not found');
  const notDeployed = await helper.request().post('/notifier-history/gone/g1/redeliver').expect(404);
  assert.equal(notDeployed.body.error, 'Notifier node not deployed');
  const list = await helper.request().get('/notifier-history/out').expect(200);
  const withEvent = list.body.records.find((r) => r.hasEvent);
  const cannot = await helper.request().post(`/notifier-history/out/${withEvent.id}/redeliver`).expect(409);
  assert.equal(cannot.body.error, 'This node cannot redeliver');
  assert.match(cannot.body.details, /type helper/);
  // a redeliverable node, but a record kept without its event
  helper.getNode('out').redeliver = async () => assert.fail('must not be called');
  const noEvent = await helper.request().post('/notifier-history/out/noevent/redeliver').expect(409);
  assert.equal(noEvent.body.error, 'The record has no event to redeliver');
  // a node that refuses the event
  helper.getNode('out').redeliver = async () => {
    throw new Error('msg.event is not a valid event: vars.PackageId is missing');
  };
  const refused = await helper.request().post(`/notifier-history/out/${withEvent.id}/redeliver`).expect(409);
  assert.equal(refused.body.error, 'The node could not redeliver this record');
  assert.equal(refused.body.details, 'msg.event is not a valid event: vars.PackageId is missing');
});

test('admin routes are registered once per runtime, each behind its notifier-history permission', () => {
  const { registerAdminRoutes } = require('../../dist/nodes/shared/history-admin');
  const routes = [];
  const app = {};
  for (const method of ['get', 'post', 'delete', 'put', 'use']) {
    app[method] = (route, permission) => routes.push({ method, route, permission: permission.permission });
  }
  const RED = {
    httpAdmin: app,
    auth: { needsPermission: (permission) => Object.assign(() => undefined, { permission }) },
    nodes: { getNode: () => null },
    settings: { userDir },
  };
  registerAdminRoutes(RED);
  registerAdminRoutes(RED);
  assert.deepEqual(routes, [
    { method: 'get', route: '/notifier-history', permission: 'notifier-history.read' },
    { method: 'get', route: '/notifier-history/:notifierId', permission: 'notifier-history.read' },
    { method: 'post', route: '/notifier-history/:notifierId/:recordId/redeliver', permission: 'notifier-history.write' },
    { method: 'delete', route: '/notifier-history/:notifierId', permission: 'notifier-history.write' },
  ]);
});
