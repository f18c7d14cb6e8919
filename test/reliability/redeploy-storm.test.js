'use strict';
// Reliability: full deploys every few hundred milliseconds while events keep arriving over HTTP
// (notifier-event → notifier-webhook → a receiver answering in 0–60 ms), a little faster than the
// receiver takes them, so that every deploy finds deliveries in flight and messages queued. Every event answered 202
// must end as exactly one dispatch record (delivered, or failed: `shutdown` when the flow stopped under
// it), and once the storm is over and the runtime settled, no timer or socket is left behind
// (process.getActiveResourcesInfo(): Timeout and TCPSocketWrap back to their baseline).
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { startRuntime } = require('../helpers/nr');
const { startReceiver } = require('../helpers/receivers');
const { recordCounter, waitFor, activeResources } = require('../fixtures/reliability-chaos');

const DEPLOYS = Number(process.env.STORM_DEPLOYS || 25);
const DEPLOY_EVERY_MS = 250;
const WORKERS = 8;

function flows(base, generation) {
  return [
    { id: 'tab', type: 'tab', label: `storm ${generation}` },
    { id: 'ev', type: 'notifier-event', z: 'tab', name: 'events', path: '/storm', events: [], auth: 'none', wires: [['wh']] },
    {
      id: 'wh',
      type: 'notifier-webhook',
      z: 'tab',
      name: 'storm webhook',
      url: `${base}/hook`,
      method: 'POST',
      headers: '',
      content: '',
      signing: 'none',
      timeout: '5',
      retries: '2',
      rate: '0',
      wires: [['out']],
    },
    { id: 'out', type: 'debug', z: 'tab', active: false, tosidebar: false, console: false, complete: 'false', wires: [] },
  ];
}

test(`redeploy storm: ${DEPLOYS} full deploys under load lose no accepted event and leak no timer or socket`, { timeout: 300_000 }, async (t) => {
  const rx = await startReceiver({ answer: () => ({ status: 200, delayMs: Math.floor(Math.random() * 60) }) });
  const rt = await startRuntime({ settings: { notifierDelivery: { baseDelayMs: 10, maxDelayMs: 50, closeGraceMs: 100 } } });
  t.after(async () => {
    await rt.stop();
    await rx.close();
  });
  let generation = 0;
  await rt.deploy(flows(rx.base, generation++));
  const counter = recordCounter(rt.RED);
  const agent = new http.Agent({ keepAlive: true, maxSockets: WORKERS });
  const target = new URL(rt.nodeUrl);
  let seq = 0;
  const accepted = [];
  const statuses = {};

  const post = (id) =>
    new Promise((resolve) => {
      const body = JSON.stringify({
        event: 'Added',
        id,
        PackageId: 'Storm.Pkg',
        PackageVersion: `1.0.${id.split('-')[1]}`,
        FeedName: 'internal-storm',
        UserName: 'storm',
      });
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: '/storm',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', (err) => resolve({ status: err.code || 'error' }));
      req.end(body);
    });

  // baseline: deliveries done, then a deploy (the transports of the old nodes are released), settled
  for (let i = 0; i < 20; i++) assert.equal((await post(`warm-${i}`)).status, 202);
  await waitFor(() => counter.count >= 20, 10_000, 'the warm-up records');
  await rt.deploy(flows(rx.base, generation++));
  await new Promise((r) => setTimeout(r, 1500));
  const baseline = activeResources();
  counter.reset();

  let loading = true;
  const load = Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (loading) {
        const id = `storm-${++seq}`;
        const answer = await post(id);
        statuses[answer.status] = (statuses[answer.status] || 0) + 1;
        if (answer.status === 202) {
          assert.equal(JSON.parse(answer.body).id, id, '202 names the accepted event');
          accepted.push(id);
          await new Promise((r) => setTimeout(r, 10));
        } else if (answer.status !== 404) {
          // 404: the endpoint is not there for a moment while the flows restart; nothing was accepted
          await new Promise((r) => setTimeout(r, 5));
        } else {
          await new Promise((r) => setTimeout(r, 2));
        }
      }
    }),
  );
  for (let i = 0; i < DEPLOYS; i++) {
    await new Promise((r) => setTimeout(r, DEPLOY_EVERY_MS));
    await rt.deploy(flows(rx.base, generation++));
  }
  loading = false;
  await load;
  agent.destroy();

  await waitFor(
    () => accepted.every((id) => counter.records.has(id)),
    30_000,
    `a record for every accepted event (${accepted.filter((id) => !counter.records.has(id)).length} missing)`,
  ).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 500));
  const missing = accepted.filter((id) => !counter.records.has(id));
  const outcomes = {};
  for (const id of accepted) {
    for (const r of counter.records.get(id) || []) {
      const k = r.outcome === 'delivered' ? 'delivered' : `failed:${r.code}`;
      outcomes[k] = (outcomes[k] || 0) + 1;
    }
  }
  t.diagnostic(`answers ${JSON.stringify(statuses)}; outcomes ${JSON.stringify(outcomes)}; receiver got ${rx.requests.length}`);
  assert.ok(accepted.length > 200, `the load kept going through the storm (${accepted.length} accepted)`);
  assert.deepEqual(missing.slice(0, 20), [], `${missing.length} of ${accepted.length} accepted events have no dispatch record`);
  for (const id of accepted) {
    const list = counter.records.get(id);
    assert.equal(list.length, 1, `event ${id} has ${list.length} records`);
    const r = list[0];
    if (r.outcome === 'failed') assert.ok(r.code, `failed record of ${id} names a reason`);
  }

  // after the storm: one more deploy, then timers and sockets go back to the baseline
  await rt.deploy(flows(rx.base, generation));
  let now = activeResources();
  const settled = () => {
    now = activeResources();
    return (now.Timeout || 0) <= (baseline.Timeout || 0) && (now.TCPSocketWrap || 0) <= (baseline.TCPSocketWrap || 0);
  };
  await waitFor(settled, 20_000, 'timers and sockets back to the baseline').catch(() => undefined);
  t.diagnostic(`active resources: baseline ${JSON.stringify(baseline)}, after ${JSON.stringify(now)}`);
  assert.ok((now.Timeout || 0) <= (baseline.Timeout || 0), `timers left: ${now.Timeout} (baseline ${baseline.Timeout})`);
  assert.ok((now.TCPSocketWrap || 0) <= (baseline.TCPSocketWrap || 0), `sockets left: ${now.TCPSocketWrap} (baseline ${baseline.TCPSocketWrap})`);
  counter.remove();
});
