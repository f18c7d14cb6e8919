'use strict';
// Dispatches per second through the Redis store against the file store: 10,000 dispatches fed into a running
// runtime (notifier-webhook → notifier-history, receiver healthy), once with `notifierStore: { type: 'redis' }` (a
// redis-server of this bench's own on 127.0.0.1, append-only file fsynced on every write: the durability of the file
// store's journal) and once with the file store. Ratio = Redis dispatches/s ÷ file dispatches/s (target >= 0.5).
const { startChildRuntime } = require('./lib/child-runtime');
const { startHttpSink } = require('./lib/sinks');
const { result, detail, round, nowMs } = require('./lib/stats');
const { tmpDir } = require('../test/helpers/nr');
const { startRedis } = require('../test/helpers/redis');
const { flows, until } = require('./outbox-restart');
const { runWhenMain } = require('./lib/main');

/** ms until `count` dispatches fed into a runtime with `settings` reached the sink. */
async function timeThrough(options, settings, count, prefix) {
  const bodies = new Set();
  const sink = await startHttpSink({ onBody: (_p, body) => bodies.add(body) });
  const rt = await startChildRuntime({ nr5: options.nr5, userDir: tmpDir('pn-bench-rvf-'), settings });
  try {
    await rt.deploy(flows(sink.url('/outbox')));
    await new Promise((r) => setTimeout(r, 300));
    const t0 = nowMs();
    await rt.call('feed', { nodeId: 'wh', count, window: 256, kind: 'event', prefix });
    if (!(await until(() => bodies.size >= count, 300000))) throw new Error(`${prefix}: only ${bodies.size} of ${count} delivered`);
    return nowMs() - t0;
  } finally {
    await rt.stop();
    await sink.close();
  }
}

async function run(options = {}) {
  const count = options.count ?? 10000;
  const redis = await startRedis({ appendonly: true });
  try {
    const fileMs = await timeThrough(options, {}, count, 'file');
    const redisMs = await timeThrough(options, { notifierStore: { type: 'redis', url: redis.url, prefix: 'bench' } }, count, 'redis');
    const perSec = (ms) => (count * 1000) / ms;
    detail(
      `  outbox-redis-vs-file: ${count} dispatches; Redis store ${round(redisMs)} ms (${round(perSec(redisMs))}/s), file store ${round(fileMs)} ms (${round(perSec(fileMs))}/s)`,
    );
    return result(
      'outbox-redis-vs-file',
      perSec(redisMs),
      perSec(fileMs),
      'dispatches/s through the Redis store (ours) vs the file store (peer); ratio = ours/peer',
      perSec(redisMs) / perSec(fileMs),
    );
  } finally {
    await redis.close();
  }
}

module.exports = { run };
runWhenMain(module, run);
