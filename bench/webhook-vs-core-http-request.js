'use strict';
// notifier-webhook against the node a user would otherwise pick: Node-RED's core `http request` node
// (POST, keep-alive), posting the same body (ProGet's default content, rendered per event for ours, given
// as msg.payload to the core node) to the same receiver, in the same runtime, 4 HTTP requests in flight for
// each: the core node gets 4 messages at a time (one request each); ours gets up to 64 and sends 4 at a time
// (the webhook channel's attempts in flight per destination), as in webhook-vs-raw-client. Counted when
// each node calls done(). Rounds alternate; the ratio is the median of the per-round ratios.
const { compareWebhook } = require('./lib/webhook-compare');
const { runWhenMain } = require('./lib/main');

function run(options = {}) {
  return compareWebhook(options, {
    name: 'webhook-vs-core-http-request',
    peerLabel: 'core http request',
    unit: 'deliveries/s (4 in flight)',
    oursWindow: 64,
    peerNodes: (sink) => [
      {
        id: 'req',
        type: 'http request',
        z: 'tab',
        method: 'POST',
        ret: 'txt',
        paytoqs: 'ignore',
        url: sink.url('/core'),
        tls: '',
        persist: true,
        proxy: '',
        insecureHTTPParser: false,
        authType: '',
        senderr: false,
        headers: [{ keyType: 'Content-Type', keyValue: '', valueType: 'application/json', valueValue: '' }],
        wires: [[]],
      },
    ],
    async peer(rt, sink, n) {
      const before = sink.byPath['/core'] || 0;
      const r = await rt.call('feed', { nodeId: 'req', count: n, window: 4, kind: 'body' });
      const ok = !r.timedOut && r.completed === n;
      return { elapsedMs: r.elapsedMs, delivered: ok ? (sink.byPath['/core'] || 0) - before : 0, detail: r.outcomes };
    },
  });
}

module.exports = { run };
runWhenMain(module, run);
