'use strict';
// Durability of the dispatch history in a real Node-RED process: records acknowledged by the history node (its
// done(), seen through a Complete node answering the HTTP request) survive SIGKILL; a torn last write does not stop
// the next start; redeploys and restarts keep the history; a lower limit on redeploy trims it.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { tmpDir } = require('../helpers/nr');
const { startChild, kill9, stopChild } = require('../fixtures/history-child');
const { sampleEvent } = require('../../dist/core/events');

const NOTIFIER = 'webhook-out-1';

/** POST /dispatch → msg.dispatch / msg.event → notifier-history; its done() answers 200 (Complete node), an error 500. */
function flows(limit) {
  return [
    { id: 'tab1', type: 'tab', label: 'durability' },
    { id: 'in1', type: 'http in', z: 'tab1', url: '/dispatch', method: 'post', upload: false, swaggerDoc: '', wires: [['move1']] },
    {
      id: 'move1',
      type: 'change',
      z: 'tab1',
      rules: [
        { t: 'move', p: 'payload.dispatch', pt: 'msg', to: 'dispatch', tot: 'msg' },
        { t: 'move', p: 'payload.event', pt: 'msg', to: 'event', tot: 'msg' },
      ],
      wires: [['hist1']],
    },
    { id: 'hist1', type: 'notifier-history', z: 'tab1', name: 'durable history', limit, wires: [[]] },
    { id: 'done1', type: 'complete', z: 'tab1', scope: ['hist1'], uncaught: false, wires: [['ok1']] },
    { id: 'ok1', type: 'change', z: 'tab1', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'kept', tot: 'str' }], wires: [['res1']] },
    { id: 'catch1', type: 'catch', z: 'tab1', scope: ['hist1'], uncaught: false, wires: [['err1']] },
    {
      id: 'err1',
      type: 'change',
      z: 'tab1',
      rules: [
        { t: 'set', p: 'statusCode', pt: 'msg', to: '500', tot: 'num' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'error.message', tot: 'msg' },
      ],
      wires: [['res1']],
    },
    { id: 'res1', type: 'http response', z: 'tab1', statusCode: '', headers: {}, wires: [] },
  ];
}

let seq = 0;
function dispatchRecord() {
  seq++;
  return {
    id: `kill-${process.pid}-${seq}`,
    notifier: 'Webhook One',
    notifierId: NOTIFIER,
    channel: 'webhook',
    eventId: `evt-${seq}`,
    eventType: 'package.added',
    feed: 'internal-utils',
    summary: `MyCorp.CoolUtils 1.0.${seq} Added on internal-utils`,
    outcome: seq % 3 === 0 ? 'failed' : 'delivered',
    attempts: 1,
    startedAt: new Date().toISOString(),
    durationMs: 3,
    request: { method: 'POST', url: 'http://127.0.0.1:9/hook', headers: { 'Content-Type': 'application/json' }, body: '{}' },
    response: { status: seq % 3 === 0 ? 500 : 200, body: '' },
  };
}

async function getJson(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}: ${res.status}`);
  return res.json();
}

async function recordIds(info) {
  const page = await getJson(`${info.adminUrl}/notifier-history/${NOTIFIER}?limit=1000`);
  return page.records.map((r) => r.id);
}

async function redeploy(info, limit) {
  const res = await fetch(`${info.adminUrl}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify({ flows: flows(limit) }),
  });
  assert.equal(res.status, 200, await res.text());
}

test('records kept before a SIGKILL are all there after a restart; a torn last write does not stop the start', { timeout: 120000 }, async (t) => {
  const userDir = tmpDir('pn-hist-kill-');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows(50)));
  let node = await startChild(userDir);
  t.after(() => kill9(node));

  // 30 dispatches, 10 at a time; every 200 means the history node called done() for that record.
  const kept = [];
  for (let batch = 0; batch < 3; batch++) {
    const records = Array.from({ length: 10 }, dispatchRecord);
    const answers = await Promise.all(
      records.map((dispatch) =>
        fetch(`${node.nodeUrl}/dispatch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ dispatch, event: sampleEvent('package.added') }),
        }).then(async (res) => ({ status: res.status, body: await res.text() })),
      ),
    );
    for (const a of answers) assert.deepEqual(a, { status: 200, body: 'kept' });
    kept.push(...records.map((r) => r.id));
  }
  // killed right after the last acknowledgement: no graceful shutdown, no flush
  const exit = await kill9(node);
  assert.equal(exit.signal, 'SIGKILL');

  node = await startChild(userDir);
  const afterKill = await recordIds(node);
  assert.deepEqual(afterKill.slice().sort(), kept.slice().sort(), 'every acknowledged record survived the SIGKILL');
  const summary = (await getJson(`${node.adminUrl}/notifier-history`)).notifiers.find((n) => n.notifierId === NOTIFIER);
  assert.equal(summary.notifier, 'Webhook One');
  assert.equal(summary.kept, 30);
  assert.equal(summary.failed, 10);
  await kill9(node);

  // a crash in the middle of the next write: half a line at the end of the journal
  const journal = path.join(userDir, 'notifier-history', 'journal.jsonl');
  assert.ok(fs.existsSync(journal), 'the history lives under the user directory');
  fs.appendFileSync(journal, JSON.stringify({ t: 'r', n: NOTIFIER, r: dispatchRecord() }).slice(0, 80));
  node = await startChild(userDir);
  assert.deepEqual((await recordIds(node)).slice().sort(), kept.slice().sort());
  assert.match(node.output(), /torn last write/);
  // and it keeps working after that
  const next = dispatchRecord();
  const res = await fetch(`${node.nodeUrl}/dispatch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ dispatch: next }),
  });
  assert.equal(res.status, 200);
  assert.equal((await recordIds(node))[0], next.id);
  await stopChild(node);
});

test('redeploys and restarts keep the history; a lower limit on redeploy trims it', { timeout: 120000 }, async (t) => {
  const userDir = tmpDir('pn-hist-redeploy-');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows(50)));
  let node = await startChild(userDir);
  t.after(() => kill9(node));
  const kept = [];
  for (let i = 0; i < 12; i++) {
    const dispatch = dispatchRecord();
    const res = await fetch(`${node.nodeUrl}/dispatch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dispatch }),
    });
    assert.equal(res.status, 200);
    kept.unshift(dispatch.id);
  }
  await redeploy(node, 50);
  assert.deepEqual(await recordIds(node), kept, 'a full redeploy keeps every record');

  await stopChild(node);
  node = await startChild(userDir);
  assert.deepEqual(await recordIds(node), kept, 'a restart keeps every record');

  await redeploy(node, 5);
  // the new node applies its limit as it starts; its first message waits for that, so ask through a dispatch
  // (Node-RED may answer the deploy before the new flows run: wait for the HTTP endpoint to be back)
  const dispatch = dispatchRecord();
  let res;
  for (let attempt = 0; attempt < 200; attempt++) {
    res = await fetch(`${node.nodeUrl}/dispatch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dispatch }),
    });
    if (res.status !== 404) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(res.status, 200);
  assert.deepEqual(await recordIds(node), [dispatch.id, ...kept.slice(0, 4)]);
  await stopChild(node);
});
