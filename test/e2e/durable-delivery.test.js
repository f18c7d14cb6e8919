'use strict';
// Durable delivery in a real Node-RED process (a child, killed with SIGKILL and started again on the same user
// directory): a retry waiting for its time survives the kill and is made when it is due, with both attempts in the
// history; a signed delivery is emitted once across a repeat, a redeploy and a restart; a changed node delivers
// what it had pending with its new configuration, and a removed one records it as failed (`removed`).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { tmpDir } = require('../helpers/nr');
const { startChild, kill9, stopChild } = require('../fixtures/history-child');
const { startReceiver } = require('../helpers/receivers');
const { eventually, deployTo, numberedEvent, postJson, historyOf, freePort, byDeliveryId } = require('../helpers/durable');
const { signStandard } = require('../../dist/core/intake');

function webhook(id, url, extra = {}) {
  return {
    id,
    type: 'notifier-webhook',
    z: 'tab',
    name: `${id} hook`,
    url,
    method: 'POST',
    headers: 'Content-Type: text/plain',
    content: '$PackageId',
    signing: 'none',
    timeout: '5',
    retries: '5',
    rate: '0',
    wires: [['hist']],
    ...extra,
  };
}

test('a retry waiting for its Retry-After survives SIGKILL: after the restart it is made once due, and the history shows both attempts', async () => {
  const rx = await startReceiver();
  rx.queue({ status: 503, headers: { 'Retry-After': '5' }, body: 'busy' });
  const userDir = tmpDir('pn-durable-retry-');
  let child = await startChild(userDir);
  try {
    await deployTo(child.adminUrl, [
      { id: 'tab', type: 'tab', label: 'retry' },
      { id: 'ev', type: 'notifier-event', z: 'tab', path: '/retry', events: [], auth: 'none', wires: [['wh']] },
      webhook('wh', rx.url()),
      { id: 'hist', type: 'notifier-history', z: 'tab', limit: 50, wires: [[]] },
    ]);
    const accepted = await postJson(`${child.nodeUrl}/retry`, numberedEvent(1));
    assert.equal(accepted.status, 202, accepted.text);
    const first = await rx.next(5000);
    assert.equal(first.body, 'pkg-1');
    await new Promise((r) => setTimeout(r, 700)); // the retry's due time is stored (group commit: milliseconds)
    await kill9(child);
    child = await startChild(userDir);
    const second = await rx.next(15000);
    const waited = second.at - first.at;
    assert.ok(waited >= 4900, `the retry came ${waited} ms after the first attempt; Retry-After asked for 5000`);
    assert.equal(second.headers['x-notifier-delivery'], first.headers['x-notifier-delivery'], 'one delivery id for both attempts');
    let records = [];
    await eventually(async () => (records = await historyOf(child.adminUrl, 'wh')).length === 1, 10000, 'the record in the history');
    const [rec] = records;
    assert.equal(rec.outcome, 'delivered');
    assert.equal(rec.attempts, 2);
    assert.equal(rec.id, first.headers['x-notifier-delivery'], 'the record id is the delivery id');
    assert.deepEqual(
      rec.attemptLog.map((a) => a.status),
      [503, 200],
    );
    assert.equal(rx.requests.length, 2);
  } finally {
    await stopChild(child);
    await rx.close();
  }
});

test('the same signed request is emitted once: repeated, after a redeploy, and after a restart', async () => {
  const rx = await startReceiver();
  const secret = 'whsec_' + Buffer.from('a'.repeat(32)).toString('base64');
  const port = await freePort();
  const userDir = tmpDir('pn-durable-dedup-');
  const flows = (name) => [
    { id: 'tab', type: 'tab', label: 'dedup' },
    {
      id: 'ev',
      type: 'notifier-event',
      z: 'tab',
      name,
      path: '/signed',
      port: String(port),
      events: [],
      auth: 'hmac',
      credentials: { secret },
      wires: [['wh']],
    },
    webhook('wh', rx.url()),
    { id: 'hist', type: 'notifier-history', z: 'tab', limit: 50, wires: [[]] },
  ];
  const body = JSON.stringify(numberedEvent(7, 'signed'));
  const send = () => {
    const ts = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'msg_same', 'webhook-timestamp': String(ts), 'webhook-signature': signStandard(secret, 'msg_same', ts, body) };
    return postJson(`http://127.0.0.1:${port}/signed`, body, headers);
  };
  let child = await startChild(userDir);
  try {
    await deployTo(child.adminUrl, flows('first'));
    const r1 = await send();
    assert.equal(r1.status, 202, r1.text);
    assert.equal(r1.json.duplicate, undefined);
    const r2 = await send();
    assert.deepEqual([r2.status, r2.json.duplicate], [202, true], 'a repeat');
    await deployTo(child.adminUrl, flows('changed'), 'nodes'); // the event node restarts with a new configuration
    const r3 = await send();
    assert.deepEqual([r3.status, r3.json.duplicate], [202, true], 'after a redeploy');
    await stopChild(child);
    child = await startChild(userDir);
    await new Promise((r) => setTimeout(r, 300));
    const r4 = await send();
    assert.deepEqual([r4.status, r4.json.duplicate], [202, true], 'after a restart');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(rx.requests.length, 1, 'delivered once');
    assert.equal(rx.requests[0].body, 'pkg-7');
  } finally {
    await stopChild(child);
    await rx.close();
  }
});

test('a changed node delivers what it had pending with its new configuration; a removed node records it as failed (removed)', async () => {
  const failing = await startReceiver({ answer: { status: 503, body: 'down' } });
  const working = await startReceiver();
  const userDir = tmpDir('pn-durable-redeploy-');
  const child = await startChild(userDir, { notifierDelivery: { baseDelayMs: 200, maxDelayMs: 400 } });
  const base = [
    { id: 'tab', type: 'tab', label: 'redeploy' },
    { id: 'ev', type: 'notifier-event', z: 'tab', path: '/redeploy', events: [], auth: 'none', wires: [['wh']] },
    { id: 'hist', type: 'notifier-history', z: 'tab', limit: 50, wires: [[]] },
  ];
  try {
    await deployTo(child.adminUrl, [...base, webhook('wh', failing.url(), { retries: '10' })]);
    for (let i = 1; i <= 3; i++) assert.equal((await postJson(`${child.nodeUrl}/redeploy`, numberedEvent(i))).status, 202);
    await eventually(() => failing.requests.length >= 3, 5000, 'the first attempts');
    const ids = [...byDeliveryId(failing.requests).keys()];
    await deployTo(child.adminUrl, [...base, webhook('wh', working.url(), { retries: '10' })], 'nodes');
    await eventually(() => working.requests.length >= 3, 10000, 'the pending dispatches at the new URL');
    assert.deepEqual(working.requests.map((r) => r.body).sort(), ['pkg-1', 'pkg-2', 'pkg-3']);
    assert.deepEqual([...byDeliveryId(working.requests).keys()].sort(), ids.sort(), 'the same dispatches, with their delivery ids');
    let records = [];
    await eventually(async () => (records = await historyOf(child.adminUrl, 'wh')).length === 3, 5000, 'three records');
    assert.ok(records.every((r) => r.outcome === 'delivered' && r.attempts >= 2));

    // a second webhook node that cannot deliver, then removed with what it holds
    const withSecond = [
      ...base.map((n) => (n.id === 'ev' ? { ...n, wires: [['wh', 'wh2']] } : n)),
      webhook('wh', working.url()),
      webhook('wh2', failing.url(), { retries: '10' }),
    ];
    await deployTo(child.adminUrl, withSecond);
    for (let i = 4; i <= 5; i++) assert.equal((await postJson(`${child.nodeUrl}/redeploy`, numberedEvent(i))).status, 202);
    await eventually(() => failing.requests.some((r) => r.body === 'pkg-5'), 5000, 'wh2 tried');
    await deployTo(child.adminUrl, [...base, webhook('wh', working.url())]);
    let removed = [];
    await eventually(async () => (removed = await historyOf(child.adminUrl, 'wh2')).length === 2, 5000, 'two removed records');
    for (const r of removed) {
      assert.equal(r.outcome, 'failed');
      assert.equal(r.error.code, 'removed');
    }
    assert.deepEqual(removed.map((r) => r.eventId).sort(), ['ev-4', 'ev-5']);
  } finally {
    await stopChild(child);
    await failing.close();
    await working.close();
  }
});

test('a node removed while the runtime was down: what its outbox held is recorded as failed (removed) at the next start', async () => {
  const failing = await startReceiver({ answer: { status: 503, body: 'down' } });
  const userDir = tmpDir('pn-durable-orphan-');
  let child = await startChild(userDir, { notifierDelivery: { baseDelayMs: 60000, maxDelayMs: 60000 } });
  const base = [
    { id: 'tab', type: 'tab', label: 'orphan' },
    { id: 'ev', type: 'notifier-event', z: 'tab', path: '/orphan', events: [], auth: 'none', wires: [['gone']] },
    { id: 'hist', type: 'notifier-history', z: 'tab', limit: 50, wires: [[]] },
  ];
  try {
    await deployTo(child.adminUrl, [...base, webhook('gone', failing.url())]);
    for (let i = 1; i <= 2; i++) assert.equal((await postJson(`${child.nodeUrl}/orphan`, numberedEvent(i))).status, 202);
    await eventually(() => failing.requests.length >= 2, 5000, 'the first attempts');
    await stopChild(child);
    // the flows change while the runtime is down: the webhook node is gone
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(base.map((n) => (n.id === 'ev' ? { ...n, wires: [[]] } : n))));
    child = await startChild(userDir);
    let records = [];
    await eventually(async () => (records = await historyOf(child.adminUrl, 'gone')).length === 2, 10000, 'two removed records');
    assert.ok(records.every((r) => r.outcome === 'failed' && r.error.code === 'removed' && r.notifier === 'gone hook' && r.channel === 'webhook'));
    // the records are kept first, then the outbox is removed
    await eventually(() => !fs.existsSync(path.join(userDir, 'notifier-store', 'outbox', 'gone')), 5000, 'the outbox removed');
  } finally {
    await stopChild(child);
    await failing.close();
  }
});
