'use strict';
// A redeploy while 100 dispatches wait on a slow receiver: each message is done() once its dispatch is stored; the
// attempts in flight get the grace period; nothing is failed for the redeploy: the new instance of the node delivers
// every dispatch left in the outbox (with its new configuration), and each result reaches the next node once, with
// the message's own properties.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { startReceiver } = require('../helpers/receivers');
const { sampleEvent } = require('../../dist/core/events');

for (const deployType of ['nodes', 'full']) {
  test(`redeploy (${deployType}) with 100 dispatches queued on a slow receiver: each one delivered by the new instance, once`, async () => {
    const rx = await startReceiver();
    // the first two answer after 100 ms; later requests hang (a receiver that stopped answering) until the redeploy
    let served = 0;
    let healthy = false;
    rx.answer(() => (healthy ? { status: 200 } : ++served <= 2 ? { status: 200, delayMs: 100 } : { action: 'hang' }));
    const flows = (name) => [
      { id: 'tab1', type: 'tab', label: 'out' },
      { id: 'w1', z: 'tab1', type: 'notifier-webhook', name, url: rx.url('/slow'), rate: '0', timeout: '30', wires: [['d1']] },
      { id: 'd1', z: 'tab1', type: 'debug', active: false, wires: [] },
    ];
    const rt = await startRuntime({ settings: { notifierDelivery: { closeGraceMs: 300 } } });
    const completed = [];
    rt.RED.hooks.add('onComplete.redeploytest', (ev) => {
      if (ev.node.id === 'w1') completed.push({ error: ev.error, n: ev.msg.n });
    });
    try {
      await rt.deploy(flows('slow hook'));
      const out = rt.inbox('d1');
      const node = rt.RED.nodes.getNode('w1');
      for (let n = 0; n < 100; n++) node.receive({ n, event: sampleEvent('package.added') });
      while (rx.requests.length < 6) await new Promise((r) => setTimeout(r, 20));
      assert.equal(completed.length, 100, 'every message was done() once stored, before its delivery');
      assert.ok(completed.every((c) => !c.error));

      healthy = true;
      await rt.deploy(flows('slow hook (edited)'), { 'Node-RED-Deployment-Type': deployType });
      const deadline = Date.now() + 15_000;
      while (new Set(out.all.map((m) => m.n)).size < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

      const ns = out.all.map((m) => m.n);
      assert.deepEqual(
        [...new Set(ns)].sort((a, b) => a - b),
        Array.from({ length: 100 }, (_, i) => i),
        'every dispatch reached the next node, with msg.n',
      );
      assert.equal(ns.length, 100, 'each once');
      assert.ok(
        out.all.every((m) => m.dispatch.outcome === 'delivered'),
        'nothing failed for the redeploy',
      );
      const edited = out.all.filter((m) => m.dispatch.notifier === 'slow hook (edited)');
      assert.ok(edited.length >= 98, `the new instance delivered what was left (${edited.length})`);
      // the attempts in flight at the redeploy were aborted after the grace period and made again (at-least-once),
      // with the same delivery id
      const ids = rx.requests.map((r) => r.headers['x-notifier-delivery']);
      assert.equal(new Set(ids).size, 100);
      assert.ok(ids.length >= 104, `the 4 hanging attempts were repeated (${ids.length} requests)`);
    } finally {
      rt.RED.hooks.remove('*.redeploytest');
      await rt.stop();
      await rx.close();
    }
  });
}
