'use strict';
// A redeploy with dispatches waiting: what the old instance of an output node had not delivered stays in its outbox,
// the new instance delivers it, and the history wired after it keeps every record once.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { startReceiver } = require('../helpers/receivers');
const { sampleEvent } = require('../../dist/core/events');

for (const deployType of ['full', 'nodes']) {
  test(`a ${deployType} redeploy with 40 dispatches waiting: every one delivered after it, each record kept once`, async () => {
    const rx = await startReceiver();
    let served = 0;
    let healthy = false;
    rx.answer(() => (healthy ? { status: 200 } : ++served <= 2 ? { status: 200, delayMs: 50 } : { action: 'hang' }));
    const flows = (name) => [
      { id: 'tab1', type: 'tab', label: 'out' },
      { id: 'w1', z: 'tab1', type: 'notifier-webhook', name, url: rx.url('/slow'), rate: '0', timeout: '30', wires: [['h1']] },
      { id: 'h1', z: 'tab1', type: 'notifier-history', limit: 100, wires: [[]] },
    ];
    const rt = await startRuntime({ settings: { notifierDelivery: { closeGraceMs: 200 } } });
    try {
      await rt.deploy(flows('slow hook'));
      const node = rt.RED.nodes.getNode('w1');
      for (let n = 0; n < 40; n++) node.receive({ n, event: sampleEvent('package.added') });
      // the first two are delivered; four more hang in flight (the node sends four at a time)
      while (rx.requests.length < 6) await new Promise((r) => setTimeout(r, 20));
      healthy = true;
      await rt.deploy(flows('slow hook (edited)'), { 'Node-RED-Deployment-Type': deployType });

      let body;
      const deadline = Date.now() + 10_000;
      do {
        await new Promise((r) => setTimeout(r, 50));
        const res = await fetch(`${rt.adminUrl}/notifier-history/w1?limit=1000`);
        body = res.status === 200 ? await res.json() : { records: [] };
      } while (body.records.length < 40 && Date.now() < deadline);
      assert.equal(body.records.length, 40, 'every dispatch has a record');
      assert.equal(new Set(body.records.map((r) => r.id)).size, 40, 'no record is kept twice');
      assert.equal(body.records.filter((r) => r.outcome === 'delivered').length, 40, 'nothing failed for the redeploy');
      const edited = body.records.filter((r) => r.notifier === 'slow hook (edited)').length;
      assert.equal(edited, 38, 'the new instance delivered what was left (the four attempts aborted at the redeploy included)');
    } finally {
      await rt.stop();
      await rx.close();
    }
  });
}
