'use strict';
// notifier-teams in Node-RED against a local server answering as a Teams Workflows trigger.
const test = require('node:test');
const assert = require('node:assert/strict');
const { testHelper, nodeModule, ownUserDirPerTest } = require('../helpers/nr');
const { startTeamsReceiver, TEAMS_MAX_BYTES } = require('../helpers/receivers');
const { sampleEvent, EVENT_TYPES } = require('../../dist/core/events');

const helper = testHelper();
const teamsNode = nodeModule('notifier-teams');

function flow(props = {}) {
  return [
    { id: 't1', type: 'notifier-teams', name: 'secops', wires: [['out']], ...props },
    { id: 'out', type: 'helper' },
  ];
}

function collect() {
  const node = helper.getNode('t1');
  const outputs = [];
  const waiters = [];
  helper.getNode('out').on('input', (msg) => {
    outputs.push(msg);
    const w = waiters.shift();
    if (w) w(msg);
  });
  let taken = 0;
  return {
    node,
    send: (msg) => node.receive(msg),
    next: () => (outputs.length > taken ? Promise.resolve(outputs[taken++]) : new Promise((r) => waiters.push((m) => (taken++, r(m))))),
  };
}

const workflowUrl = (rx) =>
  rx.url('/workflows/0f1e2d3c/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=T3amsS1gnatureSecret');

test.before(() => new Promise((r) => helper.startServer(r)));
test.after(() => new Promise((r) => helper.stopServer(r)));
ownUserDirPerTest(test);
test.afterEach(() => helper.unload());

test('202 (empty) from Workflows counts as delivered, for every event type; the sig is redacted', async () => {
  const rx = await startTeamsReceiver();
  try {
    await helper.load(teamsNode, flow(), { t1: { url: workflowUrl(rx) } });
    const h = collect();
    for (const { code } of EVENT_TYPES) {
      h.send({ event: sampleEvent(code) });
      const { dispatch } = await h.next();
      assert.equal(dispatch.outcome, 'delivered', code);
      assert.equal(dispatch.response.status, 202);
      assert.equal(dispatch.attempts, 1);
      assert.match(dispatch.request.url, /sig=<redacted>/);
      assert.ok(!JSON.stringify(dispatch).includes('T3amsS1gnatureSecret'));
    }
    const body = JSON.parse(rx.requests[0].body);
    assert.equal(body.type, 'message');
    assert.equal(body.attachments[0].content.version, '1.4');
  } finally {
    await rx.close();
  }
});

test('a 40 KB card is cut to 28 KB or less and accepted (the receiver refuses more with 413)', async () => {
  const rx = await startTeamsReceiver();
  try {
    await helper.load(teamsNode, flow({ text: '$VulnerabilitySummary' }), { t1: { url: workflowUrl(rx) } });
    const h = collect();
    const ev = sampleEvent('sca.new-vulnerability');
    ev.vars.VulnerabilitySummary = 'Long summary. '.repeat(3000);
    ev.vars.AffectedPackages = Array.from({ length: 200 }, (_, i) => ({ Name: `nuget:Package.Number${i}`, AffectedVersions: '< 13.0.1' }));
    h.send({ event: ev });
    const { dispatch } = await h.next();
    assert.equal(dispatch.outcome, 'delivered');
    const size = Buffer.byteLength(rx.requests[0].body);
    assert.ok(size <= TEAMS_MAX_BYTES, `${size} bytes`);
    assert.match(rx.requests[0].body, /… \(truncated\)/);
  } finally {
    await rx.close();
  }
});

test('format messagecard sends a MessageCard (old connectors answer 200 "1")', async () => {
  const rx = await startTeamsReceiver({ acceptMessageCard: true, status: 200, body: '1' });
  try {
    await helper.load(teamsNode, flow({ format: 'messagecard' }), { t1: { url: rx.url('/webhookb2/abc/IncomingWebhook/def') } });
    const h = collect();
    h.send({ event: sampleEvent('package.promoted') });
    const { dispatch } = await h.next();
    assert.equal(dispatch.outcome, 'delivered');
    assert.equal(JSON.parse(rx.requests[0].body)['@type'], 'MessageCard');
  } finally {
    await rx.close();
  }
});

test('a refused payload (400) fails at once as permanent', async () => {
  const rx = await startTeamsReceiver();
  try {
    // the adaptive envelope sent to a server that accepts only the legacy card
    rx.answer({ status: 400, body: { error: { code: 'InvalidTemplate', message: "'attachments' is of type 'Null'" } } });
    await helper.load(teamsNode, flow(), { t1: { url: workflowUrl(rx) } });
    const h = collect();
    h.send({ event: sampleEvent('package.added') });
    const { dispatch } = await h.next();
    assert.equal(dispatch.outcome, 'failed');
    assert.equal(dispatch.attempts, 1);
    assert.equal(dispatch.error.code, 'http_400');
    assert.match(dispatch.response.body, /attachments/);
  } finally {
    await rx.close();
  }
});
