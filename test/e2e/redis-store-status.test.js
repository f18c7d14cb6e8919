'use strict';
// A Node-RED runtime on the Redis store (a redis-server of this test's own): while Redis is stopped the event node
// answers 503 and both nodes show "store unavailable"; once it is back the output node's status clears by itself
// and events are accepted and delivered again. Bad notifierStore settings are a clear error naming the setting.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { startReceiver } = require('../helpers/receivers');
const { storeStatusFlows, eventually, numberedEvent, postJson } = require('../helpers/durable');
const { startRedis } = require('../helpers/redis');
const { acquireNotifierStore } = require('../../dist/nodes/shared/store');

test('Redis away: 503 and "store unavailable" on the event and output nodes; back by itself when Redis is', async () => {
  const redis = await startRedis({ appendonly: true, password: 'pw-not-shown' });
  const rx = await startReceiver();
  const rt = await startRuntime({ settings: { notifierStore: { type: 'redis', url: redis.url, prefix: 'status' } } });
  try {
    await rt.deploy(storeStatusFlows(rx.url()));
    const statuses = rt.inbox('dbg');
    const url = `${rt.nodeUrl}/store`;
    await eventually(async () => (await postJson(url, numberedEvent(1))).status === 202, 5000, 'the first 202');
    await eventually(() => rx.requests.length >= 1, 5000, 'the first delivery');

    await redis.stop();
    const refused = await postJson(url, numberedEvent(2));
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.json.error, 'store unavailable');
    assert.match(refused.json.details, /Redis at 127\.0\.0\.1:\d+/);
    assert.ok(!refused.text.includes('pw-not-shown'), 'the password is never shown');
    await statuses.until((m) => m.status?.source?.id === 'ev' && /store unavailable/.test(m.status.text), 3000);
    await statuses.until((m) => m.status?.source?.id === 'wh' && /store unavailable/.test(m.status.text), 3000);

    const seen = statuses.all.length;
    await redis.start();
    await statuses.until((m) => statuses.all.indexOf(m) >= seen && m.status?.source?.id === 'wh' && !/store unavailable/.test(m.status.text), 10_000);
    await eventually(async () => (await postJson(url, numberedEvent(3))).status === 202, 10_000, 'a 202 once Redis is back');
    await eventually(() => rx.requests.some((r) => r.body === 'pkg-3'), 10_000, 'the delivery after Redis came back');
    assert.ok(!rx.requests.some((r) => r.body === 'pkg-2'), 'the refused event was not sent');
  } finally {
    await rt.stop();
    await rx.close();
    await redis.close();
  }
});

test('bad notifierStore settings are a clear error that names the setting and never shows the password', () => {
  const RED = (notifierStore) => ({ settings: { notifierStore } });
  assert.throws(
    () => acquireNotifierStore(RED({ type: 'redis' })),
    /notifierStore\.url is missing: type "redis" needs a redis:\/\/ or rediss:\/\/ URL/,
  );
  assert.throws(() => acquireNotifierStore(RED({ type: 'mongo' })), /notifierStore\.type must be "file" or "redis", got "mongo"/);
  assert.throws(
    () => acquireNotifierStore(RED({ type: 'redis', url: 'redis://:pw@127.0.0.1:1', prefix: 'a b' })),
    (err) => /notifierStore\.prefix must be/.test(err.message) && !err.message.includes('pw@'),
  );
  assert.throws(
    () => acquireNotifierStore(RED({ type: 'redis', url: 'http://user:secretpw@host' })),
    (err) => /redis:\/\/ or rediss:\/\//.test(err.message) && !err.message.includes('secretpw'),
  );
});
