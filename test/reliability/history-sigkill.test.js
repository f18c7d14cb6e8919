'use strict';
// Reliability: a Node-RED child process (test/fixtures/history-runtime.js) runs
// notifier-event → notifier-webhook → notifier-history under continuous HTTP load; a Complete node on
// the history node posts each acknowledged record (its done(): the record is on disk) to a receiver
// here. The process is killed with SIGKILL in the middle of the load, twice, and started again on the
// same user directory: every acknowledged record must be there, intact, exactly once.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, tmpDir } = require('../helpers/nr');
const { startReceiver } = require('../helpers/receivers');
const { waitFor } = require('../fixtures/reliability-chaos');

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'history-runtime.js');
const NOTIFIER = 'wh';
const ACKS_BEFORE_KILL = 300;
const WORKERS = 8;

function flows(hookUrl, ackUrl) {
  return [
    { id: 'tab', type: 'tab', label: 'sigkill' },
    { id: 'ev', type: 'notifier-event', z: 'tab', name: 'events', path: '/load', events: [], auth: 'none', wires: [['wh']] },
    {
      id: 'wh',
      type: 'notifier-webhook',
      z: 'tab',
      name: 'killed webhook',
      url: hookUrl,
      method: 'POST',
      headers: '',
      content: '',
      signing: 'none',
      timeout: '5',
      retries: '0',
      rate: '0',
      wires: [['hist']],
    },
    { id: 'hist', type: 'notifier-history', z: 'tab', name: 'history', limit: 10000, wires: [[]] },
    // the acknowledgement: the history node called done() for this record
    { id: 'done', type: 'complete', z: 'tab', scope: ['hist'], uncaught: false, wires: [['ackfmt']] },
    {
      id: 'ackfmt',
      type: 'change',
      z: 'tab',
      rules: [
        { t: 'set', p: 'payload', pt: 'msg', to: 'dispatch', tot: 'msg' },
        { t: 'delete', p: 'event', pt: 'msg' },
      ],
      wires: [['ack']],
    },
    {
      id: 'ack',
      type: 'http request',
      z: 'tab',
      method: 'POST',
      ret: 'txt',
      paytoqs: 'ignore',
      url: ackUrl,
      persist: true,
      tls: '',
      proxy: '',
      authType: '',
      senderr: false,
      headers: [],
      wires: [[]],
    },
  ];
}

function startChild(userDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE, userDir], { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const info = { child, output: () => out };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    const onData = (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{"ready":true'));
      if (line && !info.adminUrl) {
        Object.assign(info, JSON.parse(line));
        resolve(info);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      info.exited = { code, signal };
      if (!info.adminUrl) reject(new Error(`Node-RED exited before it was ready (${code ?? signal}):\n${out}`));
    });
  });
}

function kill9(info) {
  return new Promise((resolve) => {
    if (info.exited) return resolve(info.exited);
    info.child.once('exit', (code, signal) => resolve({ code, signal }));
    info.child.kill('SIGKILL');
  });
}

async function stopChild(info) {
  if (info.exited) return;
  const exited = new Promise((resolve) => info.child.once('exit', resolve));
  info.child.kill('SIGTERM');
  await exited;
}

/** Every record kept for the notifier (pages of 1,000). */
async function keptRecords(info) {
  const all = [];
  for (let offset = 0; ; offset += 1000) {
    const res = await fetch(`${info.adminUrl}/notifier-history/${NOTIFIER}?offset=${offset}&limit=1000`);
    if (res.status === 404 && offset === 0) return all;
    assert.equal(res.status, 200);
    const page = await res.json();
    all.push(...page.records);
    if (page.records.length < 1000) return all;
  }
}

/** Posts events to the child until stop() (connection errors once it is killed are expected). */
function startLoad(info, prefix) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: WORKERS });
  const target = new URL(info.nodeUrl);
  let running = true;
  let seq = 0;
  const accepted = [];
  const post = (id) =>
    new Promise((resolve) => {
      const body = JSON.stringify({
        event: 'Added',
        id,
        PackageId: 'Kill.Pkg',
        PackageVersion: `1.0.${seq}`,
        FeedName: 'internal-kill',
        UserName: 'kill',
      });
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: '/load',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        },
      );
      req.on('error', () => resolve(0));
      req.end(body);
    });
  const done = Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (running) {
        const id = `${prefix}-${++seq}`;
        const status = await post(id);
        if (status === 202) accepted.push(id);
        else if (status === 0) await new Promise((r) => setTimeout(r, 20));
      }
    }),
  );
  return {
    accepted,
    async stop() {
      running = false;
      await done;
      agent.destroy();
    },
  };
}

test('SIGKILL under load, twice: every acknowledged history record is there after the restart, intact and once', { timeout: 240_000 }, async (t) => {
  // the webhook receiver: mostly 200, some 503 (failed records are kept too), answers in 0-20 ms
  let n = 0;
  const hook = await startReceiver({ answer: () => ({ status: ++n % 7 === 0 ? 503 : 200, delayMs: n % 20 }) });
  const acks = new Map();
  const ackRx = await startReceiver({
    answer: (req) => {
      const record = JSON.parse(req.body);
      acks.set(record.id, record);
      return { status: 204 };
    },
  });
  t.after(async () => {
    await hook.close();
    await ackRx.close();
  });
  // the receivers keep every request: this test only needs the acknowledged records
  const trim = setInterval(() => {
    hook.requests.length = 0;
    ackRx.requests.length = 0;
  }, 1000);
  t.after(() => clearInterval(trim));

  const userDir = tmpDir('pn-rel-kill-');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows(hook.url('/hook'), ackRx.url('/ack'))));
  let node = await startChild(userDir);
  t.after(() => kill9(node));

  for (const cycle of [1, 2]) {
    const before = acks.size;
    const load = startLoad(node, `kill${cycle}`);
    await waitFor(() => acks.size - before >= ACKS_BEFORE_KILL, 120_000, `${ACKS_BEFORE_KILL} acknowledged records`);
    // SIGKILL while the load runs: no graceful stop, records are being written
    const exit = await kill9(node);
    assert.equal(exit.signal, 'SIGKILL');
    await load.stop();
    const ackedNow = new Map(acks);

    node = await startChild(userDir);
    const kept = await keptRecords(node);
    const byId = new Map();
    for (const r of kept) {
      assert.ok(!byId.has(r.id), `record ${r.id} is kept twice`);
      byId.set(r.id, r);
    }
    let checked = 0;
    for (const [id, acked] of ackedNow) {
      const r = byId.get(id);
      assert.ok(r, `cycle ${cycle}: acknowledged record ${id} (event ${acked.eventId}) is missing after SIGKILL`);
      for (const k of [
        'notifierId',
        'notifier',
        'channel',
        'eventId',
        'eventType',
        'feed',
        'outcome',
        'attempts',
        'startedAt',
        'durationMs',
        'summary',
      ]) {
        assert.deepEqual(r[k], acked[k], `cycle ${cycle}: record ${id} field ${k}`);
      }
      assert.deepEqual(r.request, acked.request, `cycle ${cycle}: record ${id} request`);
      assert.equal(r.response?.status, acked.response?.status, `cycle ${cycle}: record ${id} response status`);
      assert.equal(r.error?.code, acked.error?.code, `cycle ${cycle}: record ${id} error code`);
      checked++;
    }
    const failed = kept.filter((r) => r.outcome === 'failed').length;
    t.diagnostic(
      `cycle ${cycle}: ${load.accepted.length} events accepted, ${ackedNow.size} records acknowledged in total, ${kept.length} kept after the restart (${failed} failed), ${checked} checked`,
    );
    assert.ok(kept.length >= ackedNow.size, 'at least every acknowledged record is kept');
  }
  await stopChild(node);
});
