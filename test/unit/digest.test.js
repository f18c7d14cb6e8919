'use strict';
// The digest node's core: settings (bad values name the property), grouping and timing on a virtual clock
// (wait, threshold, interval, wait 0, maxEvents), the digest event (variables, templates and conditions over it),
// and the file store's digest groups read back as a restarted process would.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { DigestEngine, parseDigestConfig, buildDigestEvent, emptySummary, countEvent } = require('../../dist/core/digest');
const { ManualClock } = require('../../dist/core/delivery');
const { FileStore } = require('../../dist/core/store');
const { normalizeEvent, sampleEvent } = require('../../dist/core/events');
const { compileTemplate, compilePredicate, defaultTemplates } = require('../../dist/core/otterscript');
const { summarizeEvent } = require('../../dist/core/dispatch');
const { tmpDir } = require('../helpers/nr');

const promoted = (i, feed = 'internal', extra = {}) =>
  normalizeEvent({
    type: 'package.promoted',
    id: `e${i}`,
    occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString(),
    vars: { PackageId: `Pkg${i}`, PackageVersion: '1.0.0', FeedName: feed, WebBaseUrl: 'https://proget.example.com', ...extra },
  });

/** The groups of a digest node in memory, as a store would keep them (to check what the engine asks it to keep). */
class MemoryGroups {
  constructor() {
    this.id = 'mem';
    this.problem = undefined;
    this.groups = new Map();
    this.fail = false;
  }
  async load() {
    return [...this.groups.values()].map((g) => ({ key: g.key, timing: { ...g.timing }, events: [...g.events] }));
  }
  async hold(key, events, timing) {
    if (this.fail) throw Object.assign(new Error('disk full'), { code: 'store_unavailable' });
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { key, timing, events: [] }));
    g.timing = timing;
    g.events.push(...events);
  }
  async release(key, upTo, timing) {
    const g = this.groups.get(key);
    if (!g) return;
    g.events = g.events.filter((e) => e.seq > upTo);
    if (timing) g.timing = timing;
    else if (g.events.length === 0) this.groups.delete(key);
  }
  async destroy() {}
  async close() {}
}

function setup(props = {}, { groups = new MemoryGroups(), clock = new ManualClock({ start: Date.UTC(2026, 0, 1) }) } = {}) {
  const out = [];
  const engine = new DigestEngine(
    parseDigestConfig(props),
    groups,
    {
      deliver: async (key, output) => {
        out.push({ key, at: clock.now(), ...output });
      },
    },
    clock,
  );
  return { engine, out, clock, groups };
}

/** Lets the engine's promises settle (hand-overs and store writes are asynchronous). */
const settle = () => new Promise((r) => setImmediate(r));

async function advance(clock, ms) {
  clock.advance(ms);
  for (let i = 0; i < 5; i++) await settle();
}

test('settings: defaults, and each bad value names its property', () => {
  const c = parseDigestConfig({});
  assert.equal(c.groupBy, '$FeedName/$WebhookEvent');
  assert.deepEqual([c.waitMs, c.threshold, c.intervalMs, c.maxEvents], [30_000, 3, 300_000, 1000]);
  const bad = [
    [{ wait: -1 }, 'wait', /wait must be a number from 0 to 604800 seconds, got -1/],
    [{ wait: 'soon' }, 'wait', /wait must be a number/],
    [{ threshold: 0 }, 'threshold', /threshold must be a whole number from 1/],
    [{ threshold: 2.5 }, 'threshold', /whole number/],
    [{ interval: 1e9 }, 'interval', /interval must be a number from 0 to 604800/],
    [{ maxEvents: 20000 }, 'maxEvents', /maxEvents must be a whole number from 1 to 10000/],
    [{ groupBy: '$FeedName(' }, 'groupBy', /^groupBy: /],
    [{ groupBy: 42 }, 'groupBy', /groupBy must be text/],
  ];
  for (const [props, property, message] of bad) {
    assert.throws(
      () => parseDigestConfig(props),
      (err) => err.property === property && message.test(err.message),
      JSON.stringify(props),
    );
  }
});

test('a burst becomes one digest after wait; a lone event in another group goes alone and unchanged after wait', async () => {
  const { engine, out, clock } = setup({ wait: 2, interval: 10, threshold: 3 });
  await engine.start();
  for (let i = 0; i < 50; i++) assert.equal(await engine.accept(promoted(i)), 'held');
  const lone = promoted(999, 'quiet-feed');
  assert.equal(await engine.accept(lone, { topic: 'mine' }), 'held');
  assert.deepEqual(engine.stats(), { groups: 2, held: 51 });
  await advance(clock, 1999);
  assert.equal(out.length, 0, 'nothing before the wait ends');
  await advance(clock, 1);
  assert.equal(out.length, 2);
  const digest = out.find((o) => o.kind === 'digest');
  const single = out.find((o) => o.kind === 'single');
  assert.equal(digest.key, 'internal/Promoted');
  assert.equal(digest.count, 50);
  assert.equal(digest.event.type, 'digest');
  assert.equal(digest.event.category, 'digest');
  assert.equal(digest.event.vars.EventCount, '50');
  assert.equal(digest.event.vars.Events.length, 50);
  assert.equal(digest.event.vars.FeedName, 'internal');
  assert.equal(digest.event.feed, 'internal');
  assert.deepEqual(digest.event.vars.CountsByType, { 'Package Promoted': '50' });
  assert.equal(single.key, 'quiet-feed/Promoted');
  assert.equal(single.events.length, 1);
  assert.equal(single.events[0].event, lone, 'the very event, unchanged');
  assert.deepEqual(single.events[0].msg, { topic: 'mine' });
  assert.deepEqual(engine.stats(), { groups: 0, held: 0 });
});

test('interval: arrivals after a digest join the next one, no sooner than interval after it', async () => {
  const { engine, out, clock } = setup({ wait: 2, interval: 10, threshold: 3 });
  await engine.start();
  for (let i = 0; i < 10; i++) await engine.accept(promoted(i));
  await advance(clock, 2000);
  assert.equal(out.length, 1);
  // 3 s after the digest: more of the same burst
  await advance(clock, 3000);
  for (let i = 10; i < 15; i++) await engine.accept(promoted(i));
  await advance(clock, 6999);
  assert.equal(out.length, 1, 'no second digest within the interval');
  await advance(clock, 1);
  assert.equal(out.length, 2);
  assert.equal(out[1].kind, 'digest');
  assert.equal(out[1].at - out[0].at, 10_000);
  assert.deepEqual(
    out[1].event.vars.Events.map((e) => e.PackageId),
    ['Pkg10', 'Pkg11', 'Pkg12', 'Pkg13', 'Pkg14'],
  );
  // below the threshold after the interval: one by one
  await advance(clock, 5000);
  await engine.accept(promoted(20));
  await advance(clock, 5000);
  assert.equal(out.length, 3);
  assert.equal(out[2].kind, 'single');
  assert.equal(out[2].at - out[1].at, 10_000, 'the lone event still waits for the interval after a digest');
  // quiet again after the interval: a lone event waits only `wait`
  await advance(clock, 20_000);
  await engine.accept(promoted(21));
  await advance(clock, 2000);
  assert.equal(out.length, 4);
  assert.equal(out[3].kind, 'single');
});

test('wait 0: events pass through until threshold of them arrive within interval; the rest go as one digest when it ends', async () => {
  const { engine, out, clock } = setup({ wait: 0, interval: 60, threshold: 3 });
  await engine.start();
  assert.equal(await engine.accept(promoted(1)), 'pass');
  await advance(clock, 1000);
  assert.equal(await engine.accept(promoted(2)), 'pass');
  assert.equal(await engine.accept(promoted(3)), 'held', 'the third within the interval starts a burst');
  for (let i = 4; i < 10; i++) assert.equal(await engine.accept(promoted(i)), 'held');
  await advance(clock, 58_999);
  assert.equal(out.length, 0);
  await advance(clock, 1);
  assert.equal(out.length, 1);
  assert.equal(out[0].kind, 'digest');
  assert.equal(out[0].event.vars.EventCount, '7');
  // a quiet interval later, events pass through again
  await advance(clock, 60_000);
  await advance(clock, 1);
  assert.equal(await engine.accept(promoted(11)), 'pass');
});

test('maxEvents lists the first events and counts the rest; mixed types and feeds are counted per type', async () => {
  const { engine, out, clock } = setup({ wait: 1, threshold: 2, maxEvents: 5, groupBy: 'all' });
  await engine.start();
  for (let i = 0; i < 12; i++) await engine.accept(promoted(i, i % 2 ? 'a' : 'b'));
  await engine.accept(sampleEvent('sca.build-issues-opened'));
  await advance(clock, 1000);
  const d = out[0].event;
  assert.equal(d.vars.EventCount, '13');
  assert.equal(d.vars.Events.length, 5);
  assert.equal(d.vars.OmittedCount, '8');
  assert.deepEqual(d.vars.CountsByType, { 'Package Promoted': '12', 'Issues Opened on Build': '1' });
  assert.equal(d.vars.FeedName, undefined, 'no single feed');
  assert.equal(d.feed, undefined);
  assert.equal(d.vars.Events[0].Type, 'package.promoted');
  assert.equal(d.vars.Events[0].Label, 'Package Promoted');
  assert.equal(d.vars.Events[0].Url, 'https://proget.example.com/feeds/b/Pkg0/1.0.0');
  assert.match(d.vars.FirstOccurredAt, /^2026-01-01T00:00:00\.000Z$/);
});

test('groupBy: SCA events without the variables group by their type; a custom key works', async () => {
  const { engine } = setup({});
  assert.equal(engine.groupKeyOf(promoted(1)), 'internal/Promoted');
  assert.equal(engine.groupKeyOf(sampleEvent('sca.build-issues-opened')), 'Issues Opened on Build');
  assert.equal(engine.groupKeyOf(sampleEvent('sca.new-vulnerability')), 'New Vulnerability Detected');
  const custom = setup({ groupBy: '$UserName' }).engine;
  assert.equal(custom.groupKeyOf(promoted(1, 'f', { UserName: 'alice' })), 'alice');
});

test('a store that cannot hold the event rejects and nothing is held; a digest passes through unchanged', async () => {
  const groups = new MemoryGroups();
  const { engine } = setup({}, { groups });
  await engine.start();
  groups.fail = true;
  await assert.rejects(engine.accept(promoted(1)), /disk full/);
  assert.deepEqual(engine.stats(), { groups: 0, held: 0 });
  const s = emptySummary();
  countEvent(s, promoted(1));
  const digest = buildDigestEvent('k', [promoted(1)], s, { maxEvents: 10, now: new Date() });
  assert.equal(await engine.accept(digest), 'pass');
});

test('a failed hand-over is tried again, with what arrived meanwhile; every event counted once', async () => {
  const clock = new ManualClock({ start: Date.UTC(2026, 0, 1) });
  const groups = new MemoryGroups();
  let failing = true;
  const out = [];
  const engine = new DigestEngine(
    parseDigestConfig({ wait: 1, interval: 10, threshold: 2 }),
    groups,
    {
      deliver: async (key, o) => {
        if (failing) throw new Error('store unavailable downstream');
        out.push(o);
      },
      problem: () => {},
    },
    clock,
  );
  await engine.start();
  for (let i = 0; i < 4; i++) await engine.accept(promoted(i));
  await advance(clock, 1000);
  assert.equal(out.length, 0);
  for (let i = 4; i < 6; i++) await engine.accept(promoted(i));
  failing = false;
  await advance(clock, 5000);
  assert.equal(out.length, 1);
  assert.equal(out[0].event.vars.EventCount, '6');
  assert.equal(
    [...groups.groups.values()].reduce((n, g) => n + g.events.length, 0),
    0,
    'released from the store',
  );
});

test('restart: groups resume from the store at their original due times', async () => {
  const groups = new MemoryGroups();
  const clock = new ManualClock({ start: Date.UTC(2026, 0, 1) });
  const first = setup({ wait: 30, threshold: 3 }, { groups, clock });
  await first.engine.start();
  for (let i = 0; i < 5; i++) await first.engine.accept(promoted(i));
  await advance(clock, 10_000);
  await first.engine.close();
  assert.equal(first.out.length, 0);
  assert.equal(clock.pending(), 0, 'close cancels every timer');
  // a new engine (the restarted node), possibly with a new configuration
  const second = setup({ wait: 300, threshold: 3 }, { groups, clock });
  const loaded = await second.engine.start();
  assert.deepEqual(loaded, { groups: 1, events: 5, skipped: 0 });
  await advance(clock, 19_999);
  assert.equal(second.out.length, 0);
  await advance(clock, 1);
  assert.equal(second.out.length, 1, 'due 30 s after the first event, as first scheduled');
  assert.equal(second.out[0].event.vars.EventCount, '5');
});

test('file store: held events and timing survive a reopen; released ones are gone; files are private', async () => {
  const dir = tmpDir('pn-groups-');
  let store = new FileStore(dir);
  let g = await store.openGroups('d1', { owner: { type: 'notifier-digest' } });
  assert.deepEqual(await g.load(), []);
  const ev = (i) => ({ seq: i, at: 1000 + i, event: { id: `e${i}`, type: 'package.added', vars: { PackageId: `p${i}` } } });
  await g.hold('a', [ev(1), ev(2)], { dueAt: 5000 });
  await g.hold('b', [ev(3)], { dueAt: 6000 });
  await g.hold('a', [ev(4)], { dueAt: 5000 });
  await g.release('a', 2, { dueAt: 15000, lastDigestAt: 5000 });
  await g.release('b', 3, undefined);
  await g.close();
  await store.close();
  const file = path.join(dir, 'digest', 'd1', 'groups.jsonl');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  fs.appendFileSync(file, '{"t":"h","k":"a","e":[{"s":9'); // a torn last line
  store = new FileStore(dir);
  assert.deepEqual(await store.groupsIds(), ['d1']);
  g = await store.openGroups('d1');
  const loaded = await g.load();
  assert.deepEqual(loaded, [{ key: 'a', timing: { dueAt: 15000, lastDigestAt: 5000 }, events: [ev(4)] }]);
  // the journal was compacted to one line per open group
  assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 1);
  await g.hold('a', [ev(5)], { dueAt: 15000, lastDigestAt: 5000 });
  await g.close();
  g = await store.openGroups('d1');
  assert.deepEqual(
    (await g.load())[0].events.map((e) => e.seq),
    [4, 5],
  );
  await g.destroy();
  assert.equal(fs.existsSync(path.dirname(file)), false);
  await store.close();
});

test('the digest event works with templates and conditions, and summarizes with its count', () => {
  const s = emptySummary();
  const events = [promoted(1), promoted(2)];
  for (const e of events) countEvent(s, e);
  const d = buildDigestEvent('internal/Promoted', events, s, { maxEvents: 10, now: new Date(Date.UTC(2026, 0, 2)) });
  assert.equal(compileTemplate('<% foreach %e in @Events { %>$(%e.PackageId);<% } %>')(d.vars), 'Pkg1;Pkg2;');
  assert.equal(compilePredicate('$EventCount >= 2')(d.vars), true);
  assert.equal(compilePredicate('$EventCount >= 3')(d.vars), false);
  assert.equal(summarizeEvent(d), 'Digest of 2 events in internal/Promoted');
  const t = defaultTemplates('digest');
  assert.equal(compileTemplate(t.emailSubject)(d.vars), '2 events in internal/Promoted');
  const body = JSON.parse(compileTemplate(t.webhook)(d.vars));
  assert.equal(body.eventCount, '2');
  assert.equal(body.events.length, 2);
  // read back from an outbox (plain JSON), the digest is checked again and accepted by output nodes only
  const plain = JSON.parse(JSON.stringify(d));
  assert.equal(normalizeEvent(plain, { allowDigest: true }).vars.EventCount, '2');
  assert.throws(() => normalizeEvent(plain), /digest events are made by the notifier-digest node/);
});

test('events too deep or too many values to list are counted, never a digest that cannot be built', () => {
  let deep = 'x';
  for (let i = 0; i < 14; i++) deep = { v: deep };
  const tooDeep = normalizeEvent({ type: 'package.promoted', vars: { PackageId: 'Deep', PackageVersion: '1', FeedName: 'f', Nested: deep } });
  const wide = (i) =>
    normalizeEvent({
      type: 'package.promoted',
      vars: { PackageId: `W${i}`, PackageVersion: '1', FeedName: 'f', Many: Array.from({ length: 5000 }, (_, k) => String(k)) },
    });
  const events = [tooDeep, promoted(1, 'f'), wide(1), wide(2), wide(3), wide(4), promoted(2, 'f')];
  const s = emptySummary();
  for (const e of events) countEvent(s, e);
  const d = buildDigestEvent('f/Promoted', events, s, { maxEvents: 1000, now: new Date() });
  assert.equal(d.vars.EventCount, '7');
  assert.deepEqual(
    d.vars.Events.map((e) => e.PackageId),
    ['Pkg1', 'W1', 'W2', 'W3'],
    'the deep one skipped, listing stops at the value cap',
  );
  assert.equal(d.vars.OmittedCount, '3');
});

test('events still being written when the wait ends take part in the decision (a slow first write does not split a burst)', async () => {
  const groups = new MemoryGroups();
  const { engine, out, clock } = setup({ wait: 2, interval: 10, threshold: 3 }, { groups });
  await engine.start();
  await engine.accept(promoted(0));
  let release;
  const slow = new Promise((r) => (release = r));
  const hold = groups.hold.bind(groups);
  groups.hold = async (...args) => {
    await slow;
    return hold(...args);
  };
  const later = [1, 2, 3].map((i) => engine.accept(promoted(i)));
  await advance(clock, 2000);
  assert.equal(out.length, 0, 'the decision waits for the writes that began before it');
  release();
  await Promise.all(later);
  for (let i = 0; i < 5; i++) await settle();
  assert.equal(out.length, 1);
  assert.equal(out[0].kind, 'digest');
  assert.equal(out[0].event.vars.EventCount, '4');
});

test('events of other systems (category other) group by their type and keep their own link in the digest', () => {
  const e = normalizeEvent(
    { type: 'github.ping', vars: { SourceName: 'GitHub', Summary: 'ping', Url: 'https://github.com/o/r' } },
    { source: 'github' },
  );
  const { engine } = setup({});
  assert.equal(engine.groupKeyOf(e), 'GitHub ping');
  const s = emptySummary();
  countEvent(s, e);
  const d = buildDigestEvent('GitHub ping', [e], s, { maxEvents: 10, now: new Date() });
  assert.equal(d.vars.Events[0].Url, 'https://github.com/o/r');
  assert.equal(d.vars.Events[0].Summary, 'GitHub: ping');
  assert.deepEqual(d.vars.CountsByType, { 'GitHub ping': '1' });
});
