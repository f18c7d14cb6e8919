'use strict';
// Reliability: a Slack-like receiver behind two Node-RED runtimes (child processes) on one Redis gets at most 1
// message per second per webhook URL across both: each slot is taken in Redis.
const test = require('node:test');
const assert = require('node:assert/strict');
const { stopChild } = require('../fixtures/history-child');
const { startSlackReceiver } = require('../helpers/receivers');
const { eventually, deployTo, numberedEvent, postJson } = require('../helpers/durable');
const { startRedis, twoInstances, noUnhandled } = require('../helpers/redis');

test('a Slack-like receiver behind two instances gets at most 1 message per second per webhook URL', async () => {
  const redis = await startRedis();
  const slack = await startSlackReceiver();
  const { a, b } = await twoInstances(redis, 'slack');
  try {
    const flows = [
      { id: 'tab', type: 'tab', label: 'slack' },
      { id: 'ev', type: 'notifier-event', z: 'tab', path: '/slack', events: [], auth: 'none', wires: [['sl']] },
      { id: 'sl', type: 'notifier-slack', z: 'tab', name: 'ops', wires: [['hist']], credentials: { url: slack.webhookUrl } },
      { id: 'hist', type: 'notifier-history', z: 'tab', limit: 100, wires: [[]] },
    ];
    await deployTo(a.adminUrl, flows);
    await deployTo(b.adminUrl, flows);
    const urls = [`${a.nodeUrl}/slack`, `${b.nodeUrl}/slack`];
    for (let i = 0; i < 40; i++) {
      const r = await postJson(urls[i % 2], numberedEvent(i, 'sl'));
      assert.equal(r.status, 202);
    }
    const start = Date.now();
    await eventually(() => slack.requests.length > 0 && Date.now() - slack.requests[0].at >= 21_000, 40_000, '21 s of Slack messages');
    const first = slack.requests[0].at;
    const inWindow = slack.requests.filter((r) => r.at < first + 20_000).length;
    const gaps = slack.requests.slice(1).map((r, i) => r.at - slack.requests[i].at);
    console.log(
      `# ${inWindow} Slack messages in the first 20 s (from both instances); smallest gap ${Math.min(...gaps)} ms; ${Date.now() - start} ms watched`,
    );
    assert.ok(inWindow <= 22, `at most 1/s (+10%) over 20 s: ${inWindow}`);
    assert.ok(inWindow >= 18, `and the limit is what holds them back (1/s -10%): ${inWindow}`);
    assert.ok(Math.min(...gaps) >= 900, `no two messages closer than 0.9 s: ${Math.min(...gaps)} ms`);
    noUnhandled(a);
    noUnhandled(b);
  } finally {
    await stopChild(a);
    await stopChild(b);
    await slack.close();
    await redis.close();
  }
});
