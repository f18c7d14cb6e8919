'use strict';
// Reliability: thousands of events through notifier-webhook (in a real Node-RED runtime) to a chaos
// receiver answering at random with 429 + Retry-After, 5xx, 400, connection resets and closes, slow
// answers and hung requests. Short retry delays through the `notifierDelivery` runtime setting.
// Every event must end as exactly one dispatch record, delivered or failed with a reason; nothing
// rejects unhandled; a delivered record means the receiver did answer 2xx for that event; and the heap
// stays flat from one round of events to the next (after a full GC).
// The seed is printed; CHAOS_SEED=<n> replays a run, CHAOS_EVENTS=<n> changes the round size.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { startChaosReceiver, heapAfterGc, recordCounter, waitFor } = require('../fixtures/reliability-chaos');

const SEED = Number(process.env.CHAOS_SEED || (Date.now() % 1_000_000) + 1);
const EVENTS = Number(process.env.CHAOS_EVENTS || 3000);
const FEEDS = 4; // four destinations (URL per feed): four lanes of 4 attempts in flight
const IN_FLIGHT = 300; // events not yet recorded, at most (below the 1,000 queue of a lane)
const HEAP_GROWTH_BOUND = 8 * 1024 * 1024; // a leak of ~1.4 KB per event (a record kept) would exceed it
const MB = 1024 * 1024;

function flows(base) {
  return [
    { id: 'tab', type: 'tab', label: 'chaos' },
    { id: 'ev', type: 'notifier-event', z: 'tab', name: 'events', path: '', events: [], auth: 'none', wires: [['wh']] },
    {
      id: 'wh',
      type: 'notifier-webhook',
      z: 'tab',
      name: 'chaos webhook',
      url: `${base}/hook/$FeedName`,
      method: 'POST',
      headers: '',
      content: '',
      signing: 'none',
      timeout: '1',
      retries: '4',
      rate: '0',
      wires: [['out']],
    },
    { id: 'out', type: 'debug', z: 'tab', active: false, tosidebar: false, console: false, complete: 'false', wires: [] },
  ];
}

test(
  `chaos receiver (seed ${SEED}): ${EVENTS} events x 2 rounds through notifier-webhook each end as one record, delivered or failed; no unhandled rejection; heap flat`,
  { timeout: 400_000 },
  async (t) => {
    const rejections = [];
    const onRejection = (reason) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    t.after(() => process.removeListener('unhandledRejection', onRejection));

    const rx = await startChaosReceiver({
      seed: SEED,
      key: (body) => {
        try {
          return JSON.parse(body).version;
        } catch {
          return undefined;
        }
      },
    });
    const rt = await startRuntime({
      settings: { notifierDelivery: { baseDelayMs: 5, maxDelayMs: 40, maxRetryAfterMs: 25, closeGraceMs: 200 } },
    });
    t.after(async () => {
      await rt.stop();
      await rx.close();
    });
    await rt.deploy(flows(rx.base));
    const counter = recordCounter(rt.RED);
    const ev = rt.RED.nodes.getNode('ev');
    let seq = 0;

    /** Sends `n` events (at most IN_FLIGHT without a record yet); resolves with their ids once all have a record. */
    async function round(n) {
      counter.reset();
      const ids = [];
      const started = counter.count;
      while (ids.length < n) {
        while (ids.length < n && ids.length - (counter.count - started) < IN_FLIGHT) {
          const i = ++seq;
          const id = `chaos-${i}`;
          ids.push(id);
          ev.receive({
            payload: { event: 'Added', id, PackageId: 'Chaos.Pkg', PackageVersion: `1.0.${i}`, FeedName: `internal-${i % FEEDS}`, UserName: 'chaos' },
          });
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await waitFor(() => counter.count - started >= n, 300_000, `${n} dispatch records (got ${counter.count - started})`);
      // a little longer: a second record for an event would be a bug too
      await new Promise((r) => setTimeout(r, 300));
      return ids;
    }

    function check(ids, label) {
      const outcomes = { delivered: 0, failed: {} };
      assert.equal(counter.count, ids.length, `${label}: dispatch records out of the node == events in`);
      for (const id of ids) {
        const list = counter.records.get(id);
        assert.ok(list, `${label}: event ${id} has no dispatch record`);
        assert.equal(list.length, 1, `${label}: event ${id} has ${list.length} records`);
        const r = list[0];
        assert.ok(r.outcome === 'delivered' || r.outcome === 'failed', `${label}: ${id} outcome ${r.outcome}`);
        if (r.outcome === 'delivered') {
          outcomes.delivered++;
          const version = `1.0.${id.slice('chaos-'.length)}`;
          assert.ok(rx.ok.has(version), `${label}: ${id} recorded as delivered but the receiver never answered it 2xx`);
        } else {
          assert.ok(r.code, `${label}: failed record of ${id} names no error code`);
          assert.notEqual(r.code, 'internal', `${label}: ${id} failed with an internal error`);
          outcomes.failed[r.code] = (outcomes.failed[r.code] || 0) + 1;
        }
      }
      t.diagnostic(`${label}: ${JSON.stringify(outcomes)}`);
      // the receiver answers 2xx to about 60% of attempts and the node tries 5 times: most get through
      assert.ok(outcomes.delivered > ids.length * 0.8, `${label}: only ${outcomes.delivered} of ${ids.length} delivered`);
    }

    // warm-up (JIT, sockets, lanes), then the heap after a GC is the baseline
    check(await round(Math.ceil(EVENTS / 3)), 'warm-up');
    const heapBefore = heapAfterGc();
    check(await round(EVENTS), 'round 1');
    const heapMiddle = heapAfterGc();
    check(await round(EVENTS), 'round 2');
    const heapAfter = heapAfterGc();
    t.diagnostic(
      `seed ${SEED}; receiver: ${rx.requests} requests ${JSON.stringify(rx.answers)}; heap after GC: ${(heapBefore / MB).toFixed(1)} → ${(heapMiddle / MB).toFixed(1)} → ${(heapAfter / MB).toFixed(1)} MB`,
    );
    assert.ok(
      heapAfter - heapBefore < HEAP_GROWTH_BOUND,
      `heap grew ${((heapAfter - heapBefore) / MB).toFixed(1)} MB over ${2 * EVENTS} events (bound ${HEAP_GROWTH_BOUND / MB} MB)`,
    );
    assert.deepEqual(rejections, [], 'no unhandled promise rejection');
    counter.remove();
  },
);
