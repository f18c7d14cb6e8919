'use strict';
// Redelivery through the admin route with the real notifier-webhook node and a local receiver: the stored event
// is sent again through the same output node, the receiver gets it again, and the history keeps the result as a
// new record marked as a redelivery (once, though both the route and the history node wired after it see it).
const test = require('node:test');
const assert = require('node:assert/strict');
const { testHelper, nodeModule, tmpDir } = require('../helpers/nr');
const { startReceiver } = require('../helpers/receivers');
const { sampleEvent } = require('../../dist/core/events');

const helper = testHelper();

function flow(url) {
  return [
    { id: 'f1', type: 'tab', label: 'redeliver' },
    {
      id: 'wh',
      type: 'notifier-webhook',
      z: 'f1',
      name: 'Build server hook',
      url,
      method: 'POST',
      headers: 'Authorization: Bearer not-to-be-kept',
      content: '',
      signing: 'none',
      auth: 'none',
      timeout: 5,
      retries: 0,
      rate: 0,
      wires: [['h1']],
    },
    { id: 'h1', type: 'notifier-history', z: 'f1', name: '', limit: 50, wires: [[]] },
    { id: 'done1', type: 'complete', z: 'f1', scope: ['h1'], uncaught: false, wires: [['kept']] },
    { id: 'kept', type: 'helper', z: 'f1', wires: [] },
  ];
}

/** Resolves with the next record the history node finished keeping. */
function nextKept() {
  return new Promise((resolve) => helper.getNode('kept').once('input', (msg) => resolve(msg.dispatch)));
}

test.before(() => helper.startServer());
test.after(() => helper.stopServer());
test.afterEach(() => helper.unload());

test('redeliver through the route sends to the receiver again and adds a record marked as a redelivery', async (t) => {
  helper.settings({ userDir: tmpDir('pn-hist-redeliver-') });
  const rx = await startReceiver();
  t.after(() => rx.close());
  rx.queue({ status: 400, body: 'bad token' }); // the first delivery fails (permanently), the redelivery succeeds
  await helper.load([nodeModule('notifier-webhook'), nodeModule('notifier-history')], flow(rx.url('/hook')));

  const event = sampleEvent('package.promoted');
  const firstKept = nextKept();
  helper.getNode('wh').receive({ event });
  const first = await firstKept;
  assert.equal(first.outcome, 'failed');
  assert.equal(rx.requests.length, 1);

  const listed = await helper.request().get('/notifier-history').expect(200);
  const notifier = listed.body.notifiers.find((n) => n.notifierId === 'wh');
  assert.equal(notifier.notifier, 'Build server hook');
  assert.equal(notifier.lastOutcome, 'failed');
  assert.equal(notifier.redeliverable, true);

  const historyKeepsIt = nextKept();
  const res = await helper.request().post(`/notifier-history/wh/${first.id}/redeliver`).expect(200);
  assert.equal(res.body.record.outcome, 'delivered');
  assert.equal(res.body.record.redeliveryOf, first.id);
  assert.notEqual(res.body.record.id, first.id);
  assert.equal(res.body.record.request.headers.Authorization, '<redacted>');

  assert.equal(rx.requests.length, 2, 'the receiver got the event again');
  assert.equal(rx.requests[1].body, rx.requests[0].body, 'the same content was sent again');
  assert.equal(rx.requests[1].headers.authorization, 'Bearer not-to-be-kept');

  const viaNode = await historyKeepsIt;
  assert.equal(viaNode.id, res.body.record.id, 'the history node wired after the webhook node saw the redelivery too');
  const page = await helper.request().get('/notifier-history/wh').expect(200);
  assert.deepEqual(
    page.body.records.map((r) => [r.id, r.outcome, r.redeliveryOf]),
    [
      [res.body.record.id, 'delivered', first.id],
      [first.id, 'failed', undefined],
    ],
  );
  assert.equal(page.body.summary.lastOutcome, 'delivered');
  assert.ok(!JSON.stringify(page.body).includes('not-to-be-kept'), 'no credential reached the history');
});
