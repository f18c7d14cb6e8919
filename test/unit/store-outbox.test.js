'use strict';
// The file store under durable delivery: the outbox of a node (segments, the memory window, retry state, results,
// acknowledgements, bounds, torn writes) and the seen ids, read back as a restarted process would.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { FileStore, StoreFullError } = require('../../dist/core/store');
const { tmpDir } = require('../helpers/nr');

const ev = (i) => ({ id: `e${i}`, type: 'package.added', vars: { PackageId: `p${i}` } });
const entry = (i) => ({ id: `d${i}`, event: ev(i), createdAt: 1000 + i });

test('entries are kept across a reopen with their retry state and result; acknowledged ones are gone', async () => {
  const dir = tmpDir('pn-outbox-');
  let store = new FileStore(dir);
  let box = await store.openOutbox('n1');
  await box.add([entry(1), entry(2), entry(3)]);
  const taken = box.take(10);
  assert.deepEqual(
    taken.map((e) => e.id),
    ['d1', 'd2', 'd3'],
  );
  assert.deepEqual(box.take(10), [], 'each entry is given out once');
  await box.retryAt('d1', 2, [{ attempt: 1, startedAt: 'x', durationMs: 1, status: 503 }], 99_000);
  await box.settle('d2', { id: 'd2', outcome: 'delivered' });
  await box.ack('d3');
  await box.close();
  await store.close();

  store = new FileStore(dir);
  box = await store.openOutbox('n1');
  const back = box.take(10);
  assert.deepEqual(
    back.map((e) => e.id),
    ['d1', 'd2'],
  );
  assert.equal(back[0].attempts, 2);
  assert.equal(back[0].dueAt, 99_000);
  assert.equal(back[0].attemptLog[0].status, 503);
  assert.deepEqual(back[0].event, ev(1));
  assert.equal(back[1].record.outcome, 'delivered');
  assert.equal(box.stats().pending, 2);
  await box.close();
});

test('memory holds a bounded window; the rest waits on disk and is loaded, in order, as the window drains', async () => {
  const dir = tmpDir('pn-outbox-');
  const store = new FileStore(dir);
  const box = await store.openOutbox('n1', { windowItems: 10 });
  for (let i = 0; i < 100; i++) await box.add([entry(i)]);
  assert.equal(box.stats().pending, 100);
  assert.ok(box.stats().inMemory <= 12, `in memory: ${box.stats().inMemory}`);
  const seen = [];
  let more = () => undefined;
  box.onAvailable(() => more());
  while (seen.length < 100) {
    const got = box.take(100);
    if (got.length === 0) {
      await new Promise((r) => (more = r));
      continue;
    }
    for (const e of got) {
      seen.push(e.id);
      await box.ack(e.id);
    }
    assert.ok(box.stats().inMemory <= 20, `in memory: ${box.stats().inMemory}`);
  }
  assert.deepEqual([...new Set(seen)].length, 100, 'every entry once');
  assert.equal(box.stats().pending, 0);
  await box.close();
  const left = fs.readdirSync(path.join(dir, 'outbox', 'n1')).filter((n) => n.endsWith('.jsonl'));
  assert.ok(left.length <= 1, `finished segments are deleted, left: ${left}`);
});

test('past maxItems the outbox refuses with StoreFullError (queue_full), and accepts again once it drained', async () => {
  const store = new FileStore(tmpDir('pn-outbox-'), { maxItems: 5 });
  const box = await store.openOutbox('n1');
  await box.add([entry(1), entry(2), entry(3), entry(4), entry(5)]);
  await assert.rejects(box.add([entry(6)]), (err) => err instanceof StoreFullError && err.code === 'queue_full' && /full/.test(err.message));
  for (const e of box.take(10)) await box.ack(e.id);
  await box.add([entry(6)]);
  assert.equal(box.stats().pending, 1);
  await box.close();
});

test('a torn last line (a crash mid-write) is skipped, and the next write starts on a line of its own', async () => {
  const dir = tmpDir('pn-outbox-');
  let store = new FileStore(dir);
  let box = await store.openOutbox('n1');
  await box.add([entry(1)]);
  await box.close();
  const seg = path.join(dir, 'outbox', 'n1', fs.readdirSync(path.join(dir, 'outbox', 'n1'))[0]);
  fs.appendFileSync(seg, '{"t":"i","id":"d2","ev":{"id":"e2","ty');
  store = new FileStore(dir);
  box = await store.openOutbox('n1');
  const [e1] = box.take(10);
  assert.equal(e1.id, 'd1');
  await box.retryAt('d1', 1, [], 5);
  await box.close();
  box = await new FileStore(dir).openOutbox('n1');
  const [again] = box.take(10);
  assert.equal(again.attempts, 1, 'the state line after the torn one was read');
  await box.close();
});

test('the store directory is 0700 and its files 0600', async () => {
  const dir = tmpDir('pn-outbox-');
  const store = new FileStore(path.join(dir, 'store'));
  const box = await store.openOutbox('n1');
  await box.add([entry(1)]);
  const seen = await store.seenIds();
  await seen.add('x');
  await box.close();
  await store.close();
  const mode = (p) => fs.statSync(p).mode & 0o777;
  assert.equal(mode(path.join(dir, 'store')), 0o700);
  assert.equal(mode(path.join(dir, 'store', 'outbox', 'n1')), 0o700);
  for (const f of fs.readdirSync(path.join(dir, 'store', 'outbox', 'n1'))) assert.equal(mode(path.join(dir, 'store', 'outbox', 'n1', f)), 0o600);
  assert.equal(mode(path.join(dir, 'store', 'seen.jsonl')), 0o600);
});

test('seen ids survive a reopen within their window and are forgotten after it, bounded in count', async () => {
  const dir = tmpDir('pn-seen-');
  let now = 1_000_000;
  let store = new FileStore(dir, { dedupWindowMs: 1000, dedupMax: 50, now: () => now });
  let seen = await store.seenIds();
  await seen.add('a');
  assert.equal(seen.has('a'), true);
  await store.close();
  store = new FileStore(dir, { dedupWindowMs: 1000, dedupMax: 50, now: () => now });
  seen = await store.seenIds();
  assert.equal(seen.has('a'), true, 'kept across a restart');
  now += 2000;
  assert.equal(seen.has('a'), false, 'forgotten after the window');
  for (let i = 0; i < 200; i++) await seen.add(`id${i}`);
  assert.ok(seen.size <= 50, `size ${seen.size}`);
  assert.equal(seen.has('id199'), true);
  await store.close();
});

test('seen ids are kept as fixed-size digests: a huge id costs a short line, ids written by an older version still count', async () => {
  const dir = tmpDir('pn-seen-');
  const now = Date.UTC(2026, 10, 30);
  // a seen.jsonl from before digests: the ids themselves
  fs.writeFileSync(
    path.join(dir, 'seen.jsonl'),
    `${JSON.stringify({ id: 'old-id', at: now - 1000 })}\n${JSON.stringify({ id: 'expired', at: now - 10_000 })}\n`,
  );
  let store = new FileStore(dir, { dedupWindowMs: 5000, now: () => now });
  let seen = await store.seenIds();
  assert.equal(seen.has('old-id'), true, 'an id of the old format is recognized');
  assert.equal(seen.has('expired'), false, 'outside the window');
  const huge = 'x'.repeat(1_000_000);
  await seen.add(huge);
  await seen.add('a\n"b');
  assert.equal(seen.has(huge), true);
  assert.equal(seen.has(huge.slice(1)), false, 'a different id is not a repeat');
  assert.equal(seen.has('a\n"b'), true);
  await store.close();
  assert.ok(fs.statSync(path.join(dir, 'seen.jsonl')).size < 500, 'the file holds digests, not the ids');
  store = new FileStore(dir, { dedupWindowMs: 5000, now: () => now });
  seen = await store.seenIds();
  assert.equal(seen.has(huge), true, 'kept across a restart');
  assert.equal(seen.has('a\n"b'), true);
  assert.equal(seen.has('old-id'), true);
  await store.close();
});
