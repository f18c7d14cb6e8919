'use strict';
// Reliability: a notifier-digest node in two Node-RED runtimes (child processes, own user directories) on one Redis.
// Events are posted alternately to both while a group is open; the instance that owns the node's groups is killed
// with SIGKILL before the wait ends. The survivor takes the groups over after the lease, and one digest goes out
// listing every event that got a 202 from either instance, each once; nothing goes out from the killed one.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Redis } = require('ioredis');
const { kill9, stopChild } = require('../fixtures/history-child');
const { startReceiver } = require('../helpers/receivers');
const { digestFlow, digestOf, eventually, deployTo, numberedEvent, postJson, historyOf } = require('../helpers/durable');
const { startRedis, twoInstances, noUnhandled } = require('../helpers/redis');

const KILL_AFTER_ACCEPTED = 300;
const SENDERS = 16;

test('two instances digest together on one Redis: the owner killed mid-wait, the survivor sends one digest of every 202, each once', async () => {
  const redis = await startRedis({ appendonly: true });
  const rx = await startReceiver();
  const probe = new Redis(redis.url);
  const { a, b } = await twoInstances(redis, 'dgha');
  try {
    // a deploys first and owns the groups; b then runs the same flow on standby
    await deployTo(a.adminUrl, digestFlow(rx.url(), { wait: '8' }));
    await eventually(async () => (await probe.exists('dgha:dg:dg:l')) === 1, 10_000, 'a owns the groups');
    await deployTo(b.adminUrl, digestFlow(rx.url(), { wait: '8' }));
    const urls = [`${a.nodeUrl}/bulk`, `${b.nodeUrl}/bulk`];
    const accepted = new Set();
    const byInstance = [0, 0];
    let next = 0;
    let killing;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (!killing) {
          const i = next++;
          const r = await postJson(urls[i % 2], numberedEvent(i, 'ha'));
          if (r.status === 202) {
            accepted.add(`pkg-${i}`);
            byInstance[i % 2]++;
          }
          if (!killing && accepted.size >= KILL_AFTER_ACCEPTED) killing = kill9(a);
        }
      }),
    );
    await killing;
    const killedAt = Date.now();
    assert.ok(killedAt - t0 < 8000, `killed before the wait ended (${killedAt - t0} ms)`);
    assert.equal(rx.requests.length, 0, 'nothing went out before the kill');
    assert.ok(byInstance[1] > 0, 'b accepted events too (forwarded to the owner)');

    // b takes over once a's lease (10 s here) lapsed and sends the digest
    await eventually(() => rx.requests.length >= 1, 40_000, 'the digest from the survivor');
    await new Promise((r) => setTimeout(r, 1000));
    const digests = rx.requests.map((r) => digestOf(r.body));
    const listed = digests.flatMap((d) => d.ids);
    const missing = [...accepted].filter((id) => !listed.includes(id));
    assert.deepEqual(missing, [], 'every event accepted by either instance is in a digest');
    assert.equal(new Set(listed).size, listed.length, 'each listed once');
    assert.ok(listed.length <= next, `no more than was posted (${listed.length} of ${next})`);
    assert.equal(
      digests.reduce((n, d) => n + d.count, 0),
      listed.length,
      'counted once each',
    );
    assert.equal(digests.length, 1, 'one digest');
    const records = await historyOf(b.adminUrl, 'wh');
    assert.equal(records[0].summary, `Digest of ${listed.length} events in internal-utils/Promoted`);
    assert.equal(await probe.xlen('dgha:dg:dg:in'), 0, 'nothing left forwarded');
    noUnhandled(b);
    console.log(
      `# ${accepted.size} accepted (${byInstance[0]} by the owner, ${byInstance[1]} forwarded by the other), owner killed ${killedAt - t0} ms after the first; ` +
        `one digest of ${listed.length} from the survivor ${rx.requests[0].at - killedAt} ms after the kill`,
    );
  } finally {
    probe.disconnect();
    await stopChild(a);
    await stopChild(b);
    await rx.close();
    await redis.close();
  }
});
