'use strict';
// notifier-webhook in Node-RED (4.1, or 5 with NR_RUNTIME=5) against a real receiver on 127.0.0.1.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Webhook } = require('standardwebhooks');
const { testHelper, nodeModule, ownUserDirPerTest } = require('../helpers/nr');
const { startReceiver } = require('../helpers/receivers');
const { progetExample } = require('../helpers/seed');
const { sampleEvent, EVENT_TYPES } = require('../../dist/core/events');
const { githubSignature } = require('../../dist/core/channels/webhook');

const helper = testHelper();
const webhookNode = nodeModule('notifier-webhook');

function flow(props = {}) {
  return [
    { id: 'w1', type: 'notifier-webhook', name: 'hook', wires: [['out']], ...props },
    { id: 'out', type: 'helper' },
  ];
}

/** Sends msgs into w1 and collects what comes out and what done(err) reports. */
function harness() {
  const w1 = helper.getNode('w1');
  const out = helper.getNode('out');
  const outputs = [];
  const errors = [];
  const waiters = [];
  out.on('input', (msg) => {
    outputs.push(msg);
    const w = waiters.shift();
    if (w) w(msg);
  });
  w1.on('call:error', (call) => errors.push(call.args[0]));
  return {
    node: w1,
    outputs,
    errors,
    send(msg) {
      w1.receive(msg);
    },
    next() {
      if (outputs.length > (this._i ?? 0)) return Promise.resolve(outputs[(this._i = (this._i ?? 0) + 1) - 1]);
      return new Promise((r) => waiters.push((m) => ((this._i = (this._i ?? 0) + 1), r(m))));
    },
  };
}

test.before(() => new Promise((r) => helper.startServer(r)));
test.after(() => new Promise((r) => helper.stopServer(r)));
ownUserDirPerTest(test);
test.afterEach(() => helper.unload());

test('default body of every event type equals ProGet default content (deep-equal JSON), POST with Content-Type: application/json', async () => {
  const rx = await startReceiver();
  try {
    await helper.load(webhookNode, flow({ url: rx.url('/proget') }));
    const h = harness();
    for (const { code } of EVENT_TYPES) {
      h.send({ event: sampleEvent(code) });
      const req = await rx.next();
      assert.equal(req.method, 'POST');
      assert.equal(req.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(req.body), progetExample(code), code);
      const msg = await h.next();
      assert.equal(msg.dispatch.outcome, 'delivered', code);
      assert.equal(msg.event.type, code, 'msg.event is kept');
    }
  } finally {
    await rx.close();
  }
});

test('msg.dispatch records what was sent and what came back; notifier is the node name', async () => {
  const rx = await startReceiver({ answer: { status: 201, body: 'created', headers: { 'X-Answer': 'yes' } } });
  try {
    await helper.load(webhookNode, flow({ url: rx.url('/r') }));
    const h = harness();
    const event = sampleEvent('package.promoted');
    h.send({ event });
    const { dispatch } = await h.next();
    assert.equal(dispatch.notifier, 'hook');
    assert.equal(dispatch.notifierId, 'w1');
    assert.equal(dispatch.channel, 'webhook');
    assert.equal(dispatch.eventId, event.id);
    assert.equal(dispatch.eventType, 'package.promoted');
    assert.equal(dispatch.feed, 'internal-utils');
    assert.equal(dispatch.summary, 'MyCorp.CoolUtils 3.2.0-pre.1 Promoted on internal-utils by API');
    assert.equal(dispatch.outcome, 'delivered');
    assert.equal(dispatch.attempts, 1);
    assert.equal(dispatch.request.method, 'POST');
    assert.equal(dispatch.request.url, rx.url('/r'));
    assert.deepEqual(JSON.parse(dispatch.request.body).package, 'MyCorp.CoolUtils');
    assert.equal(dispatch.response.status, 201);
    assert.equal(dispatch.response.body, 'created');
    assert.equal(dispatch.response.headers['x-answer'], 'yes');
    assert.equal(dispatch.attemptLog.length, 1);
    assert.ok(!Number.isNaN(Date.parse(dispatch.startedAt)));
  } finally {
    await rx.close();
  }
});

test('standard signing with the secret from the credentials verifies with the standardwebhooks library', async () => {
  const secret = 'whsec_' + Buffer.from('a-very-random-32-byte-secret-key').toString('base64');
  const rx = await startReceiver();
  try {
    await helper.load(webhookNode, flow({ url: rx.url(), signing: 'standard' }), { w1: { secret } });
    const h = harness();
    h.send({ event: sampleEvent('package.deployed') });
    const req = await rx.next();
    const payload = new Webhook(secret).verify(req.body, req.headers);
    assert.equal(payload.event, 'Deployed');
    const { dispatch } = await h.next();
    assert.equal(dispatch.outcome, 'delivered');
    assert.ok(!JSON.stringify(dispatch).includes(secret.slice(6)), 'the secret is not in the record');
  } finally {
    await rx.close();
  }
});

test('github signing with the secret from the credentials', async () => {
  const rx = await startReceiver();
  try {
    await helper.load(webhookNode, flow({ url: rx.url(), signing: 'github' }), { w1: { secret: 'gh-secret-value' } });
    harness().send({ event: sampleEvent('package.added') });
    const req = await rx.next();
    assert.equal(req.headers['x-hub-signature-256'], githubSignature('gh-secret-value', req.body));
  } finally {
    await rx.close();
  }
});

test('header injection is refused at deploy: config error in status and log; every message then fails as config, nothing sent', async () => {
  const rx = await startReceiver();
  try {
    await helper.load(webhookNode, flow({ url: rx.url(), headers: 'X-Ok: 1\nX-Evil: a`r`nX-Injected: yes' }));
    const h = harness();
    const statuses = h.node.status.args.map((a) => a[0]);
    assert.deepEqual(statuses.at(-1), { fill: 'red', shape: 'ring', text: 'config error' });
    const logged = h.node.error.args.map((a) => String(a[0]));
    assert.ok(
      logged.some((m) => /misconfigured: headers line 2: the escapes `r and `n would put a line break in header X-Evil/.test(m)),
      logged.join('\n'),
    );
    h.send({ event: sampleEvent('package.added') });
    const { dispatch } = await h.next();
    assert.equal(dispatch.outcome, 'failed');
    assert.equal(dispatch.error.code, 'config');
    assert.equal(dispatch.attempts, 0);
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(
      h.errors.some((e) => e instanceof Error && /config/.test(e.message)),
      'done(err) reached the runtime',
    );
    assert.equal(rx.requests.length, 0);
  } finally {
    await rx.close();
  }
});

test('a message without msg.event, or with an invalid one, fails with a clear error and sends nothing', async () => {
  const rx = await startReceiver();
  try {
    await helper.load(webhookNode, flow({ url: rx.url() }));
    const h = harness();
    h.send({ payload: { package: 'x' } });
    h.send({ event: { type: 'package.nope', vars: {} } });
    h.send({ event: 'package.added' });
    await new Promise((r) => setTimeout(r, 50));
    const messages = h.errors.map((e) => e.message);
    assert.match(messages[0], /notifier-webhook: msg\.event is missing\. .*wire a notifier-event node/);
    assert.match(messages[1], /notifier-webhook: msg\.event is not a valid event: .*unknown event type "package\.nope"/);
    assert.match(messages[2], /msg\.event must be an event object, got string/);
    assert.equal(h.outputs.length, 0);
    assert.equal(rx.requests.length, 0);
  } finally {
    await rx.close();
  }
});

test('a failed dispatch sends msg.dispatch and calls done(err) with the record (for Catch nodes)', async () => {
  const rx = await startReceiver({ answer: { status: 404, body: 'no such hook' } });
  try {
    await helper.load(webhookNode, flow({ url: rx.url() }));
    const h = harness();
    h.send({ event: sampleEvent('package.added'), _custom: 7 });
    const msg = await h.next();
    assert.equal(msg._custom, 7, 'the message is passed on');
    assert.equal(msg.dispatch.outcome, 'failed');
    assert.deepEqual(msg.dispatch.error, { code: 'http_404', message: 'HTTP 404 Not Found', permanent: true });
    await new Promise((r) => setTimeout(r, 20));
    const err = h.errors.find((e) => e && e.name === 'DispatchFailedError');
    assert.ok(err, 'done(err)');
    assert.equal(err.message, 'HTTP 404 Not Found [http_404]');
    assert.equal(err.record.id, msg.dispatch.id);
    const statuses = h.node.status.args.map((a) => a[0].text);
    assert.equal(statuses.at(-1), 'failed: 404');
    assert.ok(statuses.every((t) => t === undefined || t.length < 20));
  } finally {
    await rx.close();
  }
});

test('redeliver(event, { redeliveryOf }) dispatches again, sends the msg on the output and resolves with the record', async () => {
  const rx = await startReceiver();
  try {
    await helper.load(webhookNode, flow({ url: rx.url() }));
    const h = harness();
    const event = sampleEvent('sca.noncompliant-package');
    const record = await h.node.redeliver(event, { redeliveryOf: 'rec-1' });
    assert.equal(record.outcome, 'delivered');
    assert.equal(record.redeliveryOf, 'rec-1');
    assert.equal(record.eventId, event.id);
    const msg = await h.next();
    assert.deepEqual(msg.dispatch, record);
    assert.equal(msg.event.id, event.id);
    assert.equal(msg.topic, 'sca.noncompliant-package');
    assert.equal(JSON.parse((await rx.next()).body).result, 'Noncompliant');
    await assert.rejects(h.node.redeliver({ type: 'bogus' }, { redeliveryOf: 'x' }), /msg\.event is not a valid event/);
  } finally {
    await rx.close();
  }
});

test('status shows queued and sending while a slow receiver works, then the last result', async () => {
  const rx = await startReceiver({ answer: { status: 200, delayMs: 400 } });
  try {
    await helper.load(webhookNode, flow({ url: rx.url(), rate: 0 }));
    const h = harness();
    for (let i = 0; i < 6; i++) h.send({ event: sampleEvent('package.added') });
    for (let i = 0; i < 6; i++) await h.next();
    await new Promise((r) => setTimeout(r, 20));
    const texts = h.node.status.args.map((a) => a[0].text).filter(Boolean);
    assert.ok(
      texts.some((t) => /^sending, \d+ queued$/.test(t)),
      texts.join(' | '),
    );
    assert.equal(texts.at(-1), 'delivered 200');
  } finally {
    await rx.close();
  }
});

test('removing the node ends retries and rate waits: what it held is recorded as removed, no timer left behind', async () => {
  const rx = await startReceiver({ answer: { status: 503 } });
  try {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await helper.load(webhookNode, flow({ url: rx.url(), rate: '0.1' }));
    const baseline = timers();
    const h = harness();
    for (let i = 0; i < 3; i++) h.send({ event: sampleEvent('package.added'), i });
    await rx.next(); // the first attempt was answered 503: a retry is now scheduled, the others wait for the rate limit
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(timers() > baseline, 'retry and rate-limit timers are pending');
    const warned = new Promise((resolve) => h.node.on('call:warn', (call) => resolve(String(call.args[0]))));
    await helper.setFlows([{ id: 'out', type: 'helper' }], 'full'); // a deploy without the node: it is removed
    assert.match(await warned, /removed with 3 dispatch\(es\) not sent: they are recorded as failed \(removed\)/);
    assert.equal(h.errors.filter((e) => e && e.record).length, 0, 'nothing failed while the node ran');
    assert.equal(rx.requests.length, 1, 'nothing was sent after the node stopped');
    assert.ok(timers() <= baseline, `timers left: ${timers()} (baseline ${baseline})`);
  } finally {
    await rx.close();
  }
});
