'use strict';
// How fast the outbox gets a backlog out after a crash: 10,000 dispatches stored while the receiver hangs, the
// runtime killed with SIGKILL, the receiver healthy again, a new runtime started on the same user directory: the time
// from its start until all 10,000 reached the receiver (each counted once, by its body), against the time the same
// 10,000 take without a crash (fed into a running runtime, receiver healthy). Ratio = no-crash time / restart time.
const { startChildRuntime } = require('./lib/child-runtime');
const { startHttpSink } = require('./lib/sinks');
const { result, detail, round, nowMs, until } = require('./lib/stats');
const fs = require('node:fs');
const path = require('node:path');
const { tmpDir } = require('../test/helpers/nr');
const { runWhenMain } = require('./lib/main');

const flows = (url) => [
  { id: 'tab', type: 'tab', label: 'outbox' },
  {
    id: 'wh',
    type: 'notifier-webhook',
    z: 'tab',
    name: 'backlog',
    url,
    method: 'POST',
    headers: '',
    content: '',
    signing: 'none',
    timeout: '30',
    retries: '4',
    rate: '0',
    wires: [['hist']],
  },
  { id: 'hist', type: 'notifier-history', z: 'tab', name: 'history', limit: 50, wires: [[]] },
];

async function run(options = {}) {
  const count = options.count ?? 10000;
  const bodies = new Set();
  const sink = await startHttpSink({ onBody: (_p, body) => bodies.add(body) });
  const url = sink.url('/backlog');
  let rt;
  try {
    // no crash: the same 10,000 into a running runtime, receiver healthy
    rt = await startChildRuntime({ nr5: options.nr5, userDir: tmpDir('pn-bench-outbox-') });
    await rt.deploy(flows(url));
    await new Promise((r) => setTimeout(r, 300));
    let t0 = nowMs();
    await rt.call('feed', { nodeId: 'wh', count, window: 256, kind: 'event', prefix: 'plain' });
    await until(() => bodies.size >= count, 300000);
    const plainMs = nowMs() - t0;
    await rt.stop();

    // crash: stored while the receiver does not answer, SIGKILL, restart on the same user directory
    bodies.clear();
    const userDir = tmpDir('pn-bench-outbox-');
    const dead = await startHttpSink({ delayMs: 3600_000 }); // a receiver that never answers
    rt = await startChildRuntime({ nr5: options.nr5, userDir });
    await rt.deploy(flows(dead.url('/backlog')));
    await new Promise((r) => setTimeout(r, 300));
    await rt.call('feed', { nodeId: 'wh', count, window: 256, kind: 'event', prefix: 'crash' });
    // the flows file must point at the healthy receiver after the restart: a deploy of the same flows with its URL
    // would redeliver through the running node, so the new URL is written before the kill and read at the start
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows(url)));
    const gone = new Promise((r) => rt.child.once('exit', r));
    rt.child.kill('SIGKILL');
    await gone;
    await dead.close();
    t0 = nowMs();
    rt = await startChildRuntime({ nr5: options.nr5, userDir });
    const startedMs = nowMs() - t0;
    await until(() => bodies.size >= count, 300000);
    const restartMs = nowMs() - t0;
    detail(
      `  outbox-restart: ${count} dispatches; without a crash ${round(plainMs)} ms; after SIGKILL ${round(restartMs)} ms from the restart (runtime start ${round(startedMs)} ms), ${bodies.size} delivered, sink got ${sink.count} requests in all`,
    );
    return result(
      'outbox-restart',
      restartMs,
      plainMs,
      `ms until ${count} delivered: after SIGKILL and restart (ours) vs without a crash (peer); ratio = peer/ours`,
      plainMs / restartMs,
    );
  } finally {
    await rt?.stop();
    await sink.close();
  }
}

module.exports = { run, flows, until };
runWhenMain(module, run);
