'use strict';
// Reliability: two Node-RED runtimes (child processes, each with its own user directory) run the same flow on one
// Redis (notifierStore type "redis", a redis-server of this test's own).
// 1. 5,000 events posted alternately to both, one killed with SIGKILL mid-burst: the survivor delivers every event
//    that got a 202 (the dead one's claims are taken over after the lease), at least once, repeats with the same
//    X-Notifier-Delivery and under 1% of the events; both admin APIs list the same history.
// 2. A Slack-like receiver behind both: at most 1 message per second per webhook URL across the two instances.
const test = require('node:test');
const assert = require('node:assert/strict');
const { tmpDir } = require('../helpers/nr');
const { startChild, kill9, stopChild } = require('../fixtures/history-child');
const { startReceiver, startSlackReceiver } = require('../helpers/receivers');
const { burstFlows, eventually, deployTo, numberedEvent, postJson, historyOf, byDeliveryId } = require('../helpers/durable');
const { startRedis } = require('../helpers/redis');

const EVENTS = 5000;
const SENDERS = 32;
const KILL_AFTER_ACCEPTED = 1500;

async function twoInstances(redis, prefix) {
  const settings = { notifierStore: { type: 'redis', url: redis.url, prefix } };
  const dirA = tmpDir('pn-ha-a-');
  const a = await startChild(dirA, settings);
  const b = await startChild(tmpDir('pn-ha-b-'), settings);
  return { a, b, settings, dirA };
}

function noUnhandled(child) {
  const out = child.output();
  assert.ok(
    !/Unhandled error event|UnhandledPromiseRejection|unhandledRejection/i.test(out),
    `no unhandled error in ${child.pid}:\n${out.slice(-2000)}`,
  );
}

test('two instances on one Redis, one killed mid-burst: every 202 delivered, repeats under 1% with their delivery id, one history', async () => {
  const redis = await startRedis({ appendonly: true });
  const rx = await startReceiver({ answer: { status: 200, delayMs: 5 } });
  let { a, b, settings, dirA } = await twoInstances(redis, 'burst');
  try {
    const flows = burstFlows(rx.url());
    await deployTo(a.adminUrl, flows);
    await deployTo(b.adminUrl, flows);
    const urls = [`${a.nodeUrl}/burst`, `${b.nodeUrl}/burst`];
    const accepted = new Set();
    let next = 0;
    let killing;
    const sender = async () => {
      while (next < EVENTS) {
        const i = next++;
        const r = await postJson(urls[i % 2], numberedEvent(i));
        if (r.status === 202) accepted.add(i);
        if (!killing && accepted.size >= KILL_AFTER_ACCEPTED) killing = kill9(a);
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, sender));
    await killing;
    assert.ok(accepted.size > KILL_AFTER_ACCEPTED + (EVENTS - KILL_AFTER_ACCEPTED) / 3, `the survivor kept accepting: ${accepted.size} accepted`);

    const delivered = () => new Set(rx.requests.map((r) => r.body));
    await eventually(
      () => [...accepted].every((i) => delivered().has(`pkg-${i}`)),
      120_000,
      'every accepted event at the receiver (by the survivor)',
    );
    const byId = byDeliveryId(rx.requests);
    const idsByBody = new Map();
    for (const r of rx.requests) {
      if (!idsByBody.has(r.body)) idsByBody.set(r.body, new Set());
      idsByBody.get(r.body).add(r.headers['x-notifier-delivery']);
    }
    for (const [body, ids] of idsByBody) assert.equal(ids.size, 1, `${body} was sent with one delivery id (${[...ids]})`);
    const repeats = rx.requests.length - byId.size;
    assert.ok(repeats < EVENTS / 100, `repeated deliveries: ${repeats} (under 1% of ${EVENTS})`);

    // the killed instance comes back on the same Redis: both admin APIs show one history
    a = await startChild(dirA, settings);
    let fromA = [];
    let fromB = [];
    await eventually(
      async () => {
        fromB = await historyOf(b.adminUrl, 'wh');
        const kept = new Set(fromB.filter((r) => r.outcome === 'delivered').map((r) => r.eventId));
        return [...accepted].every((i) => kept.has(`ev-${i}`));
      },
      60_000,
      'a delivered record for every accepted event',
    );
    fromA = await historyOf(a.adminUrl, 'wh');
    assert.deepEqual(
      fromA.map((r) => r.id),
      fromB.map((r) => r.id),
      'both instances list the same records',
    );
    assert.equal(new Set(fromB.map((r) => r.id)).size, fromB.length, 'each record once');
    const listA = await (await fetch(`${a.adminUrl}/notifier-history`)).json();
    const listB = await (await fetch(`${b.adminUrl}/notifier-history`)).json();
    assert.deepEqual(
      listA.notifiers.map((n) => [n.notifierId, n.kept, n.total]),
      listB.notifiers.map((n) => [n.notifierId, n.kept, n.total]),
    );
    noUnhandled(b);
    console.log(`# accepted ${accepted.size} of ${EVENTS}; ${rx.requests.length} requests, ${repeats} repeated (same delivery id)`);
  } finally {
    await stopChild(a);
    await stopChild(b);
    await rx.close();
    await redis.close();
  }
});

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
