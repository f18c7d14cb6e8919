'use strict';
// After dispatches (delivered and failed), no credential value appears in GET /flows, in msg.dispatch,
// in status texts or in the log.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { startReceiver, startSlackReceiver, startTeamsReceiver } = require('../helpers/receivers');
const { sampleEvent } = require('../../dist/core/events');

test('credential values never appear in GET /flows, msg.dispatch, status texts or the log', async () => {
  const hook = await startReceiver({
    // echoes what it got, as a careless receiver might: the Authorization header included
    answer: (req) => ({ status: req.path === '/fail' ? 401 : 200, body: `got ${req.headers.authorization} sig ${req.headers['webhook-signature']}` }),
  });
  const slack = await startSlackReceiver();
  const teams = await startTeamsReceiver();
  const whsec = 'whsec_' + Buffer.from('s3cret-signing-key-0123456789abc').toString('base64');
  const secrets = {
    webhookPassword: 'Pa55w0rd-Very-Secret!',
    webhookUser: 'svc-notifier-robot',
    bearer: 'bearer-T0KEN-abcdef123456',
    whsec,
    whsecKey: whsec.slice('whsec_'.length),
    basicB64: Buffer.from('svc-notifier-robot:Pa55w0rd-Very-Secret!').toString('base64'),
    slackUrl: slack.webhookUrl,
    slackToken: 'sl4ckT0kenS3cretValue',
    teamsUrl: teams.url('/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=TeamsS1gSecretValue99'),
    teamsSig: 'TeamsS1gSecretValue99',
  };
  const logs = [];
  const rt = await startRuntime({
    settings: {
      logging: {
        console: { level: 'off' },
        capture: { level: 'trace', metrics: false, audit: true, handler: () => (msg) => logs.push(JSON.stringify(msg)) },
      },
    },
  });
  try {
    await rt.deploy([
      { id: 'tab1', type: 'tab', label: 'secrets' },
      {
        id: 'wb',
        z: 'tab1',
        type: 'notifier-webhook',
        name: 'basic',
        url: hook.url('/ok'),
        auth: 'basic',
        signing: 'standard',
        wires: [['out']],
        credentials: { username: secrets.webhookUser, password: secrets.webhookPassword, secret: secrets.whsec },
      },
      {
        id: 'wt',
        z: 'tab1',
        type: 'notifier-webhook',
        name: 'bearer',
        url: hook.url('/fail'),
        auth: 'bearer',
        wires: [['out']],
        credentials: { token: secrets.bearer },
      },
      { id: 'sl', z: 'tab1', type: 'notifier-slack', name: 'slack', wires: [['out']], credentials: { url: secrets.slackUrl } },
      { id: 'tm', z: 'tab1', type: 'notifier-teams', name: 'teams', wires: [['out']], credentials: { url: secrets.teamsUrl } },
      { id: 'st', z: 'tab1', type: 'status', scope: ['wb', 'wt', 'sl', 'tm'], wires: [['statuses']] },
      { id: 'out', z: 'tab1', type: 'debug', active: false, wires: [] },
      { id: 'statuses', z: 'tab1', type: 'debug', active: false, wires: [] },
    ]);
    const out = rt.inbox('out');
    const statuses = rt.inbox('statuses');
    slack.slack.queue('ok', 'no_service');
    for (const id of ['wb', 'wt', 'sl', 'tm']) {
      rt.RED.nodes.getNode(id).receive({ event: sampleEvent('package.promoted') });
      rt.RED.nodes.getNode(id).receive({ event: sampleEvent('sca.new-vulnerability') });
    }
    const deadline = Date.now() + 15_000;
    while (out.all.length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    assert.equal(out.all.length, 8);
    const outcomes = out.all.map((m) => `${m.dispatch.notifier}:${m.dispatch.outcome}`).sort();
    assert.deepEqual(outcomes, [
      'basic:delivered',
      'basic:delivered',
      'bearer:failed',
      'bearer:failed',
      'slack:delivered',
      'slack:failed',
      'teams:delivered',
      'teams:delivered',
    ]);
    assert.ok(
      hook.requests.some((r) => r.headers.authorization === `Basic ${secrets.basicB64}`),
      'the receiver did get the credentials',
    );
    assert.ok(hook.requests.some((r) => r.headers.authorization === `Bearer ${secrets.bearer}`));

    const flowsRes = await fetch(`${rt.adminUrl}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } });
    const places = {
      'GET /flows': await flowsRes.text(),
      'msg.dispatch': JSON.stringify(out.all.map((m) => m.dispatch)),
      'status texts': JSON.stringify(statuses.all.map((m) => m.status)),
      log: logs.join('\n'),
    };
    assert.ok(statuses.all.length > 0, 'statuses were captured');
    assert.ok(places.log.includes('HTTP 401 Unauthorized'), 'failures were logged');
    for (const [where, text] of Object.entries(places)) {
      for (const [name, value] of Object.entries(secrets)) {
        assert.ok(!text.includes(value), `${name} appears in ${where}`);
      }
    }
    // what the records show instead
    const rec = out.all.find((m) => m.dispatch.notifier === 'basic').dispatch;
    assert.equal(rec.request.headers.Authorization, '<redacted>');
    assert.equal(rec.request.headers['webhook-signature'], '<redacted>');
    assert.match(rec.response.body, /^got <redacted> sig <redacted>$|^got Basic <redacted> sig v1,/);
    const sl = out.all.find((m) => m.dispatch.notifier === 'slack').dispatch;
    assert.equal(sl.request.url, `${slack.base}/services/T0TESTTEAM/B0TESTBOT/<redacted>`);
  } finally {
    await rt.stop();
    await Promise.all([hook.close(), slack.close(), teams.close()]);
  }
});
