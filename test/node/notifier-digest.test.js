'use strict';
// notifier-digest in Node-RED (node-red-node-test-helper; NR 4.1 by default, NR 5 with NR_RUNTIME=5): a lone event
// goes on unchanged with its message's properties, a burst as one digest a condition can filter on $EventCount, the
// status shows groups open and events held, a bad setting is an error naming it, a message without an event goes to
// Catch, and close leaves no timer behind.
const test = require('node:test');
const assert = require('node:assert/strict');
const { testHelper, nodeModule, ownUserDirPerTest } = require('../helpers/nr');
const { sampleEvent, normalizeEvent } = require('../../dist/core/events');

const helper = testHelper();
const digestNode = nodeModule('notifier-digest');
const conditionNode = nodeModule('notifier-condition');

test.before(() => helper.startServer());
test.after(() => helper.stopServer());
test.afterEach(() => helper.unload());
ownUserDirPerTest(test);

const promoted = (i, feed = 'internal') =>
  normalizeEvent({ type: 'package.promoted', id: `e${i}`, vars: { ...sampleEvent('package.promoted').vars, PackageId: `Pkg${i}`, FeedName: feed } });

function flow(digest) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'dg1', z: 'f1', type: 'notifier-digest', name: 'burst', wait: '0.3', threshold: '3', interval: '60', ...digest, wires: [['out', 'big']] },
    { id: 'big', z: 'f1', type: 'notifier-condition', mode: 'expression', expression: '$EventCount >= 4', wires: [['bigout']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'bigout', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: ['dg1'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

function collect(id) {
  const got = [];
  helper.getNode(id).on('input', (msg) => got.push(msg));
  return got;
}

async function until(pred, ms = 5000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a lone event goes on unchanged after the wait; a burst as one digest; the status counts groups and held events', async () => {
  await helper.load([digestNode, conditionNode], flow());
  const node = helper.getNode('dg1');
  const statuses = [];
  node.on('call:status', (call) => statuses.push(call.args[0]));
  const out = collect('out');
  const big = collect('bigout');
  node.receive({ event: promoted(1, 'quiet'), topic: 'mine', extra: 42 });
  for (let i = 10; i < 15; i++) node.receive({ event: promoted(i) });
  await until(() => statuses.some((s) => s && /2 groups, 6 held/.test(s.text)));
  await until(() => out.length === 2);
  const lone = out.find((m) => m.event.type !== 'digest');
  assert.equal(lone.event.vars.PackageId, 'Pkg1');
  assert.equal(lone.topic, 'mine');
  assert.equal(lone.extra, 42);
  const digest = out.find((m) => m.event.type === 'digest');
  assert.equal(digest.topic, 'digest');
  assert.equal(digest.payload.EventCount, '5');
  assert.equal(digest.event.feed, 'internal');
  await until(() => big.length === 1);
  assert.equal(big[0].event.vars.GroupKey, 'internal/Promoted', 'the condition filters digests on $EventCount');
  await until(() => statuses.some((s) => s && s.text === 'idle'));
});

test('a bad setting is an error naming it; messages then fail to Catch; a message without an event too', async () => {
  await helper.load([digestNode, conditionNode], flow({ wait: 'soon' }));
  const node = helper.getNode('dg1');
  const caught = collect('caught');
  node.receive({ event: promoted(1) });
  await until(() => caught.length === 1);
  assert.match(caught[0].error.message, /the configuration is invalid: wait must be a number from 0 to 604800 seconds, got "soon"/);
  await helper.unload();
  await helper.load([digestNode, conditionNode], flow());
  const caught2 = collect('caught');
  helper.getNode('dg1').receive({ payload: 'no event' });
  await until(() => caught2.length === 1);
  assert.match(caught2[0].error.message, /notifier-digest: msg\.event is missing/);
});
