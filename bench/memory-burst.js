'use strict';
// Peak RSS of a Node-RED runtime (own process) taking a burst of 100,000 events over HTTP from 64 concurrent senders
// through notifier-event → notifier-webhook → notifier-history, to a receiver that takes about 2,000 a second (each
// answer 2 ms late; the webhook node sends 4 at a time). The event node answers 202 once the dispatch is stored in
// the outbox (on disk), so the waiting requests are the back-pressure and the backlog lives on disk: every event
// must be delivered (no `queue_full`) with memory bounded.
// Peer: the same runtime idle (flows deployed, after GC); ratio = idle RSS / peak RSS.
const http = require('node:http');
const { startChildRuntime } = require('./lib/child-runtime');
const { startHttpSink } = require('./lib/sinks');
const { result, detail, round, nowMs } = require('./lib/stats');
const { runWhenMain } = require('./lib/main');

const MB = 1024 * 1024;

/** `senders` loops POSTing events 0..count-1 (keep-alive); resolves with the answers by status. */
async function post(url, count, senders) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: senders });
  const statuses = {};
  let next = 0;
  const one = (i) =>
    new Promise((resolve) => {
      const body = JSON.stringify({
        event: 'Added',
        id: `burst-${i}`,
        PackageId: 'bench.pkg',
        PackageVersion: `1.0.${i}`,
        FeedName: 'internal-bench',
        UserName: 'bench',
      });
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        },
      );
      req.on('error', (err) => resolve(err.code || 'error'));
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < count) {
        const s = await one(next++);
        statuses[s] = (statuses[s] || 0) + 1;
      }
    }),
  );
  agent.destroy();
  return statuses;
}

async function run(options = {}) {
  const count = options.count ?? 100000;
  const senders = options.senders ?? 64;
  const delayMs = options.delayMs ?? 2;
  const sink = await startHttpSink({ delayMs });
  const rt = await startChildRuntime({ nr5: options.nr5 });
  try {
    await rt.deploy([
      { id: 'tab', type: 'tab', label: 'burst' },
      { id: 'ev', type: 'notifier-event', z: 'tab', name: 'events', path: '/burst', events: [], auth: 'none', wires: [['wh']] },
      {
        id: 'wh',
        type: 'notifier-webhook',
        z: 'tab',
        name: 'receiver 2000/s',
        url: sink.url('/slow'),
        method: 'POST',
        headers: '',
        content: '',
        signing: 'none',
        timeout: '10',
        retries: '4',
        rate: '0',
        wires: [['hist']],
      },
      { id: 'hist', type: 'notifier-history', z: 'tab', name: 'history', limit: 50, wires: [[]] },
    ]);
    await new Promise((r) => setTimeout(r, 500));
    const idle = await rt.call('gc');
    await rt.call('watchStart', { sinkId: 'hist' });
    const t0 = nowMs();
    const statuses = await post(`${rt.nodeUrl}/burst`, count, senders);
    const postedMs = nowMs() - t0;
    const atEnd = await rt.call('watchRead');
    let w = atEnd;
    let last = -1;
    let quiet = nowMs();
    while (w.recorded < count && nowMs() - quiet < 10000) {
      await new Promise((r) => setTimeout(r, 250));
      w = await rt.call('watchRead');
      if (w.recorded !== last) {
        last = w.recorded;
        quiet = nowMs();
      }
    }
    w = await rt.call('watchStop');
    const totalMs = nowMs() - t0;
    const peak = w.peakRss;
    detail(
      `  memory-burst: ${count} events from ${senders} senders, receiver ${delayMs} ms per answer (4 at a time); answers ${JSON.stringify(statuses)} in ${round(postedMs / 1000)} s`,
    );
    detail(
      `  memory-burst: at the last answer ${atEnd.delivered} delivered; all done in ${round(totalMs / 1000)} s: delivered ${w.delivered}, failed ${JSON.stringify(w.failed)}, sink got ${sink.count}`,
    );
    detail(`  memory-burst: attempts took ${round(w.attemptMeanMs)} ms on average, ${round(w.attemptMaxMs)} ms at most`);
    const at = w.atPeak;
    detail(
      `  memory-burst: idle RSS ${round(idle.rss / MB)} MB, peak RSS ${round(peak / MB)} MB (then: V8 heap ${round(at.heapTotal / MB)} MB of which used ${round(at.heapUsed / MB)}, external ${round(at.external / MB)} MB); highest V8 heap ${round(w.peakHeap / MB)} MB, highest RSS outside it ${round(w.peakNative / MB)} MB`,
    );
    if (w.delivered !== count) detail(`  memory-burst: WARNING ${count - w.delivered} events not delivered`);
    const out = result(
      'memory-burst',
      peak / MB,
      idle.rss / MB,
      `MB peak RSS, ${count} events from ${senders} senders vs a 2,000/s receiver (peer: idle runtime; ratio = idle/peak)`,
      idle.rss / peak,
    );
    out.counts = { statuses, delivered: w.delivered, failed: w.failed, seconds: round(totalMs / 1000) };
    return out;
  } finally {
    await rt.stop();
    await sink.close();
  }
}

module.exports = { run };
runWhenMain(module, run);
