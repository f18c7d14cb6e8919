'use strict';
// notifier-webhook in Node-RED (4.1, or 5 with NR_RUNTIME=5) against a real receiver on 127.0.0.1.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Webhook } = require('standardwebhooks');
const { testHelper, nodeModule } = require('../helpers/nr');
const { startReceiver } = require('../helpers/receivers');
const { sampleEvent, EVENT_TYPES, eventTypeInfo } = require('../../dist/core/events');
const { githubSignature } = require('../../dist/core/channels/webhook');

const helper = testHelper();
const webhookNode = nodeModule('notifier-webhook');

/** The seed's "Example Output" for each default body, for the sample events. */
function progetExample(code) {
  const info = eventTypeInfo(code);
  if (info.category === 'package') {
    return { package: 'MyCorp.CoolUtils', version: '3.2.0-pre.1', event: info.shortLabel, user: 'API', feed: 'internal-utils' };
  }
  switch (code) {
    case 'sca.noncompliant-package':
      return {
        package: 'MyCorp.CoolUtils',
        version: '3.2.0-pre.1',
        result: 'Noncompliant',
        details: 'Vulnerability (PGV-2358804); Package is Unlisted',
        feed: 'internal-utils',
      };
    case 'sca.new-vulnerability':
      return {
        packages: [{ Name: 'nuget:Newtonsoft.Json', AffectedVersions: '< 13.0.1.' }],
        vulnerabilityId: 'PGV-2245804',
        summary: 'Improper Handling of Exceptional Conditions in Newtonsoft.Json',
        severity: 'High',
        score: '7.5',
      };
    default:
      return {
        issues: [
          { Sequence: '1', Detail: 'Noncompliant package (PGV-892418)' },
          { Sequence: '4', Detail: 'Noncompliant package (MIT License)' },
        ],
        buildNumber: '25.4.2',
        releaseNumber: 'v25-Q4',
        projectName: 'XAPUtil.Web',
      };
  }
}

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
