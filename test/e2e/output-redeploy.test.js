'use strict';
// A redeploy while 100 dispatches wait on a slow receiver: every one ends delivered or recorded as
// failed (shutdown), reported through done() (log, Catch) and sent on the output to nodes still running.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { startReceiver } = require('../helpers/receivers');
const { sampleEvent } = require('../../dist/core/events');

for (const [deployType, downstreamRuns] of [['nodes', true], ['full', false]]) {
test(`redeploy (${deployType}) with 100 dispatches queued on a slow receiver: each one delivered or recorded as failed`, async () => {
  const rx = await startReceiver();
  // the first two answer after 100 ms; every later request hangs (a receiver that stopped answering)
  let served = 0;
  rx.answer(() => (++served <= 2 ? { status: 200, delayMs: 100 } : { action: 'hang' }));
  const flows = (name) => [
    { id: 'tab1', type: 'tab', label: 'out' },
    { id: 'w1', z: 'tab1', type: 'notifier-webhook', name, url: rx.url('/slow'), rate: '0', timeout: '30', wires: [['d1']] },
    { id: 'd1', z: 'tab1', type: 'debug', active: false, wires: [] },
  ];
  const rt = await startRuntime({ settings: { notifierDelivery: { closeGraceMs: 300 } } });
  const completed = [];
  rt.RED.hooks.add('onComplete.redeploytest', (ev) => {
    if (ev.node.id === 'w1') completed.push({ error: ev.error, dispatch: ev.msg.dispatch, n: ev.msg.n });
  });
  try {
    await rt.deploy(flows('slow hook'));
    const out = rt.inbox('d1');
    const node = rt.RED.nodes.getNode('w1');
    for (let n = 0; n < 100; n++) node.receive({ n, event: sampleEvent('package.added') });
    // wait until the first two were delivered and the next ones hang in flight
    while (rx.requests.length < 6) await new Promise((r) => setTimeout(r, 20));

    await rt.deploy(flows('slow hook (edited)'), { 'Node-RED-Deployment-Type': deployType });
    const deadline = Date.now() + 10_000;
    while (completed.length < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

    assert.equal(completed.length, 100, 'every accepted message completed (done or done(err))');
    assert.deepEqual([...new Set(completed.map((c) => c.n))].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i), 'each exactly once');
    const delivered = completed.filter((c) => c.dispatch.outcome === 'delivered');
    const failed = completed.filter((c) => c.dispatch.outcome === 'failed');
    assert.equal(delivered.length, 2);
    assert.equal(failed.length, 98);
    for (const f of failed) {
      assert.equal(f.dispatch.error.code, 'shutdown');
      assert.ok(f.error, 'failures went to done(err)');
    }
    const aborted = failed.filter((f) => f.dispatch.attempts === 1);
    assert.equal(aborted.length, 4, 'the four attempts in flight were given the grace period, then aborted');
    for (const f of aborted) assert.match(f.dispatch.error.message, /aborted after 300 ms/);
    assert.equal(failed.filter((f) => f.dispatch.attempts === 0).length, 94, 'the queued ones failed at once');
    if (downstreamRuns) {
      // a "modified nodes" deploy (the editor's default) keeps the unchanged nodes after it running:
      // every record, the shutdown failures included, reaches them
      assert.equal(out.all.length, 100, 'every record was sent on the output');
      assert.equal(out.all.filter((m) => m.dispatch.error?.code === 'shutdown').length, 98);
    } else {
      // a full deploy stops the nodes after it too, so the records go to done(err) only (log, Catch)
      assert.equal(out.all.length, 2);
    }

    // the new instance works
    rx.answer({ status: 200 });
    const seen = out.all.length;
    rt.RED.nodes.getNode('w1').receive({ n: 100, event: sampleEvent('package.added') });
    while (out.all.length === seen) await new Promise((r) => setTimeout(r, 20));
    const after = out.all.at(-1);
    assert.equal(after.dispatch.outcome, 'delivered');
    assert.equal(after.dispatch.notifier, 'slow hook (edited)');
  } finally {
    rt.RED.hooks.remove('*.redeploytest');
    await rt.stop();
    await rx.close();
  }
});
}
