'use strict';
// Reliability: a Node-RED child process takes a burst of 5,000 events from 32 concurrent senders
// (notifier-event → notifier-webhook → notifier-history) to a receiver that answers slowly, and is killed with
// SIGKILL in the middle of it; started again on the same user directory, it delivers every event that got a 202
// at least once (counted at the receiver by X-Notifier-Delivery), repeats carry the same id, and the history has a
// delivered record for every one of them.
const test = require('node:test');
const assert = require('node:assert/strict');
const { tmpDir } = require('../helpers/nr');
const { startChild, kill9, stopChild } = require('../fixtures/history-child');
const { startReceiver } = require('../helpers/receivers');
const { burstFlows, eventually, deployTo, numberedEvent, postJson, historyOf } = require('../helpers/durable');

const EVENTS = 5000;
const SENDERS = 32;
const KILL_AFTER_ACCEPTED = 1500;

test('SIGKILL mid-burst: every 202 is delivered after the restart, repeats carry the same delivery id, every record is in the history', async () => {
  const rx = await startReceiver({ answer: { status: 200, delayMs: 5 } });
  const userDir = tmpDir('pn-burst-');
  let child = await startChild(userDir);
  try {
    await deployTo(child.adminUrl, burstFlows(rx.url()));
    const url = `${child.nodeUrl}/burst`;
    const accepted = new Set();
    let next = 0;
    let killed = false;
    let killing;
    const sender = async () => {
      while (!killed && next < EVENTS) {
        const i = next++;
        const r = await postJson(url, numberedEvent(i));
        if (r.status === 202) accepted.add(i);
        if (!killing && accepted.size >= KILL_AFTER_ACCEPTED) {
          killing = kill9(child).then(() => {
            killed = true;
          });
        }
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, sender));
    await killing;
    const sentBeforeKill = rx.requests.length;
    assert.ok(accepted.size >= KILL_AFTER_ACCEPTED && accepted.size < EVENTS, `killed mid-burst: ${accepted.size} accepted`);

    child = await startChild(userDir);
    const delivered = () => new Set(rx.requests.map((r) => r.body));
    await eventually(() => [...accepted].every((i) => delivered().has(`pkg-${i}`)), 60_000, 'every accepted event at the receiver');

    const idsByBody = new Map();
    for (const r of rx.requests) {
      if (!idsByBody.has(r.body)) idsByBody.set(r.body, new Set());
      idsByBody.get(r.body).add(r.headers['x-notifier-delivery']);
    }
    for (const [body, ids] of idsByBody) assert.equal(ids.size, 1, `${body} was sent with one delivery id (${[...ids]})`);
    const repeats = rx.requests.length - idsByBody.size;

    let records = [];
    await eventually(
      async () => {
        records = await historyOf(child.adminUrl, 'wh');
        const kept = new Set(records.filter((r) => r.outcome === 'delivered').map((r) => r.eventId));
        return [...accepted].every((i) => kept.has(`ev-${i}`));
      },
      30_000,
      'a delivered record for every accepted event',
    );
    assert.equal(new Set(records.map((r) => r.id)).size, records.length, 'each record once');
    console.log(
      `# accepted ${accepted.size} of ${EVENTS} before SIGKILL; ${sentBeforeKill} requests before it; ${repeats} repeated deliveries after the restart`,
    );
  } finally {
    await stopChild(child);
    await rx.close();
  }
});
