'use strict';
// Peak RSS of a Node-RED runtime (own process) taking a burst of 100,000 events through
// notifier-event → notifier-webhook → notifier-history while the receiver is slow (50 ms per answer,
// 4 at a time): the per-destination queue is bounded (1,000), so the overflow must come out as
// `queue_full` failure records, never silently dropped and never as unbounded memory.
// Peer: the same runtime idle (flows deployed, after GC); ratio = idle RSS / peak RSS.
const { startChildRuntime } = require('./lib/child-runtime');
const { startHttpSink } = require('./lib/sinks');
const { result, detail, round } = require('./lib/stats');

const MB = 1024 * 1024;

async function run(options = {}) {
  const count = options.count ?? 100000;
  const delayMs = options.delayMs ?? 50;
  const sink = await startHttpSink({ delayMs });
  const rt = await startChildRuntime({ nr5: options.nr5 });
  try {
    await rt.deploy([
      { id: 'tab', type: 'tab', label: 'burst' },
      { id: 'ev', type: 'notifier-event', z: 'tab', name: 'events', path: '', events: [], auth: 'none', wires: [['wh']] },
      { id: 'wh', type: 'notifier-webhook', z: 'tab', name: 'slow receiver', url: sink.url('/slow'), method: 'POST', headers: '', content: '', signing: 'none', timeout: '10', retries: '4', rate: '0', wires: [['hist']] },
      { id: 'hist', type: 'notifier-history', z: 'tab', name: 'history', limit: 50, wires: [[]] },
    ]);
    await new Promise((r) => setTimeout(r, 500));
    const idle = await rt.call('gc');
    const r = await rt.call('burst', { nodeId: 'ev', sinkId: 'hist', count, batch: 1000, idleMs: 5000 });
    const peak = Math.max(r.peakRss, r.maxRSS);
    const fmt = (s) => `delivered ${s.delivered}, failed ${JSON.stringify(s.failed)}, queued ${s.pending}, RSS ${round(s.rss / MB)} MB at ${s.atMs} ms`;
    detail(`  memory-burst: ${count} events, receiver ${delayMs} ms per answer; idle RSS ${round(idle.rss / MB)} MB, peak RSS ${round(peak / MB)} MB`);
    detail(`  memory-burst at the end of the burst: ${fmt(r.atBurstEnd)}`);
    detail(`  memory-burst after the queue drained: ${fmt(r.final)}`);
    const failed = Object.values(r.final.failed).reduce((a, b) => a + b, 0);
    if (r.final.delivered + failed !== count) detail(`  memory-burst: WARNING ${count - r.final.delivered - failed} events without a record`);
    const out = result('memory-burst', peak / MB, idle.rss / MB, `MB peak RSS, ${count} events vs slow receiver (peer: idle runtime; ratio = idle/peak)`, idle.rss / peak);
    out.counts = { atBurstEnd: { delivered: r.atBurstEnd.delivered, failed: r.atBurstEnd.failed, queued: r.atBurstEnd.pending }, final: { delivered: r.final.delivered, failed: r.final.failed, queued: r.final.pending } };
    return out;
  } finally {
    await rt.stop();
    await sink.close();
  }
}

module.exports = { run };
if (require.main === module) {
  run().then(
    (r) => console.log(JSON.stringify(r)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
