'use strict';
// The store contract, run against the file store and the Redis store (a redis-server of this test's own): entries
// kept with their state until acknowledged, the bound (queue_full), the seen ids (window, bound), the history. Then
// what only a shared store does: two instances never both claim a dispatch, a claim lapses and is taken over after
// the lease, a given-back retry waits for its due time, one slot per destination across instances, and Redis away
// (StoreUnavailableError, the password never shown).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { FileStore, NotOwnerError, RedisStore, StoreFullError, StoreUnavailableError } = require('../../dist/core/store');
const { HistoryStore } = require('../../dist/core/history');
const { tmpDir } = require('../helpers/nr');
const { startRedis } = require('../helpers/redis');

const ev = (i) => ({ id: `e${i}`, type: 'package.added', vars: { PackageId: `p${i}` } });
const entry = (i) => ({ id: `d${i}`, event: ev(i), createdAt: 1000 + i });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let prefixes = 0;
async function waitFor(check, what, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what}`);
    await sleep(20);
  }
}

let redis;
test.before(async () => {
  redis = await startRedis();
});
test.after(async () => {
  await redis?.close();
});

/** A fresh store of each kind (a Redis prefix of its own: nothing shared between tests). */
const kinds = {
  file: (options = {}) => new FileStore(path.join(tmpDir('pn-contract-'), 'store'), options),
  redis: (options = {}) => new RedisStore({ url: redis.url, prefix: `t${++prefixes}`, ...options }),
};
/** A second instance on the same Redis prefix as `store`. */
const sibling = (store, options = {}) => new RedisStore({ url: redis.url, prefix: store.prefix, ...options });

for (const [kind, make] of Object.entries(kinds)) {
  test(`${kind}: entries are kept across a reopen with their retry state and result; acknowledged ones are gone`, async () => {
    const store = make();
    await store.whenReady();
    let box = await store.openOutbox('n1');
    await box.add([entry(1), entry(2), entry(3)]);
    const taken = await box.take(10);
    assert.deepEqual(
      taken.map((e) => e.id),
      ['d1', 'd2', 'd3'],
    );
    assert.deepEqual(await box.take(10), [], 'each entry is given out once');
    await box.retryAt('d1', 2, [{ attempt: 1, startedAt: 'x', durationMs: 1, status: 503 }], 1);
    await box.settle('d2', { id: 'd2', outcome: 'delivered' });
    await box.ack('d3');
    await box.close();
    box = await store.openOutbox('n1');
    const back = await box.take(10);
    assert.deepEqual(back.map((e) => e.id).sort(), ['d1', 'd2']);
    const d1 = back.find((e) => e.id === 'd1');
    assert.equal(d1.attempts, 2);
    assert.equal(d1.attemptLog[0].status, 503);
    assert.deepEqual(d1.event, ev(1));
    assert.equal(back.find((e) => e.id === 'd2').record.outcome, 'delivered');
    assert.deepEqual(await store.outboxIds(), ['n1']);
    await box.close();
    await store.close();
  });

  test(`${kind}: the bound on stored dispatches refuses more with queue_full until some are acknowledged`, async () => {
    const store = make({ maxItems: 3 });
    await store.whenReady();
    const box = await store.openOutbox('n1');
    await box.add([entry(1), entry(2), entry(3)]);
    await assert.rejects(box.add([entry(4)]), (err) => err instanceof StoreFullError && err.code === 'queue_full');
    const [first] = await box.take(1);
    await box.ack(first.id);
    await box.add([entry(4)]);
    await box.close();
    await store.close();
  });

  test(`${kind}: seen ids are kept for the window and at most dedupMax of them`, async () => {
    const store = make({ dedupWindowMs: 1000, dedupMax: 2 });
    await store.whenReady();
    const seen = await store.seenIds();
    await seen.add('a');
    assert.equal(await seen.has('a'), true);
    assert.equal(await seen.has('b'), false);
    await seen.add('b');
    await seen.add('c');
    assert.equal(await seen.has('a'), false, 'the oldest goes past the bound');
    assert.equal(await seen.has('c'), true);
    assert.equal(seen.size, 2);
    await sleep(2100); // the file store keeps times in whole seconds
    assert.equal(await seen.has('c'), false, 'gone after the window');
    await store.close();
  });

  test(`${kind}: the history keeps the last limit records per notifier, each once, and clears`, async () => {
    const store = make();
    const history = kind === 'file' ? new HistoryStore(tmpDir('pn-contract-h-')) : store.history();
    await history.whenReady();
    const rec = (i, notifierId = 'wh1') => ({
      id: `r${i}`,
      notifier: 'hook',
      notifierId,
      channel: 'webhook',
      eventId: `e${i}`,
      eventType: 'package.added',
      outcome: i % 2 ? 'delivered' : 'failed',
      attempts: 1,
      startedAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
      durationMs: 1,
    });
    for (let i = 1; i <= 5; i++) await history.keep(rec(i), ev(i), { limit: 3, keptBy: 'h1' });
    await history.keep(rec(5), ev(5), { limit: 3, keptBy: 'h1' });
    await history.keep(rec(9, 'wh2'), ev(9));
    const page = await history.getRecords('wh1');
    assert.deepEqual(
      page.records.map((r) => r.id),
      ['r5', 'r4', 'r3'],
    );
    const summary = await history.getNotifier('wh1');
    assert.equal(summary.total, 5);
    assert.equal(summary.kept, 3);
    assert.equal(summary.keptBy, 'h1');
    assert.deepEqual((await history.findNotifiers('hook')).sort(), ['wh1', 'wh2']);
    assert.deepEqual(await history.findNotifiers('wh2'), ['wh2']);
    assert.equal((await history.getRecord('wh1', 'r4')).event.id, 'e4');
    assert.equal(await history.setLimit('h1', 2), 1);
    assert.equal((await history.notifiersKeptBy('h1'))[0].kept, 2);
    assert.equal((await history.listNotifiers()).length, 2);
    assert.equal(await history.clear('wh1'), 2);
    assert.equal(await history.getNotifier('wh1'), undefined);
    if (kind === 'file') await history.close();
    await store.close();
  });
}

test('redis: two instances taking at once never both claim a dispatch, and together take every one', async () => {
  const a = kinds.redis();
  const b = sibling(a);
  await Promise.all([a.whenReady(), b.whenReady()]);
  const boxA = await a.openOutbox('n1');
  const boxB = await b.openOutbox('n1');
  for (let i = 0; i < 500; i += 50) await boxA.add(Array.from({ length: 50 }, (_, k) => entry(i + k)));
  const got = { a: [], b: [] };
  const taker = async (box, into) => {
    for (;;) {
      const taken = await box.take(7);
      if (taken.length === 0) return;
      into.push(...taken.map((e) => e.id));
    }
  };
  await Promise.all([taker(boxA, got.a), taker(boxB, got.b), taker(boxA, got.a), taker(boxB, got.b)]);
  const all = [...got.a, ...got.b];
  assert.equal(new Set(all).size, 500, 'every dispatch taken');
  assert.equal(all.length, 500, 'none taken twice');
  assert.ok(got.a.length > 0 && got.b.length > 0, `both took some (${got.a.length} / ${got.b.length})`);
  await boxA.close();
  await boxB.close();
  await a.close();
  await b.close();
});

test('redis: a claim of an instance that stopped renewing is taken over after the lease; a closed outbox gives its claims back at once', async () => {
  const a = kinds.redis({ leaseMs: 1000 });
  const b = sibling(a, { leaseMs: 1000 });
  await Promise.all([a.whenReady(), b.whenReady()]);
  const boxA = await a.openOutbox('n1');
  const boxB = await b.openOutbox('n1');
  await boxA.add([entry(1), entry(2)]);
  assert.equal((await boxA.take(1)).length, 1);
  // A renews its claim while it is alive
  await sleep(1500);
  const [other] = await boxB.take(10);
  assert.equal(other.id, 'd2', 'only the unclaimed dispatch');
  // B gives d2 back by closing: A takes it at once
  await boxB.close();
  assert.deepEqual(
    (await boxA.take(10)).map((e) => e.id),
    ['d2'],
  );
  // A dies (its connection gone, no renewals): B takes both over once the lease lapsed
  a.client.disconnect();
  const boxB2 = await b.openOutbox('n1');
  assert.deepEqual(await boxB2.take(10), [], 'not before the lease lapsed');
  await sleep(1300);
  assert.deepEqual((await boxB2.take(10)).map((e) => e.id).sort(), ['d1', 'd2']);
  await boxB2.close();
  await boxA.close();
  await a.close();
  await b.close();
});

test('redis: a dispatch waiting to retry that is given back is taken again at its due time, not before', async () => {
  const a = kinds.redis();
  const b = sibling(a);
  await Promise.all([a.whenReady(), b.whenReady()]);
  const boxA = await a.openOutbox('n1');
  await boxA.add([entry(1)]);
  await boxA.take(1);
  await boxA.retryAt('d1', 1, [{ attempt: 1, startedAt: 'x', durationMs: 1, status: 503 }], Date.now() + 800);
  await boxA.close();
  const boxB = await b.openOutbox('n1');
  assert.deepEqual(await boxB.take(1), [], 'not yet due');
  await sleep(900);
  const [back] = await boxB.take(1);
  assert.equal(back.id, 'd1');
  assert.equal(back.attempts, 1);
  await boxB.close();
  await a.close();
  await b.close();
});

test('redis: the rate gate gives one slot per interval across instances; a pause holds the destination for all', async () => {
  const a = kinds.redis();
  const b = sibling(a);
  await Promise.all([a.whenReady(), b.whenReady()]);
  const ga = a.rateGate();
  const gb = b.rateGate();
  assert.equal(await ga.acquire('https://hooks.example/x', 1000), 0);
  const wait = await gb.acquire('https://hooks.example/x', 1000);
  assert.ok(wait > 0 && wait <= 1000, `the other instance waits (${wait} ms)`);
  assert.equal(await gb.acquire('https://hooks.example/y', 1000), 0, 'another destination has its own slot');
  ga.pause('https://hooks.example/z', Date.now() + 2000);
  await sleep(100);
  assert.ok((await gb.acquire('https://hooks.example/z', 0)) > 1000, 'paused for the other instance too');
  assert.ok(gb.pausedUntil('https://hooks.example/z') > Date.now(), 'the pause reached the other instance over pub/sub');
  const keys = await a.client.keys(`${a.prefix}:*`);
  assert.ok(
    keys.every((k) => !k.includes('hooks.example')),
    'destination URLs (secrets) never appear in Redis keys',
  );
  await a.close();
  await b.close();
});

test('redis: a history change made by one instance reaches the listeners of every instance (the sidebars), once each', async () => {
  const a = kinds.redis();
  const b = sibling(a);
  await Promise.all([a.whenReady(), b.whenReady()]);
  const got = { a: [], b: [] };
  a.history().onUpdate((u) => got.a.push(u));
  b.history().onUpdate((u) => got.b.push(u));
  await sleep(100); // the subscriptions are made
  a.history().broadcast({ action: 'kept', notifierId: 'wh1', recordId: 'r1' });
  await sleep(300);
  assert.deepEqual(got.a, [{ action: 'kept', notifierId: 'wh1', recordId: 'r1' }]);
  assert.deepEqual(got.b, got.a);
  await a.close();
  await b.close();
});

test('redis: the result of a redelivery settled by one instance reaches the outbox of every instance (the one that asked waits for it)', async () => {
  const a = kinds.redis();
  const b = sibling(a);
  await Promise.all([a.whenReady(), b.whenReady()]);
  const boxA = await a.openOutbox('n1');
  const boxB = await b.openOutbox('n1');
  const results = [];
  boxA.onResult((id, record) => results.push([id, record.outcome]));
  await sleep(100);
  await boxA.add([{ ...entry(1), redeliveryOf: 'r0' }]);
  const [taken] = await boxB.take(1);
  await boxB.settle(taken.id, { id: taken.id, outcome: 'delivered', redeliveryOf: 'r0' });
  await sleep(300);
  assert.deepEqual(results, [['d1', 'delivered']]);
  await boxA.close();
  await boxB.close();
  await a.close();
  await b.close();
});

test('redis: memory in Redis is bounded: acknowledged dispatches leave nothing, seen ids and slots expire', async () => {
  const store = kinds.redis({ dedupWindowMs: 300 });
  await store.whenReady();
  const box = await store.openOutbox('n1');
  await box.add([entry(1), entry(2)]);
  for (const e of await box.take(10)) {
    await box.settle(e.id, { id: e.id, outcome: 'delivered' });
    await box.ack(e.id);
  }
  assert.deepEqual(await store.client.hgetall(`${store.prefix}:usage`), { items: '0', bytes: '0' });
  await (await store.seenIds()).add('x');
  await store.rateGate().acquire('k', 100);
  assert.ok((await store.client.pttl(`${store.prefix}:seen`)) > 0, 'the seen ids expire');
  await sleep(1500);
  const left = (await store.client.keys(`${store.prefix}:*`)).sort();
  assert.deepEqual(left, [`${store.prefix}:obs`, `${store.prefix}:usage`], 'only the list of outboxes and the usage counters');
  await box.destroy();
  assert.deepEqual(await store.client.smembers(`${store.prefix}:obs`), []);
  await store.close();
});

test('redis away: operations fail with StoreUnavailableError at once, the problem is shown, the password never', async () => {
  const server = await startRedis({ password: 's3cret-pw', appendonly: true });
  const logs = [];
  const store = new RedisStore({ url: server.url, prefix: 'down', log: (level, m) => logs.push(m) });
  await store.whenReady();
  const box = await store.openOutbox('n1');
  await box.add([entry(1)]);
  await server.stop();
  await sleep(300);
  const errors = [];
  await box.add([entry(2)]).catch((e) => errors.push(e));
  await box.take(5).catch((e) => errors.push(e));
  await (await store.seenIds()).has('x').catch((e) => errors.push(e));
  await store
    .history()
    .listNotifiers()
    .catch((e) => errors.push(e));
  assert.equal(errors.length, 4);
  for (const e of errors) assert.ok(e instanceof StoreUnavailableError && e.code === 'store_unavailable', String(e));
  assert.match(box.problem, /Redis at 127\.0\.0\.1:\d+ is unavailable/);
  const shown = [...errors.map((e) => e.message), box.problem, ...logs].join('\n');
  assert.ok(!shown.includes('s3cret-pw'), shown);
  await server.start();
  await store.whenReady();
  assert.equal(box.problem, undefined, 'back once Redis is');
  assert.equal((await box.take(5)).length, 1, 'what was stored before is still there (kept by Redis across the stop)');
  await box.close();
  await store.close();
  await server.close();
});

test('a bad Redis URL is a clear error that does not show the password', () => {
  assert.throws(
    () => new RedisStore({ url: 'http://user:pw123@host' }),
    (err) => /notifierStore\.url must be a redis:\/\/ or rediss:\/\/ URL/.test(err.message) && !err.message.includes('pw123'),
  );
});

for (const [kind, make] of Object.entries(kinds)) {
  test(`${kind}: digest groups keep held events by seq and their timing across a reopen; released ones are gone; destroy removes them`, async () => {
    const store = make();
    await store.whenReady();
    let groups = await store.openGroups('dg1', { owner: { notifier: 'digest' } });
    if (groups.shared) assert.equal(await groups.shared.claim(), 'acquired', 'the first instance to ask owns the groups');
    assert.deepEqual(await groups.load(), []);
    await groups.hold('feed/package.added', [{ seq: 1, at: 1000, event: ev(1), msg: { topic: 't1' } }], { dueAt: 5000 });
    await groups.hold('feed/package.added', [{ seq: 2, at: 1001, event: ev(2) }], { dueAt: 5000 });
    await groups.hold('other <b>&"key"', [{ seq: 3, at: 1002, event: ev(3) }], { dueAt: 7000, lastDigestAt: 100 });
    await groups.release('feed/package.added', 1, { dueAt: 6000 });
    await groups.close();
    if (groups.shared) await groups.shared.resign();
    groups = await store.openGroups('dg1');
    if (groups.shared) assert.equal(await groups.shared.claim(), 'acquired');
    const loaded = (await groups.load()).sort((a, b) => a.key.localeCompare(b.key));
    assert.deepEqual(
      loaded.map((g) => [g.key, g.timing, g.events.map((e) => [e.seq, e.event.id, e.msg?.topic])]),
      [
        ['feed/package.added', { dueAt: 6000 }, [[2, 'e2', undefined]]],
        ['other <b>&"key"', { dueAt: 7000, lastDigestAt: 100 }, [[3, 'e3', undefined]]],
      ],
    );
    await groups.release('other <b>&"key"', 3, undefined);
    assert.deepEqual(
      (await groups.load()).map((g) => g.key),
      ['feed/package.added'],
      'a released group without a timing is closed',
    );
    assert.deepEqual(await store.groupsIds(), ['dg1']);
    await groups.destroy();
    assert.deepEqual(await store.groupsIds(), []);
    groups = await store.openGroups('dg1');
    assert.deepEqual(await groups.load(), []);
    await groups.close();
    await store.close();
  });
}

test("redis: one instance owns a node's digest groups; the others forward into its inbox; writes of a non-owner are refused", async () => {
  const a = kinds.redis({ leaseMs: 1000 });
  const b = sibling(a, { leaseMs: 1000 });
  await Promise.all([a.whenReady(), b.whenReady()]);
  const ga = await a.openGroups('dg');
  const gb = await b.openGroups('dg');
  const changes = [];
  ga.shared.onChange((what) => changes.push(what));
  assert.deepEqual(await Promise.all([ga.shared.claim(), gb.shared.claim()]), ['acquired', 'other']);
  assert.equal(await ga.shared.claim(), 'owner', 'renewed');
  await assert.rejects(gb.hold('k', [{ seq: 1, at: 1, event: ev(1) }], { dueAt: 1 }), (err) => err instanceof NotOwnerError);
  await assert.rejects(gb.release('k', 1, undefined), (err) => err instanceof NotOwnerError);
  await assert.rejects((await b.openGroups('dg')).destroy(), (err) => err instanceof NotOwnerError, 'never removes the groups another instance runs');

  await gb.shared.forward(ev(7), { topic: 'seven' });
  await gb.shared.forward(ev(8));
  const inbox = await ga.shared.inbox(10);
  assert.deepEqual(
    inbox.map((f) => [f.event.id, f.msg?.topic]),
    [
      ['e7', 'seven'],
      ['e8', undefined],
    ],
  );
  await waitFor(() => changes.filter((c) => c === 'forwarded').length === 2, 'the owner is told of each forwarded event');
  // holding a forwarded event takes it out of the inbox in the same write
  await ga.hold('k', [{ seq: 1, at: 1, event: inbox[0].event }], { dueAt: 1 }, inbox[0].id);
  await ga.shared.ack(inbox[1].id);
  assert.deepEqual(await ga.shared.inbox(10), []);
  assert.deepEqual(await gb.load(), await ga.load(), 'any instance reads the groups');
  for (const g of [ga, gb]) await g.close();
  await Promise.all([a.close(), b.close()]);
});

test('redis: an owner that stops renewing is taken over after the lease, and its later writes are refused; one that resigns is taken over at once', async () => {
  const a = kinds.redis({ leaseMs: 1000 });
  const b = sibling(a, { leaseMs: 1000 });
  await Promise.all([a.whenReady(), b.whenReady()]);
  const ga = await a.openGroups('dg');
  const gb = await b.openGroups('dg');
  assert.equal(await ga.shared.claim(), 'acquired');
  await ga.hold('k', [{ seq: 1, at: 1, event: ev(1) }], { dueAt: 1 });
  // the lease lapses with nobody taking it: the owner's next write takes it again (nothing changed meanwhile)
  await sleep(1100);
  await ga.hold('k', [{ seq: 2, at: 2, event: ev(2) }], { dueAt: 2 });
  assert.equal(await ga.shared.claim(), 'owner', 'still the owner, state unchanged');
  assert.equal(await gb.shared.claim(), 'other');
  // a stalls: b takes over once the lease lapsed
  await sleep(1100);
  assert.equal(await gb.shared.claim(), 'acquired');
  await assert.rejects(ga.hold('k', [{ seq: 3, at: 3, event: ev(3) }], { dueAt: 3 }), (err) => err instanceof NotOwnerError, 'fenced');
  await assert.rejects(ga.release('k', 2, undefined), (err) => err instanceof NotOwnerError);
  assert.equal(await ga.shared.claim(), 'other');
  assert.deepEqual(
    (await gb.load())[0].events.map((e) => e.seq),
    [1, 2],
    'the new owner loads what the old one held, and nothing it tried after',
  );
  const told = new Promise((resolve) => ga.shared.onChange((what) => what === 'resigned' && resolve()));
  await gb.shared.resign();
  await told;
  assert.equal(await ga.shared.claim(), 'acquired', 'taken at once after a resignation');
  for (const g of [ga, gb]) await g.close();
  await Promise.all([a.close(), b.close()]);
});

test("redis: removing a node's digest groups keeps forwarded events until they are taken in, and then leaves no key", async () => {
  const store = kinds.redis();
  await store.whenReady();
  const g = await store.openGroups('dg', { owner: { notifier: 'n' } });
  assert.equal(await g.shared.claim(), 'acquired');
  await g.hold('k', [{ seq: 1, at: 1, event: ev(1) }], { dueAt: 1 });
  await g.shared.forward(ev(2));
  await g.destroy();
  assert.deepEqual(await store.groupsIds(), ['dg'], 'listed while its inbox holds an event');
  const again = await store.openGroups('dg');
  assert.equal(await again.shared.claim(), 'acquired');
  const [f] = await again.shared.inbox(10);
  assert.equal(f.event.id, 'e2');
  await again.shared.ack(f.id);
  await again.destroy();
  assert.deepEqual(await store.groupsIds(), []);
  assert.deepEqual(await store.client.keys(`${store.prefix}:dg*`), [], 'no key left');
  await store.close();
});
