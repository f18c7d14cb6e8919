'use strict';
// A digest node's groups shared by several instances on one Redis (a redis-server of this test's own): DigestRunner
// on two RedisStores. One instance owns the groups and digests what both received; the other forwards. An owner that
// resigns (a redeploy) or stops renewing (it stalled or died) is taken over with everything it held; an owner that
// lost its lease has its writes refused and forwards instead; a forwarded event that passes through goes on once.
const test = require('node:test');
const assert = require('node:assert/strict');
const { DigestRunner, parseDigestConfig } = require('../../dist/core/digest');
const { ManualClock, systemClock } = require('../../dist/core/delivery');
const { RedisStore } = require('../../dist/core/store');
const { normalizeEvent } = require('../../dist/core/events');
const { startRedis } = require('../helpers/redis');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const promoted = (i, feed = 'internal') =>
  normalizeEvent({ type: 'package.promoted', id: `e${i}`, vars: { PackageId: `Pkg${i}`, PackageVersion: '1.0.0', FeedName: feed } });

let redis;
let prefixes = 0;
test.before(async () => {
  redis = await startRedis();
});
test.after(async () => {
  await redis?.close();
});

async function waitFor(check, what, ms = 10_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what}`);
    await sleep(20);
  }
}

/** One instance: its own RedisStore on the shared prefix, a runner for node `dg`, and what it handed on. */
async function instance(prefix, props, { clock = systemClock, leaseMs = 1000, server = redis } = {}) {
  const store = new RedisStore({ url: server.url, prefix, leaseMs });
  await store.whenReady();
  const out = [];
  const problems = [];
  const runner = new DigestRunner(
    parseDigestConfig(props),
    await store.openGroups('dg'),
    {
      deliver: async (key, output) => {
        out.push({ key, ...output });
      },
      pass: async (event) => {
        out.push({ kind: 'pass', event });
      },
      problem: (m) => problems.push(m),
    },
    clock,
    { pollMs: 200 },
  );
  await runner.start();
  return { store, runner, out, problems };
}

const digests = (out) => out.filter((o) => o.kind === 'digest');
const countOf = (outs) => digests(outs).reduce((n, o) => n + o.count, 0);

test('two instances: one owns the groups and digests the events both received, once; the other is on standby', async () => {
  const prefix = `ds${++prefixes}`;
  const props = { wait: 1, threshold: 2, interval: 30, maxEvents: 100 };
  const a = await instance(prefix, props);
  const b = await instance(prefix, props);
  try {
    assert.deepEqual([a.runner.owner, b.runner.owner], [true, false]);
    assert.equal(b.runner.stats().standby, true);
    for (let i = 0; i < 20; i++) assert.equal(await (i % 2 ? b : a).runner.accept(promoted(i)), 'held');
    assert.equal(b.runner.forwarded, 10);
    await waitFor(() => countOf(a.out) === 20, 'one digest of the 20 events at the owner');
    await sleep(300);
    assert.equal(digests(a.out).length, 1);
    assert.equal(digests(a.out)[0].count, 20);
    assert.deepEqual(b.out, [], 'the standby hands nothing on');
    assert.equal(new Set(digests(a.out)[0].event.vars.Events.map((e) => e.PackageId)).size, 20, 'every event listed once');
  } finally {
    await a.runner.close(false);
    await b.runner.close(false);
    await Promise.all([a.store.close(), b.store.close()]);
  }
});

test('an owner that stops (a redeploy) gives the groups up: the other instance takes them at once and digests what the first held', async () => {
  const prefix = `ds${++prefixes}`;
  const props = { wait: 2, threshold: 2, interval: 30, maxEvents: 100 };
  const a = await instance(prefix, props, { leaseMs: 30_000 });
  const b = await instance(prefix, props, { leaseMs: 30_000 });
  try {
    for (let i = 0; i < 6; i++) await (i % 2 ? b : a).runner.accept(promoted(i));
    await waitFor(() => a.runner.stats().held === 6, 'the owner took in the forwarded events');
    const stopped = Date.now();
    assert.deepEqual(await a.runner.close(false), { left: 6 }, 'what it held stays stored');
    await waitFor(() => b.runner.owner, 'b owns the groups');
    assert.ok(Date.now() - stopped < 2000, `taken over at once, not after the 30 s lease (${Date.now() - stopped} ms)`);
    await waitFor(() => countOf(b.out) === 6, 'b digests the 6 events');
    assert.deepEqual(a.out, []);
    assert.equal(digests(b.out).length, 1);
  } finally {
    await b.runner.close(false);
    await Promise.all([a.store.close(), b.store.close()]);
  }
});

test('an owner that stalls loses the groups after the lease: the other digests every event, and the stalled one forwards what it gets after', async () => {
  const prefix = `ds${++prefixes}`;
  const props = { wait: 1, threshold: 2, interval: 30, maxEvents: 100 };
  // a: its timers never fire (a stalled process: no renewal, no hand-over)
  const stalled = new ManualClock({ start: Date.now() });
  const a = await instance(prefix, props, { clock: stalled });
  const b = await instance(prefix, props);
  try {
    assert.equal(a.runner.owner, true);
    for (let i = 0; i < 8; i++) await (i % 2 ? b : a).runner.accept(promoted(i));
    await waitFor(() => b.runner.owner, 'b takes the groups once the lease lapsed', 5000);
    // a still believes it owns them: its write is refused and the event goes to b
    assert.equal(await a.runner.accept(promoted(8)), 'held');
    await waitFor(() => countOf(b.out) + b.runner.stats().held === 9, 'b has all 9 events: digested, or held after the digest');
    assert.deepEqual(
      digests(b.out)
        .flatMap((o) => o.event.vars.Events.map((e) => e.PackageId))
        .sort(),
      Array.from({ length: 9 - b.runner.stats().held }, (_, i) => `Pkg${i}`).sort(),
      'the digest lists what the stalled owner and the other instance held, each once',
    );
    assert.equal(a.runner.owner, false, 'a stepped down when its write was refused');
    assert.deepEqual(a.out, [], 'the stalled instance handed nothing on');
  } finally {
    await a.runner.close(false);
    await b.runner.close(false);
    await Promise.all([a.store.close(), b.store.close()]);
  }
});

test('wait 0: an event forwarded to the owner passes through once, unchanged; the burst after the threshold is held', async () => {
  const prefix = `ds${++prefixes}`;
  const props = { wait: 0, threshold: 3, interval: 1, maxEvents: 100 };
  const a = await instance(prefix, props);
  const b = await instance(prefix, props);
  try {
    assert.equal(await b.runner.accept(promoted(1)), 'held', 'stored for the owner');
    await waitFor(() => a.out.length === 1, 'the owner passes it on');
    assert.deepEqual([a.out[0].kind, a.out[0].event.id], ['pass', 'e1']);
    for (let i = 2; i <= 5; i++) await b.runner.accept(promoted(i));
    await waitFor(() => countOf(a.out) === 3, 'the rest of the burst as a digest after the interval');
    assert.deepEqual(
      a.out.filter((o) => o.kind === 'pass').map((o) => o.event.id),
      ['e1', 'e2'],
    );
    assert.equal(await b.store.client.xlen(`${prefix}:dg:dg:in`), 0, 'the inbox is empty');
  } finally {
    await a.runner.close(false);
    await b.runner.close(false);
    await Promise.all([a.store.close(), b.store.close()]);
  }
});

test('a removed node: the owner takes in what was forwarded, hands everything on and removes the groups', async () => {
  const prefix = `ds${++prefixes}`;
  const props = { wait: 60, threshold: 2, interval: 60, maxEvents: 100 };
  const a = await instance(prefix, props);
  const b = await instance(prefix, props);
  try {
    await a.runner.accept(promoted(1));
    await b.runner.accept(promoted(2));
    await b.runner.accept(promoted(3));
    assert.deepEqual(await b.runner.close(true), { left: 0 }, 'the standby has nothing to hand on');
    assert.deepEqual(await a.runner.close(true), { left: 0 });
    assert.equal(countOf(a.out), 3, 'one digest of all 3 at once');
    assert.deepEqual(await a.store.groupsIds(), []);
    assert.deepEqual(await a.store.client.keys(`${prefix}:dg*`), []);
  } finally {
    await Promise.all([a.store.close(), b.store.close()]);
  }
});

test('Redis away: both the owner and the standby refuse events (StoreUnavailableError, nothing kept); once it is back they go on in the same roles', async () => {
  const prefix = `ds${++prefixes}`;
  const props = { wait: 1, threshold: 2, interval: 30, maxEvents: 100 };
  // a server of its own that keeps its data across a stop
  const server = await startRedis({ appendonly: true });
  const a = await instance(prefix, props, { leaseMs: 5000, server });
  const b = await instance(prefix, props, { leaseMs: 5000, server });
  try {
    await a.runner.accept(promoted(1));
    await server.stop();
    await sleep(200);
    for (const x of [a, b]) await assert.rejects(x.runner.accept(promoted(2)), (err) => err.code === 'store_unavailable', 'refused, not kept');
    await server.start();
    await Promise.all([a.store.whenReady(), b.store.whenReady()]);
    await b.runner.accept(promoted(3));
    await a.runner.accept(promoted(4));
    await waitFor(() => countOf(a.out) === 3, 'the owner digests the 3 events accepted (the one refused is not there)');
    assert.deepEqual(
      digests(a.out)[0]
        .event.vars.Events.map((e) => e.PackageId)
        .sort(),
      ['Pkg1', 'Pkg3', 'Pkg4'],
    );
    assert.deepEqual([a.runner.owner, b.runner.owner], [true, false]);
  } finally {
    await a.runner.close(false);
    await b.runner.close(false);
    await Promise.all([a.store.close(), b.store.close()]);
    await server.close();
  }
});
