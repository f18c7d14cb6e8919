'use strict';
// The claim of a delivery id in the Redis store (SeenIds.claim), against a redis-server of this test's own: one
// atomic step answers 'seen', 'busy' or 'claimed'; `add` and `unclaim` end a claim, its TTL ends it when the
// instance died; two instances racing to claim the same ids get exactly one 'claimed' each. The file store has none.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { FileStore, RedisStore, StoreUnavailableError } = require('../../dist/core/store');
const { tmpDir } = require('../helpers/nr');
const { startRedis } = require('../helpers/redis');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let prefixes = 0;

let redis;
test.before(async () => {
  redis = await startRedis();
});
test.after(async () => {
  await redis?.close();
});

/** Two instances (RedisStore objects, each its own connection) on one prefix. */
async function pair(options = {}) {
  const prefix = `claim${++prefixes}`;
  const a = new RedisStore({ url: redis.url, prefix, ...options });
  const b = new RedisStore({ url: redis.url, prefix, ...options });
  await Promise.all([a.whenReady(), b.whenReady()]);
  return { a, b, seenA: await a.seenIds(), seenB: await b.seenIds(), close: () => Promise.all([a.close(), b.close()]) };
}

test('redis: claim answers claimed, then busy to another instance; add makes it seen and ends the claim', async () => {
  const { a, seenA, seenB, close } = await pair();
  try {
    assert.equal(await seenA.claim('d1', 10_000), 'claimed');
    assert.equal(await seenB.claim('d1', 10_000), 'busy', 'another instance holds the claim');
    assert.equal(await seenA.claim('d1', 10_000), 'busy', 'a claim is not re-entrant: the same instance waits too');
    assert.equal(await seenB.has('d1'), false, 'a claim is not a seen id');
    const ttl = await a.client.pttl(`${a.prefix}:sc:d1`);
    assert.ok(ttl > 9000 && ttl <= 10_000, `the claim lapses after its TTL (${ttl} ms left)`);
    await seenA.add('d1');
    assert.equal(await a.client.exists(`${a.prefix}:sc:d1`), 0, 'add removes the claim');
    assert.equal(await seenB.claim('d1', 10_000), 'seen');
    assert.equal(await seenB.has('d1'), true);
    // an id added without a claim is seen too
    await seenB.add('d2');
    assert.equal(await seenA.claim('d2', 10_000), 'seen');
  } finally {
    await close();
  }
});

test('redis: unclaim lets another instance claim at once; only the holder can give a claim up', async () => {
  const { a, seenA, seenB, close } = await pair();
  try {
    assert.equal(await seenA.claim('d1', 60_000), 'claimed');
    await seenB.unclaim('d1'); // B holds no claim of d1: nothing happens
    assert.equal(await seenB.claim('d1', 60_000), 'busy');
    await seenA.unclaim('d1');
    assert.equal(await a.client.exists(`${a.prefix}:sc:d1`), 0);
    assert.equal(await seenB.claim('d1', 60_000), 'claimed', 'the acceptance failed: a retry goes through at once');
    assert.equal(await seenB.has('d1'), false);
    await seenA.unclaim('d1'); // A gave its claim up already: B's stays
    assert.equal(await seenA.claim('d1', 60_000), 'busy');
    await seenB.add('d1');
    assert.equal(await seenA.claim('d1', 60_000), 'seen');
  } finally {
    await close();
  }
});

test('redis: a claim lapses after its TTL (an instance that died blocks the id no longer); a seen id only within the window', async () => {
  const { seenA, seenB, close } = await pair({ dedupWindowMs: 1000 });
  try {
    assert.equal(await seenA.claim('d1', 300), 'claimed');
    assert.equal(await seenB.claim('d1', 300), 'busy');
    await sleep(450);
    assert.equal(await seenB.claim('d1', 10_000), 'claimed', 'taken after the TTL');
    await seenB.add('d1');
    assert.equal(await seenA.claim('d1', 10_000), 'seen');
    await sleep(1200);
    assert.equal(await seenA.claim('d1', 10_000), 'claimed', 'past the window an id is new again');
  } finally {
    await close();
  }
});

test('redis: two instances claiming the same 200 ids at once: exactly one claimed each, the other busy', async () => {
  const { seenA, seenB, close } = await pair();
  try {
    const ids = Array.from({ length: 200 }, (_, i) => `race-${i}`);
    // 400 claims in flight together: A asks for the first half and B for the second half of the ids at once, and
    // in the next turn of the event loop (before the answers are back) each for the other half
    const half = (from) => ids.slice(from, from + 100);
    const tick = () => new Promise((r) => setImmediate(r));
    const first = [...half(0).map((id) => seenA.claim(id, 10_000)), ...half(100).map((id) => seenB.claim(id, 10_000))];
    await tick();
    const second = [...half(0).map((id) => seenB.claim(id, 10_000)), ...half(100).map((id) => seenA.claim(id, 10_000))];
    const [f, g] = await Promise.all([Promise.all(first), Promise.all(second)]);
    /** [A's answer, B's answer] per id */
    const answers = ids.map((_, i) => (i < 100 ? [f[i], g[i]] : [g[i], f[i]]));
    for (const [i, pairOf] of answers.entries()) {
      assert.deepEqual([...pairOf].sort(), ['busy', 'claimed'], `${ids[i]}: ${pairOf}`);
    }
    const byA = answers.filter(([x]) => x === 'claimed').length;
    // the winner adds: from then on both see it
    await Promise.all(ids.map((id, i) => (answers[i][0] === 'claimed' ? seenA : seenB).add(id)));
    const again = await Promise.all(ids.map((id) => Promise.all([seenA.claim(id, 10_000), seenB.claim(id, 10_000)])));
    assert.ok(
      again.every(([x, y]) => x === 'seen' && y === 'seen'),
      'every id is seen by both',
    );
    console.log(`# 200 ids raced by two instances: ${byA} claimed by A, ${200 - byA} by B, none by both`);
  } finally {
    await close();
  }
});

test('redis: twenty concurrent claimers of one id on two instances: one claimed', async () => {
  const { seenA, seenB, close } = await pair();
  try {
    for (let round = 0; round < 20; round++) {
      const id = `hot-${round}`;
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? seenA : seenB).claim(id, 10_000)));
      assert.equal(answers.filter((x) => x === 'claimed').length, 1, `${id}: ${answers}`);
    }
  } finally {
    await close();
  }
});

test('redis away: claim and unclaim fail with StoreUnavailableError', async () => {
  const own = await startRedis();
  const store = new RedisStore({ url: own.url, prefix: 'away' });
  try {
    await store.whenReady();
    const seen = await store.seenIds();
    assert.equal(await seen.claim('d1', 10_000), 'claimed');
    await own.stop();
    await assert.rejects(seen.claim('d2', 10_000), (err) => err instanceof StoreUnavailableError);
    await assert.rejects(seen.unclaim('d1'), (err) => err instanceof StoreUnavailableError);
  } finally {
    await store.close();
    await own.close();
  }
});

test('file: the seen ids have no claim (one process: the event node serializes its own requests)', async () => {
  const store = new FileStore(path.join(tmpDir('pn-claim-'), 'store'));
  try {
    await store.whenReady();
    const seen = await store.seenIds();
    assert.equal(seen.claim, undefined);
    assert.equal(seen.unclaim, undefined);
  } finally {
    await store.close();
  }
});
