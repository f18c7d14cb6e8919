'use strict';
// Reliability: a Node-RED runtime (child process) on Redis (notifierStore type "redis", a redis-server of this
// test's own with an append-only file) takes a steady stream of events; Redis is stopped for 10 s and started again.
// Meanwhile the endpoint answers 503 (never 202 without storage); after, every event that got a 202 is delivered;
// the runtime neither crashes nor reports an unhandled error; its memory is printed before, during and after.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { tmpDir } = require('../helpers/nr');
const { startChild, stopChild } = require('../fixtures/history-child');
const { startReceiver } = require('../helpers/receivers');
const { eventually, deployTo, numberedEvent, postJson } = require('../helpers/durable');
const { startRedis } = require('../helpers/redis');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024);

test('Redis stopped for 10 s and started again: 503 meanwhile, every 202 delivered after, no unhandled error', async () => {
  const redis = await startRedis({ appendonly: true });
  const rx = await startReceiver({ answer: { status: 200 } });
  const child = await startChild(tmpDir('pn-outage-'), { notifierStore: { type: 'redis', url: redis.url, prefix: 'outage' } });
  try {
    await deployTo(child.adminUrl, [
      { id: 'tab', type: 'tab', label: 'outage' },
      { id: 'ev', type: 'notifier-event', z: 'tab', path: '/in', events: [], auth: 'none', wires: [['wh']] },
      {
        id: 'wh',
        type: 'notifier-webhook',
        z: 'tab',
        name: 'hook',
        url: rx.url(),
        headers: 'Content-Type: text/plain',
        content: '$PackageId',
        rate: '0',
        wires: [[]],
      },
    ]);
    const url = `${child.nodeUrl}/in`;
    const answers = []; // { i, status, sentAt, answeredAt }
    let stop = false;
    let i = 0;
    const sender = async () => {
      while (!stop) {
        const n = i++;
        const sentAt = Date.now();
        const r = await postJson(url, numberedEvent(n));
        answers.push({ i: n, status: r.status ?? 'error', sentAt, answeredAt: Date.now() });
        await sleep(20);
      }
    };
    const senders = Array.from({ length: 4 }, sender);
    await sleep(4000);
    const before = rssMb(child.child.pid);
    await redis.stop();
    const downAt = Date.now();
    await sleep(10_000);
    const during = rssMb(child.child.pid);
    const upAt = Date.now();
    await redis.start();
    await sleep(6000);
    stop = true;
    await Promise.all(senders);
    const after = rssMb(child.child.pid);

    const outage = answers.filter((a) => a.sentAt > downAt + 200 && a.answeredAt < upAt);
    assert.ok(outage.length > 50, `requests during the outage: ${outage.length}`);
    assert.deepEqual([...new Set(outage.map((a) => a.status))], [503], 'every request during the outage was refused with 503');
    assert.ok(
      answers.some((a) => a.sentAt > upAt && a.status === 202),
      'events are accepted again once Redis is back',
    );
    const accepted = answers.filter((a) => a.status === 202).map((a) => a.i);
    const delivered = () => new Set(rx.requests.map((r) => r.body));
    await eventually(() => accepted.every((n) => delivered().has(`pkg-${n}`)), 60_000, 'every accepted event at the receiver');
    assert.equal(child.exited, undefined, 'the runtime is still running');
    const out = child.output();
    assert.ok(!/Unhandled error event|UnhandledPromiseRejection|unhandledRejection/i.test(out), out.slice(-2000));
    assert.match(out, /Redis at 127\.0\.0\.1:\d+ is unavailable/, 'the outage is logged');
    console.log(
      `# ${answers.length} requests: ${accepted.length} accepted (all delivered), ${answers.filter((a) => a.status === 503).length} refused with 503; RSS ${before} MB before, ${during} MB after 10 s without Redis, ${after} MB after`,
    );
  } finally {
    await stopChild(child);
    await rx.close();
    await redis.close();
  }
});
