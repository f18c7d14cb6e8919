'use strict';
// notifier-webhook deliveries/s against the limit: a plain keep-alive node:http client loop with the
// same concurrency (4 connections, the webhook channel's attempts in flight per destination), same
// body, to the same receiver. Node-RED runs in a child process (both clients run there); the receiver
// runs here. Rounds alternate ours/peer; the ratio is the median of the per-round ratios.
const { compareWebhook, defaultBody } = require('./lib/webhook-compare');
const { runWhenMain } = require('./lib/main');

function run(options = {}) {
  const body = defaultBody();
  const headers = { 'Content-Type': 'application/json', 'User-Agent': 'bench-raw-client' };
  return compareWebhook(options, {
    name: 'webhook-vs-raw-client',
    peerLabel: 'raw client',
    unit: 'deliveries/s (4 in flight, keep-alive)',
    oursWindow: 64,
    peerNodes: () => [],
    async peer(rt, sink, n) {
      const before = sink.byPath['/raw'] || 0;
      const r = await rt.call('raw', { url: sink.url('/raw'), count: n, concurrency: 4, body, headers });
      return { elapsedMs: r.elapsedMs, delivered: (sink.byPath['/raw'] || 0) - before, detail: r.statuses };
    },
  });
}

module.exports = { run };
runWhenMain(module, run);
