'use strict';
// Several instances on one Redis store (a redis-server of this test's own) receive the same delivery at the same
// moment (a sender retrying through a load balancer while the first attempt is still handled): the event is emitted
// once. 1. Two Node-RED runtimes (child processes), 200 delivery ids each posted to both at once: every id reaches
// the receiver once, both answers are 202, one of each pair says duplicate. 2. One runtime and a claim held by
// "another instance" (a RedisStore of the test): the request waits for it and answers as it settles (seen:
// duplicate; given up or lapsed: handled here; still pending after the ack timeout: 503 with Retry-After; the node
// closing: 503 at once); a refused event gives its claim up at once.
const test = require('node:test');
const assert = require('node:assert/strict');
const { stopChild } = require('../fixtures/history-child');
const { startRuntime } = require('../helpers/nr');
const { startReceiver } = require('../helpers/receivers');
const { burstFlows, deployTo, eventually, numberedEvent, postJson, byDeliveryId } = require('../helpers/durable');
const { startRedis, twoInstances, noUnhandled } = require('../helpers/redis');
const { RedisStore } = require('../../dist/core/store');

const IDS = 200;
const PAIRS_AT_ONCE = 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('two instances receiving the same delivery id at once emit it once: 200 ids, each posted to both', async () => {
  const redis = await startRedis();
  const rx = await startReceiver({ answer: { status: 200 } });
  const { a, b } = await twoInstances(redis, 'pair');
  try {
    const flows = burstFlows(rx.url());
    await deployTo(a.adminUrl, flows);
    await deployTo(b.adminUrl, flows);
    const urls = [`${a.nodeUrl}/burst`, `${b.nodeUrl}/burst`];
    const answers = new Map();
    let next = 0;
    const sender = async () => {
      while (next < IDS) {
        const i = next++;
        const event = numberedEvent(i, 'dup'); // its id is the delivery id
        answers.set(i, await Promise.all(urls.map((u) => postJson(u, event))));
      }
    };
    await Promise.all(Array.from({ length: PAIRS_AT_ONCE }, sender));

    const problems = [];
    let duplicates = 0;
    for (const [i, pair] of answers) {
      const statuses = pair.map((r) => r.status ?? String(r.error));
      if (!statuses.every((s) => s === 202)) problems.push(`dup-${i}: ${statuses} ${pair.map((r) => r.text).join(' | ')}`);
      const dup = pair.filter((r) => r.json?.duplicate === true).length;
      duplicates += dup;
      if (dup !== 1) problems.push(`dup-${i}: ${dup} of the two answers say duplicate (${pair.map((r) => r.text).join(' | ')})`);
    }
    await eventually(() => new Set(rx.requests.map((r) => r.body)).size >= IDS, 30_000, 'every id at the receiver');
    await sleep(1000); // a second emission, if any, arrives meanwhile
    const deliveriesOf = new Map(); // body → distinct dispatches (one per emitted event)
    for (const [id, reqs] of byDeliveryId(rx.requests)) {
      const body = reqs[0].body;
      deliveriesOf.set(body, (deliveriesOf.get(body) ?? 0) + 1);
      assert.ok(id, 'each request has its delivery id');
    }
    const twice = [...deliveriesOf].filter(([, n]) => n > 1);
    console.log(
      `# ${IDS} ids posted to both instances: ${rx.requests.length} requests at the receiver, ${twice.length} ids emitted more than once, ${duplicates} answers duplicate:true, ${problems.length} problems`,
    );
    assert.deepEqual(twice, [], 'no id emitted by both instances');
    assert.deepEqual(problems, [], 'both answers 202, one of them duplicate');
    assert.equal(deliveriesOf.size, IDS);
    noUnhandled(a);
    noUnhandled(b);
  } finally {
    await stopChild(a);
    await stopChild(b);
    await rx.close();
    await redis.close();
  }
});

test('a delivery claimed by another instance: waited for, then answered as it settled; a refused event gives its claim up', async () => {
  const redis = await startRedis();
  const rx = await startReceiver({ answer: { status: 200 } });
  const prefix = 'held';
  const rt = await startRuntime({ settings: { notifierStore: { type: 'redis', url: redis.url, prefix }, notifierIntake: { ackTimeoutMs: 1000 } } });
  const other = new RedisStore({ url: redis.url, prefix });
  try {
    await other.whenReady();
    const seen = await other.seenIds();
    await rt.deploy(burstFlows(rx.url()));
    const url = `${rt.nodeUrl}/burst`;
    const post = (i) => postJson(url, numberedEvent(i, 'held'));
    const bodies = () => rx.requests.map((r) => r.body);

    // the other instance accepts it: a duplicate, never emitted here
    assert.equal(await seen.claim('held-1', 10_000), 'claimed');
    let t0 = Date.now();
    let answer = post(1);
    await sleep(300);
    await seen.add('held-1');
    answer = await answer;
    assert.deepEqual([answer.status, answer.json.duplicate], [202, true], answer.text);
    assert.ok(Date.now() - t0 >= 300, 'it waited for the other instance');

    // the other instance fails (gives its claim up): handled here
    assert.equal(await seen.claim('held-2', 10_000), 'claimed');
    answer = post(2);
    await sleep(300);
    await seen.unclaim('held-2');
    answer = await answer;
    assert.equal(answer.status, 202, answer.text);
    assert.equal(answer.json.duplicate, undefined);
    await eventually(() => bodies().includes('pkg-2'), 5000, 'the event handled here at the receiver');

    // the other instance died holding it: handled here once its claim lapsed
    assert.equal(await seen.claim('held-3', 600), 'claimed');
    t0 = Date.now();
    answer = await post(3);
    assert.equal(answer.status, 202, answer.text);
    assert.ok(Date.now() - t0 >= 400, `it waited for the claim to lapse (${Date.now() - t0} ms)`);
    await eventually(() => bodies().includes('pkg-3'), 5000, 'the event at the receiver');

    // still pending after the ack timeout (+ grace): 503 with Retry-After, never 202 without storage
    assert.equal(await seen.claim('held-4', 60_000), 'claimed');
    t0 = Date.now();
    answer = await post(4);
    const waited = Date.now() - t0;
    assert.equal(answer.status, 503, answer.text);
    assert.equal(answer.json.error, 'delivery in progress');
    assert.ok(waited >= 1000 && waited < 6000, `waited ${waited} ms`);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(numberedEvent(4, 'held')) });
    assert.equal(res.status, 503);
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
    await seen.unclaim('held-4');
    assert.ok(!bodies().includes('pkg-4'));

    // a refused event (a node of the flow could not store it: 503) gives its claim up at once: a retry, here or at
    // another instance, is not blocked by it
    await rt.deploy([
      { id: 'tab2', type: 'tab', label: 'refused' },
      { id: 'ev2', type: 'notifier-event', z: 'tab2', path: '/burst', events: [], auth: 'none', wires: [['fn']] },
      {
        id: 'fn',
        type: 'function',
        z: 'tab2',
        func: "const e = new Error('the store is down (test)'); e.code = 'store_unavailable'; node.done(e); return null;",
        outputs: 1,
        wires: [[]],
      },
    ]);
    answer = await post(5);
    assert.equal(answer.status, 503, answer.text);
    assert.equal(answer.json.error, 'store unavailable');
    assert.equal(await other.client.exists(`${prefix}:sc:held-5`), 0, 'no claim left behind by the refused event');
    assert.equal(await seen.claim('held-5', 10_000), 'claimed', 'another instance can take it at once');
    await seen.unclaim('held-5');

    // a request waiting for a claim when the node closes (a redeploy) is answered at once, no timer left behind
    assert.equal(await seen.claim('held-6', 60_000), 'claimed');
    t0 = Date.now();
    answer = post(6);
    await sleep(200);
    await rt.deploy([{ id: 'tab3', type: 'tab', label: 'empty' }]);
    answer = await answer;
    assert.equal(answer.status, 503, answer.text);
    assert.equal(answer.json.error, 'endpoint closing');
    assert.ok(Date.now() - t0 < 2000, `answered at the close (${Date.now() - t0} ms)`);
  } finally {
    await other.close();
    await rt.stop();
    await rx.close();
    await redis.close();
  }
});
