'use strict';
// Reliability: two Node-RED runtimes (child processes, each with its own user directory) run the same flow on one
// Redis (notifierStore type "redis", a redis-server of this test's own).
// 1. 5,000 events posted alternately to both, one killed with SIGKILL mid-burst: the survivor delivers every event
//    that got a 202 (the dead one's claims are taken over after the lease), at least once, repeats with the same
//    X-Notifier-Delivery and under 1% of the events; both admin APIs list the same history, and a record is
//    redelivered from either.
// (The Slack rate across instances: redis-slack-rate.test.js.)
const test = require('node:test');
const assert = require('node:assert/strict');
const { startChild, kill9, stopChild } = require('../fixtures/history-child');
const { startReceiver } = require('../helpers/receivers');
const { burstFlows, eventually, deployTo, numberedEvent, postJson, historyOf, byDeliveryId } = require('../helpers/durable');
const { startRedis, twoInstances, noUnhandled } = require('../helpers/redis');

const EVENTS = 5000;
const SENDERS = 32;
const KILL_AFTER_ACCEPTED = 1500;

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
    const t0 = Date.now();
    await Promise.all(Array.from({ length: SENDERS }, sender));
    await killing;
    const burstMs = Date.now() - t0;
    assert.ok(accepted.size > KILL_AFTER_ACCEPTED + (EVENTS - KILL_AFTER_ACCEPTED) / 3, `the survivor kept accepting: ${accepted.size} accepted`);

    const delivered = () => new Set(rx.requests.map((r) => r.body));
    await eventually(
      () => [...accepted].every((i) => delivered().has(`pkg-${i}`)),
      120_000,
      'every accepted event at the receiver (by the survivor)',
    );
    const deliveredMs = Date.now() - t0;
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
    // a record is redelivered from the instance that did not keep it
    const [latest] = fromB;
    const before = rx.requests.length;
    const res = await fetch(`${a.adminUrl}/notifier-history/wh/${encodeURIComponent(latest.id)}/redeliver`, { method: 'POST' });
    assert.equal(res.status, 200, await res.clone().text());
    const { record } = await res.json();
    assert.deepEqual([record.outcome, record.redeliveryOf], ['delivered', latest.id]);
    await eventually(() => rx.requests.length > before, 10_000, 'the redelivery at the receiver');
    await eventually(
      async () => (await historyOf(b.adminUrl, 'wh')).some((r) => r.id === record.id),
      10_000,
      'the redelivery in the other instance too',
    );
    noUnhandled(b);
    console.log(
      `# accepted ${accepted.size} of ${EVENTS}; ${rx.requests.length} requests, ${repeats} repeated (same delivery id); burst ${burstMs} ms, all delivered after ${deliveredMs} ms`,
    );
  } finally {
    await stopChild(a);
    await stopChild(b);
    await rx.close();
    await redis.close();
  }
});
