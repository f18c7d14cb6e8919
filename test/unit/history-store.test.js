'use strict';
// The durable history store (src/core/history): what it keeps, per notifier, on disk and in memory.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { tmpDir } = require('../helpers/nr');
const {
  HistoryStore,
  HistoryInputError,
  acquireHistoryStore,
  releaseHistoryStore,
  historyStoreRefs,
  JOURNAL_FILE,
  REDACTED,
  DEFAULT_MAX_EVENT_BYTES,
} = require('../../dist/core/history');
const { normalizeEvent, sampleEvent } = require('../../dist/core/events');
const { buildDigestEvent, countEvent, emptySummary } = require('../../dist/core/digest');

let seq = 0;
function record(notifierId, overrides = {}) {
  seq++;
  return {
    id: `rec-${seq}`,
    notifier: `name of ${notifierId}`,
    notifierId,
    channel: 'webhook',
    eventId: `evt-${seq}`,
    eventType: 'package.added',
    feed: 'internal-utils',
    summary: `dispatch ${seq}`,
    outcome: 'delivered',
    attempts: 1,
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    durationMs: 12,
    request: { method: 'POST', url: 'https://hooks.example.com/x', headers: { 'Content-Type': 'application/json' }, body: '{}' },
    response: { status: 200, body: 'ok' },
    ...overrides,
  };
}

async function reopen(dir, options) {
  const store = new HistoryStore(dir, options);
  await store.whenReady();
  return store;
}

function journalLines(dir) {
  return fs.readFileSync(path.join(dir, JOURNAL_FILE), 'utf8').split('\n').filter(Boolean);
}

test('60 dispatches to one notifier keep exactly the latest 50, newest first, in memory and after reopening', async () => {
  const dir = tmpDir('pn-hist-');
  const store = await reopen(dir);
  const ids = [];
  for (let i = 0; i < 60; i++) {
    const r = record('n1');
    ids.push(r.id);
    await store.keep(r);
  }
  const expected = ids.slice(10).reverse();
  const page = store.getRecords('n1');
  assert.equal(page.total, 50);
  assert.deepEqual(
    page.records.map((r) => r.id),
    expected,
  );
  const summary = store.getNotifier('n1');
  assert.equal(summary.kept, 50);
  assert.equal(summary.total, 60);
  assert.equal(summary.lastRecordId, ids[59]);
  await store.close();

  const again = await reopen(dir);
  assert.deepEqual(
    again.getRecords('n1').records.map((r) => r.id),
    expected,
  );
  assert.equal(again.getNotifier('n1').total, 60);
  await again.close();
});

test('two notifiers are kept apart, each with its own latest records', async () => {
  const dir = tmpDir('pn-hist-');
  const store = await reopen(dir);
  const a = [];
  const b = [];
  for (let i = 0; i < 55; i++) {
    const ra = record('a', { notifier: 'Alpha' });
    const rb = record('b', { notifier: 'Beta', channel: 'slack', outcome: i % 2 ? 'failed' : 'delivered' });
    a.push(ra.id);
    b.push(rb.id);
    await Promise.all([store.keep(ra), store.keep(rb)]);
  }
  assert.deepEqual(
    store.getRecords('a').records.map((r) => r.id),
    a.slice(5).reverse(),
  );
  assert.deepEqual(
    store.getRecords('b').records.map((r) => r.id),
    b.slice(5).reverse(),
  );
  assert.ok(store.getRecords('a').records.every((r) => r.notifierId === 'a' && r.notifier === 'Alpha'));
  const list = store.listNotifiers();
  assert.deepEqual(list.map((n) => n.notifier).sort(), ['Alpha', 'Beta']);
  const beta = list.find((n) => n.notifierId === 'b');
  assert.equal(beta.channel, 'slack');
  assert.equal(beta.failed, 25);
  assert.equal(beta.delivered, 25);
  assert.deepEqual(store.findNotifiers('Beta'), ['b']);
  assert.deepEqual(store.findNotifiers('a'), ['a']);
  await store.close();
});

test('paging returns newest-first slices of a notifier', async () => {
  const dir = tmpDir('pn-hist-');
  const store = await reopen(dir);
  const ids = [];
  for (let i = 0; i < 20; i++) {
    const r = record('p');
    ids.push(r.id);
    await store.keep(r);
  }
  const newest = ids.slice().reverse();
  assert.deepEqual(
    store.getRecords('p', { offset: 0, limit: 5 }).records.map((r) => r.id),
    newest.slice(0, 5),
  );
  assert.deepEqual(
    store.getRecords('p', { offset: 15, limit: 10 }).records.map((r) => r.id),
    newest.slice(15),
  );
  assert.equal(store.getRecords('p', { offset: 40, limit: 10 }).records.length, 0);
  assert.equal(store.getRecords('unknown'), undefined);
  await store.close();
});

test('a keep limit applies per notifier; lowering it through setLimit trims the notifiers of that history node only', async () => {
  const dir = tmpDir('pn-hist-');
  const store = await reopen(dir);
  const ids = [];
  for (let i = 0; i < 30; i++) {
    const r = record('x');
    ids.push(r.id);
    await store.keep(r, undefined, { limit: 20, keptBy: 'h1' });
    await store.keep(record('y'), undefined, { limit: 20, keptBy: 'h2' });
  }
  assert.equal(store.getRecords('x').total, 20);
  assert.equal(await store.setLimit('h1', 5), 15);
  assert.deepEqual(
    store.getRecords('x').records.map((r) => r.id),
    ids.slice(25).reverse(),
  );
  assert.equal(store.getNotifier('x').limit, 5);
  assert.equal(store.getRecords('y').total, 20, 'a notifier kept by another history node is not trimmed');
  // raising the limit keeps what is there and lets it grow again
  assert.equal(await store.setLimit('h1', 8), 0);
  for (let i = 0; i < 5; i++) await store.keep(record('x'), undefined, { limit: 8, keptBy: 'h1' });
  assert.equal(store.getRecords('x').total, 8);
  await store.close();

  const again = await reopen(dir);
  assert.equal(again.getRecords('x').total, 8);
  assert.equal(again.getNotifier('x').limit, 8);
  assert.equal(again.getRecords('y').total, 20);
  await again.close();
  await assert.rejects(() => new HistoryStore(dir).setLimit('h1', 0), RangeError);
});

test('secret headers, URL credentials and oversized bodies are redacted again when stored', async () => {
  const dir = tmpDir('pn-hist-');
  const store = await reopen(dir);
  const entry = await store.keep(
    record('r', {
      request: {
        method: 'POST',
        url: 'https://user:hunter2@example.com/hook?sig=abcdef&x=1',
        headers: {
          Authorization: 'Bearer s3cr3t',
          'X-Hub-Signature-256': 'sha256=0123',
          'webhook-signature': 'v1,abc',
          Cookie: 'sid=1',
          'X-Api-Key': 'k',
          'Content-Type': 'application/json',
        },
        body: 'x'.repeat(70 * 1024),
      },
      response: { status: 500, headers: { 'Set-Cookie': 'sid=2', 'Content-Type': 'text/plain' }, body: 'y'.repeat(5000) },
    }),
  );
  const h = entry.request.headers;
  assert.equal(h.Authorization, REDACTED);
  assert.equal(h['X-Hub-Signature-256'], REDACTED);
  assert.equal(h['webhook-signature'], REDACTED);
  assert.equal(h.Cookie, REDACTED);
  assert.equal(h['X-Api-Key'], REDACTED);
  assert.equal(h['Content-Type'], 'application/json');
  assert.equal(entry.response.headers['Set-Cookie'], REDACTED);
  assert.doesNotMatch(entry.request.url, /hunter2|abcdef/);
  assert.match(entry.request.url, /x=1/);
  assert.ok(entry.request.body.length <= 64 * 1024 + 1);
  assert.ok(entry.response.body.length <= 4 * 1024 + 1);
  await store.close();
  const text = fs.readFileSync(path.join(dir, JOURNAL_FILE), 'utf8');
  for (const secret of ['s3cr3t', 'hunter2', 'abcdef', 'sha256=0123', 'sid=1', 'sid=2']) {
    assert.ok(!text.includes(secret), `${secret} must not reach the disk`);
  }
});

test('a digest larger than the history keeps is kept shortened: the first events listed, the rest counted, redeliverable; it survives a reopen', async () => {
  const dir = tmpDir('pn-hist-');
  const warnings = [];
  let store = await reopen(dir, { warn: (m) => warnings.push(m) });
  const events = [];
  const summary = emptySummary();
  for (let i = 0; i < 5000; i++) {
    const base = sampleEvent('package.promoted');
    const e = normalizeEvent({ type: base.type, id: `e${i}`, vars: { ...base.vars, PackageId: `Some.Rather.Long.Package.Name${i}` } });
    events.push(e);
    countEvent(summary, e);
  }
  const digest = buildDigestEvent('internal/Promoted', events, summary, { maxEvents: 5000, now: new Date(Date.UTC(2026, 0, 1)) });
  const fullBytes = Buffer.byteLength(JSON.stringify(digest));
  assert.ok(fullBytes > DEFAULT_MAX_EVENT_BYTES, `the digest is larger than the history keeps (${fullBytes} bytes)`);
  const kept = await store.keep(record('d'), digest);
  assert.ok(kept.event, 'kept, so that it can be redelivered');
  const keptBytes = Buffer.byteLength(JSON.stringify(kept.event));
  assert.ok(keptBytes <= DEFAULT_MAX_EVENT_BYTES, `within the limit: ${keptBytes} bytes`);
  assert.ok(keptBytes > DEFAULT_MAX_EVENT_BYTES * 0.95, `as many events as fit: ${keptBytes} bytes`);
  const listed = kept.event.vars.Events.length;
  assert.deepEqual(kept.eventShortened, { listed, was: digest.vars.Events.length });
  assert.deepEqual(
    kept.event.vars.Events.map((e) => e.PackageId),
    digest.vars.Events.slice(0, listed).map((e) => e.PackageId),
    'the first ones, in order',
  );
  assert.equal(kept.event.vars.EventCount, '5000', 'the count is unchanged');
  assert.equal(Number(kept.event.vars.OmittedCount), 5000 - listed, 'the rest are counted');
  assert.deepEqual(kept.event.vars.CountsByType, digest.vars.CountsByType);
  assert.deepEqual(warnings, [], 'no warning: it was kept');
  await store.close();
  store = await reopen(dir);
  const [back] = store.getRecords('d').records;
  assert.deepEqual([back.eventShortened, back.event.vars.Events.length], [kept.eventShortened, listed]);
  await store.close();
});

test('the event is kept with its record for redelivery; an oversized event is not (with a warning)', async () => {
  const dir = tmpDir('pn-hist-');
  const warnings = [];
  const store = await reopen(dir, { maxEventBytes: 4096, warn: (m) => warnings.push(m) });
  const event = sampleEvent('package.added');
  const kept = await store.keep(record('e'), event);
  assert.deepEqual(kept.event, JSON.parse(JSON.stringify(event)));
  const big = { ...event, vars: { ...event.vars, Big: 'z'.repeat(5000) } };
  const bigKept = await store.keep(record('e'), big);
  assert.equal(bigKept.event, undefined);
  assert.match(warnings.join('\n'), /larger than 4096 bytes/);
  const notEvent = await store.keep(record('e'), { hello: 'world' });
  assert.equal(notEvent.event, undefined);
  const circular = { ...event, vars: { ...event.vars } };
  circular.vars.self = circular;
  const circularKept = await store.keep(record('e'), circular);
  assert.equal(circularKept.event, undefined);
  assert.match(warnings.join('\n'), /cannot be stored as JSON/);
  // a record with odd values in its request still gets kept, bounded
  const odd = record('e', { request: { method: 'POST', url: 'http://x', nested: { a: { b: { c: { d: { e: { f: { g: 'deep' } } } } } } } } });
  odd.request.self = odd.request;
  await store.keep(odd);
  await store.close();
  const again = await reopen(dir);
  assert.deepEqual(again.getRecord('e', kept.id).event, JSON.parse(JSON.stringify(event)));
  await again.close();
});

test('an invalid dispatch record is refused with an error naming each problem', async () => {
  const store = await reopen(tmpDir('pn-hist-'));
  await assert.rejects(
    () => store.keep('nope'),
    (err) => err instanceof HistoryInputError && /must be an object/.test(err.message),
  );
  await assert.rejects(
    () => store.keep({ id: '', notifierId: 7, outcome: 'maybe' }),
    (err) =>
      err instanceof HistoryInputError &&
      /id must be a non-empty string/.test(err.message) &&
      /notifierId must be a non-empty string/.test(err.message) &&
      /outcome must be "delivered" or "failed"/.test(err.message),
  );
  assert.equal(store.stats().recordsInMemory, 0);
  await store.close();
});

test('the same record reported twice (redelivery seen by the API and the history node) is kept once', async () => {
  const dir = tmpDir('pn-hist-');
  const store = await reopen(dir);
  const r = record('d', { redeliveryOf: 'rec-0' });
  await Promise.all([store.keep(r), store.keep(r)]);
  assert.equal(store.getRecords('d').total, 1);
  assert.equal(store.getNotifier('d').total, 1);
  await store.close();
  const again = await reopen(dir);
  assert.equal(again.getRecords('d').total, 1);
  assert.equal(again.getRecords('d').records[0].redeliveryOf, 'rec-0');
  await again.close();
});

test('a torn last write is skipped with a warning and the store starts with every complete record', async () => {
  const dir = tmpDir('pn-hist-');
  const store = await reopen(dir);
  const ids = [];
  for (let i = 0; i < 5; i++) {
    const r = record('t');
    ids.push(r.id);
    await store.keep(r);
  }
  await store.close();
  // a crash in the middle of appending the next record
  const half = JSON.stringify({ t: 'r', n: 't', r: record('t') }).slice(0, 57);
  fs.appendFileSync(path.join(dir, JOURNAL_FILE), half);

  const warnings = [];
  const again = await reopen(dir, { warn: (m) => warnings.push(m) });
  assert.deepEqual(
    again.getRecords('t').records.map((r) => r.id),
    ids.slice().reverse(),
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /torn last write/);
  assert.equal(again.stats().skippedLines, 1);
  // the next record is not glued to the torn line
  const next = record('t');
  await again.keep(next);
  await again.close();
  const third = await reopen(dir, { warn: (m) => warnings.push(m) });
  assert.equal(warnings.length, 1, 'the journal was rewritten clean');
  assert.deepEqual(
    third.getRecords('t').records.map((r) => r.id),
    [next.id, ...ids.slice().reverse()],
  );
  for (const line of journalLines(dir)) JSON.parse(line);
  await third.close();
});

test('an unreadable line in the middle is skipped with a warning, never a failed start', async () => {
  const dir = tmpDir('pn-hist-');
  const store = await reopen(dir);
  const first = record('m');
  await store.keep(first);
  await store.close();
  fs.appendFileSync(path.join(dir, JOURNAL_FILE), '{"garbage\n{"t":"zzz","n":"m"}\n');
  const after = new HistoryStore(dir);
  await after.whenReady();
  const second = record('m');
  await after.keep(second);
  await after.close();
  const warnings = [];
  const again = await reopen(dir, { warn: (m) => warnings.push(m) });
  assert.deepEqual(
    again.getRecords('m').records.map((r) => r.id),
    [second.id, first.id],
  );
  assert.equal(warnings.length, 0, 'the damaged lines were dropped when the journal was rewritten');
  await again.close();
});

test('the journal is compacted when it grows: its size stays bounded and nothing kept is lost', async () => {
  const dir = tmpDir('pn-hist-');
  const store = await reopen(dir, { compactAfterLines: 50, defaultLimit: 10 });
  const last = {};
  for (let i = 0; i < 600; i++) {
    const n = `c${i % 3}`;
    const r = record(n);
    (last[n] ??= []).push(r.id);
    await store.keep(r);
  }
  const stats = store.stats();
  assert.ok(stats.compactions >= 5, `compactions: ${stats.compactions}`);
  const lines = journalLines(dir).length;
  assert.ok(lines <= 30 + 3 + 50, `journal lines ${lines} stay bounded`);
  assert.equal(stats.recordsInMemory, 30);
  await store.close();
  assert.ok(!fs.existsSync(path.join(dir, `${JOURNAL_FILE}.tmp`)));
  const again = await reopen(dir, { defaultLimit: 10 });
  for (const n of Object.keys(last)) {
    assert.deepEqual(
      again.getRecords(n).records.map((r) => r.id),
      last[n].slice(-10).reverse(),
    );
    assert.equal(again.getNotifier(n).total, 200);
  }
  await again.close();
});

test('a leftover temp file of an interrupted compaction is ignored', async () => {
  const dir = tmpDir('pn-hist-');
  const store = await reopen(dir);
  const r = record('z');
  await store.keep(r);
  await store.close();
  fs.writeFileSync(path.join(dir, `${JOURNAL_FILE}.tmp`), '{"t":"c","n":"z"}\n{"t":"r"');
  const again = await reopen(dir);
  assert.deepEqual(
    again.getRecords('z').records.map((x) => x.id),
    [r.id],
  );
  assert.ok(!fs.existsSync(path.join(dir, `${JOURNAL_FILE}.tmp`)));
  await again.close();
});

test('concurrent writes are serialized: every record of 300 parallel keeps is kept, each on its own line', async () => {
  const dir = tmpDir('pn-hist-');
  const store = await reopen(dir, { defaultLimit: 1000 });
  const records = Array.from({ length: 300 }, (_, i) => record(`s${i % 4}`));
  await Promise.all(records.map((r) => store.keep(r)));
  assert.equal(store.stats().recordsInMemory, 300);
  await store.close();
  const lines = journalLines(dir);
  const ids = new Set(
    lines
      .map((l) => JSON.parse(l))
      .filter((l) => l.t === 'r')
      .map((l) => l.r.id),
  );
  for (const r of records) assert.ok(ids.has(r.id), `${r.id} on disk`);
});

test('clearing a notifier removes its records from memory and from the file', async () => {
  const dir = tmpDir('pn-hist-');
  const store = await reopen(dir);
  const gone = record('gone', { summary: 'secret-summary-to-clear' });
  await store.keep(gone);
  await store.keep(record('stay'));
  assert.equal(await store.clear('gone'), 1);
  assert.equal(await store.clear('never-seen'), 0);
  assert.equal(store.getNotifier('gone'), undefined);
  await store.close();
  assert.ok(!fs.readFileSync(path.join(dir, JOURNAL_FILE), 'utf8').includes('secret-summary-to-clear'));
  const again = await reopen(dir);
  assert.deepEqual(
    again.listNotifiers().map((n) => n.notifierId),
    ['stay'],
  );
  await again.close();
});

test('memory holds at most limit records per notifier however many are written', async () => {
  const dir = tmpDir('pn-hist-');
  const store = await reopen(dir, { defaultLimit: 5 });
  const writes = [];
  for (let i = 0; i < 1000; i++) writes.push(store.keep(record(`b${i % 10}`)));
  await Promise.all(writes);
  const stats = store.stats();
  assert.equal(stats.recordsWritten, 1000);
  assert.equal(stats.recordsInMemory, 50);
  assert.equal(stats.notifiers, 10);
  await store.close();
});

test('one store per directory: acquired twice it is the same store, and it closes with its last release', async () => {
  const dir = tmpDir('pn-hist-');
  const a = acquireHistoryStore(dir);
  const b = acquireHistoryStore(path.join(dir, '.'));
  assert.equal(a, b);
  assert.equal(historyStoreRefs(dir), 2);
  const r = record('reg');
  await a.keep(r);
  await releaseHistoryStore(a);
  assert.equal(a.isClosed, false);
  await releaseHistoryStore(b);
  assert.equal(a.isClosed, true);
  assert.equal(historyStoreRefs(dir), 0);
  await assert.rejects(() => a.keep(record('reg')), /closed/);
  const c = acquireHistoryStore(dir);
  assert.notEqual(c, a);
  await c.whenReady();
  assert.deepEqual(
    c.getRecords('reg').records.map((x) => x.id),
    [r.id],
  );
  await releaseHistoryStore(c);
});

test('a store released while writing hands over to the next one without losing or interleaving writes', async () => {
  const dir = tmpDir('pn-hist-');
  const a = acquireHistoryStore(dir, { defaultLimit: 500 });
  const pending = Array.from({ length: 100 }, () => a.keep(record('h')));
  const released = releaseHistoryStore(a);
  const b = acquireHistoryStore(dir, { defaultLimit: 500 });
  await Promise.all(pending);
  await released;
  await b.whenReady();
  assert.equal(b.getRecords('h').total, 100);
  await releaseHistoryStore(b);
});

test('a history directory that cannot be created makes operations fail with a clear error', async () => {
  const dir = tmpDir('pn-hist-');
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, 'x');
  const store = new HistoryStore(path.join(file, 'history'));
  await assert.rejects(() => store.whenReady(), /cannot use the history directory/);
  await assert.rejects(() => store.keep(record('q')), /cannot use the history directory/);
  await store.close();
});
