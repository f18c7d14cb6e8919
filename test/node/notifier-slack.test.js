'use strict';
// notifier-slack in Node-RED against a local server answering as Slack's incoming webhooks.
const test = require('node:test');
const assert = require('node:assert/strict');
const { testHelper, nodeModule, ownUserDirPerTest } = require('../helpers/nr');
const { startSlackReceiver, slackPayloadError } = require('../helpers/receivers');
const { sampleEvent, EVENT_TYPES } = require('../../dist/core/events');

const helper = testHelper();
const slackNode = nodeModule('notifier-slack');

function flow(props = {}) {
  return [
    { id: 's1', type: 'notifier-slack', name: 'alerts', wires: [['out']], ...props },
    { id: 'out', type: 'helper' },
  ];
}

function collect() {
  const node = helper.getNode('s1');
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
    outputs,
    send: (msg) => node.receive(msg),
    next: () => (outputs.length > taken ? Promise.resolve(outputs[taken++]) : new Promise((r) => waiters.push((m) => (taken++, r(m))))),
  };
}

test.before(() => new Promise((r) => helper.startServer(r)));
test.after(() => new Promise((r) => helper.stopServer(r)));
ownUserDirPerTest(test);
test.afterEach(() => helper.unload());

test('ok is delivered; every default message passes Slack validation; the token is redacted in the record', async () => {
  const rx = await startSlackReceiver();
  try {
    await helper.load(slackNode, flow(), { s1: { url: rx.webhookUrl } });
    const h = collect();
    for (const { code } of EVENT_TYPES.slice(6)) {
      h.send({ event: sampleEvent(code) });
      const { dispatch } = await h.next();
      assert.equal(dispatch.outcome, 'delivered', code);
      assert.equal(dispatch.channel, 'slack');
      assert.equal(dispatch.notifier, 'alerts');
      assert.equal(dispatch.response.body, 'ok');
      assert.equal(dispatch.request.url, `${rx.base}/services/T0TESTTEAM/B0TESTBOT/<redacted>`);
      assert.ok(!JSON.stringify(dispatch).includes('sl4ckT0kenS3cretValue'));
    }
    for (const req of rx.requests) assert.equal(slackPayloadError(req.body), undefined);
  } finally {
    await rx.close();
  }
});

test('invalid_payload and no_service fail at once as permanent; nothing retried', async () => {
  const rx = await startSlackReceiver();
  try {
    await helper.load(slackNode, flow(), { s1: { url: rx.webhookUrl } });
    const h = collect();
    rx.slack.queue('invalid_payload', 'no_service', 'channel_is_archived');
    for (const code of ['invalid_payload', 'no_service', 'channel_is_archived']) {
      h.send({ event: sampleEvent('package.added') });
      const { dispatch } = await h.next();
      assert.equal(dispatch.outcome, 'failed');
      assert.equal(dispatch.attempts, 1, code);
      assert.equal(dispatch.error.code, `slack_${code}`);
      assert.equal(dispatch.error.permanent, true);
      assert.equal(dispatch.response.body, code);
    }
    assert.equal(rx.requests.length, 3);
    const statuses = h.node.status.args.map((a) => a[0].text).filter(Boolean);
    assert.equal(statuses.at(-1), 'failed: channel_is…');
  } finally {
    await rx.close();
  }
});

test('429 with Retry-After is retried after the time Slack asks for, then delivered', async () => {
  const rx = await startSlackReceiver({ retryAfter: 1 });
  try {
    await helper.load(slackNode, flow(), { s1: { url: rx.webhookUrl } });
    const h = collect();
    rx.slack.queue('rate_limited');
    h.send({ event: sampleEvent('package.added') });
    const { dispatch } = await h.next();
    assert.equal(dispatch.outcome, 'delivered');
    assert.equal(dispatch.attempts, 2);
    assert.equal(dispatch.attemptLog[0].status, 429);
    assert.equal(dispatch.attemptLog[0].delayMs, 1000);
    const [a, b] = rx.requests;
    assert.ok(b.at - a.at >= 990, `waited ${b.at - a.at} ms`);
  } finally {
    await rx.close();
  }
});

test('ten messages to one URL are spaced at least one second apart (real clock)', async () => {
  const rx = await startSlackReceiver();
  try {
    await helper.load(slackNode, flow(), { s1: { url: rx.webhookUrl } });
    const h = collect();
    for (let i = 0; i < 10; i++) h.send({ event: sampleEvent('package.added'), n: i });
    const msgs = [];
    for (let i = 0; i < 10; i++) msgs.push(await h.next());
    for (const m of msgs) assert.equal(m.dispatch.outcome, 'delivered');
    assert.equal(rx.requests.length, 10);
    // when each request was sent (the sender's clock, which the rate limit governs; arrival times at
    // the receiver also carry the scheduling noise of a loaded machine)
    const sent = msgs.map((m) => Date.parse(m.dispatch.attemptLog[0].startedAt));
    assert.deepEqual(
      msgs.map((m) => m.n),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      'in order',
    );
    for (let i = 1; i < sent.length; i++) assert.ok(sent[i] - sent[i - 1] >= 1000, `gap ${i}: ${sent[i] - sent[i - 1]} ms`);
    assert.ok(rx.requests.at(-1).at - rx.requests[0].at >= 8000, 'the receiver saw them spread over at least 8 s');
  } finally {
    await rx.close();
  }
});

test('over-long texts stay within the limits and are accepted by Slack', async () => {
  const rx = await startSlackReceiver();
  try {
    await helper.load(slackNode, flow(), { s1: { url: rx.webhookUrl } });
    const h = collect();
    const ev = sampleEvent('sca.build-issues-opened');
    ev.vars.BuildIssues = Array.from({ length: 500 }, (_, i) => ({ Sequence: String(i), Detail: 'Noncompliant package ' + 'z'.repeat(50) }));
    h.send({ event: ev });
    const { dispatch } = await h.next();
    assert.equal(dispatch.outcome, 'delivered');
    const body = JSON.parse(rx.requests[0].body);
    assert.match(JSON.stringify(body.blocks), /… \(truncated\)/);
  } finally {
    await rx.close();
  }
});

test('a custom text template is sent as mrkdwn text', async () => {
  const rx = await startSlackReceiver();
  try {
    await helper.load(slackNode, flow({ text: ':package: *$PackageId* $PackageVersion on $FeedName' }), { s1: { url: rx.webhookUrl } });
    const h = collect();
    h.send({ event: sampleEvent('package.added') });
    await h.next();
    assert.deepEqual(JSON.parse(rx.requests[0].body), { text: ':package: *MyCorp.CoolUtils* 3.2.0-pre.1 on internal-utils' });
  } finally {
    await rx.close();
  }
});

test('a missing URL is a config error at deploy; messages then fail as config', async () => {
  await helper.load(slackNode, flow(), {});
  const h = collect();
  assert.deepEqual(h.node.status.args.at(-1)[0], { fill: 'red', shape: 'ring', text: 'config error' });
  h.send({ event: sampleEvent('package.added') });
  const { dispatch } = await h.next();
  assert.equal(dispatch.error.code, 'config');
  assert.match(dispatch.error.message, /Slack webhook URL is required/);
});
