'use strict';
// A Node-RED runtime in its own process for the benchmarks (so the load generator and the receivers
// do not share its event loop): startRuntime() from the test harness with this package loaded (plus
// the compiled node types not yet declared in package.json, see nodes.js), driven over IPC by
// bench/lib/child-runtime.js. Commands: deploy, feed, raw, burst, memory, gc, stop.
const http = require('node:http');
const path = require('node:path');
const { startRuntime } = require('../../test/helpers/nr');
const { nodesDirs, ROOT } = require('./nodes');

const options = JSON.parse(process.argv[2] || '{}');
let rt;
/** outcome listeners by node id: fn({ msg, error }) */
const completions = new Map();
/** message listeners by destination node id: fn(msg) */
const arrivals = new Map();

function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

function memory() {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, maxRSS: process.resourceUsage().maxRSS * 1024 };
}

let baseEvent;
/** A normalized event with a unique id and package version `1.0.<n>`. */
function eventFor(prefix, n) {
  if (!baseEvent) {
    const { normalizeEvent } = require(path.join(ROOT, 'dist', 'core', 'events'));
    baseEvent = normalizeEvent(
      { event: 'Added', PackageId: 'bench.pkg', PackageVersion: '1.0.0', FeedName: 'internal-bench', UserName: 'bench' },
      { source: 'input' },
    );
  }
  return { ...baseEvent, id: `${prefix}-${n}`, vars: { ...baseEvent.vars, PackageVersion: `1.0.${n}` } };
}

function messageFor(kind, prefix, n) {
  if (kind === 'payload') {
    // raw input for notifier-event
    return {
      payload: {
        event: 'Added',
        id: `${prefix}-${n}`,
        PackageId: 'bench.pkg',
        PackageVersion: `1.0.${n}`,
        FeedName: 'internal-bench',
        UserName: 'bench',
      },
    };
  }
  if (kind === 'mail') {
    // what node-red-node-email's e-mail node sends: msg.topic (subject), msg.payload (text body)
    const ev = eventFor(prefix, n);
    return {
      topic: `${ev.vars.PackageId} ${ev.vars.PackageVersion} was added to ${ev.vars.FeedName}`,
      payload: `Package ${ev.vars.PackageId} ${ev.vars.PackageVersion} was added to ${ev.vars.FeedName} by ${ev.vars.UserName}.`,
    };
  }
  const event = eventFor(prefix, n);
  if (kind === 'body') {
    // what notifier-webhook posts for the event (ProGet's default content), as msg.payload for the core http request node
    return { payload: webhookBody(event.vars), topic: event.type };
  }
  return { event, payload: event.vars, topic: event.type };
}

let webhookTemplate;
function webhookBody(vars) {
  if (!webhookTemplate) {
    const { compileTemplate, defaultTemplates } = require(path.join(ROOT, 'dist', 'core', 'otterscript'));
    webhookTemplate = compileTemplate(defaultTemplates(baseEvent.type).webhook);
  }
  return webhookTemplate(vars);
}

/**
 * Sends `count` messages into node `nodeId` with at most `window` not yet completed (done() called,
 * seen through the onComplete hook). Resolves with the elapsed time and the outcomes.
 */
function feed({ nodeId, count, window = 64, kind = 'event', prefix = 'f', timeoutMs = 120000 }) {
  const node = rt.RED.nodes.getNode(nodeId);
  if (!node) throw new Error(`no node ${nodeId}`);
  return new Promise((resolve) => {
    let sent = 0;
    let completed = 0;
    const outcomes = {};
    const t0 = nowMs();
    const timer = setTimeout(() => finish(true), timeoutMs);
    function finish(timedOut) {
      clearTimeout(timer);
      completions.delete(nodeId);
      resolve({ elapsedMs: nowMs() - t0, sent, completed, outcomes, timedOut: !!timedOut });
    }
    completions.set(nodeId, ({ msg, error }) => {
      completed++;
      const key =
        msg && msg.dispatch
          ? msg.dispatch.outcome === 'delivered'
            ? 'delivered'
            : `failed:${msg.dispatch.error && msg.dispatch.error.code}`
          : error
            ? 'error'
            : 'done';
      outcomes[key] = (outcomes[key] || 0) + 1;
      if (completed >= count) return finish(false);
      pump();
    });
    function pump() {
      while (sent < count && sent - completed < window) {
        const msg = messageFor(kind, prefix, sent);
        sent++;
        node.receive(msg);
      }
    }
    pump();
  });
}

/** The peer of notifier-webhook: a plain keep-alive node:http client loop with `concurrency` workers. */
async function raw({ url, count, concurrency = 4, body, headers = {} }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  let next = 0;
  const statuses = {};
  const one = () =>
    new Promise((resolve) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
            resolve();
          });
        },
      );
      req.on('error', (err) => {
        statuses[err.code || 'error'] = (statuses[err.code || 'error'] || 0) + 1;
        resolve();
      });
      req.end(body);
    });
  const t0 = nowMs();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        await one();
      }
    }),
  );
  const elapsedMs = nowMs() - t0;
  agent.destroy();
  return { elapsedMs, statuses };
}

/**
 * A burst: `count` raw events into `nodeId` (a notifier-event node), `batch` per turn of the event loop,
 * outcomes counted where they arrive at `sinkId` (msg.dispatch). Samples the RSS every 20 ms. Resolves
 * when every event has a record or after `settleMs` without progress once all are sent.
 */
function burst({ nodeId, sinkId, count, batch = 1000, prefix = 'b', idleMs = 3000, maxMs = 300000 }) {
  const node = rt.RED.nodes.getNode(nodeId);
  if (!node) throw new Error(`no node ${nodeId}`);
  return new Promise((resolve) => {
    const counts = { delivered: 0, failed: {} };
    let recorded = 0;
    let peakRss = process.memoryUsage().rss;
    let lastProgress = nowMs();
    let lastRefusal = nowMs();
    let atBurstEnd;
    const t0 = nowMs();
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (atBurstEnd && (recorded >= count || nowMs() - lastProgress > idleMs || nowMs() - t0 > maxMs)) done();
    }, 20);
    arrivals.set(sinkId, (msg) => {
      const d = msg.dispatch;
      if (!d) return;
      recorded++;
      lastProgress = nowMs();
      if (d.outcome === 'delivered') counts.delivered++;
      else {
        lastRefusal = nowMs();
        const c = (d.error && d.error.code) || 'failed';
        counts.failed[c] = (counts.failed[c] || 0) + 1;
      }
    });
    let sent = 0;
    const snapshot = () => ({
      delivered: counts.delivered,
      failed: { ...counts.failed },
      pending: count - recorded,
      rss: process.memoryUsage().rss,
      atMs: Math.round(nowMs() - t0),
    });
    function step() {
      const end = Math.min(count, sent + batch);
      for (; sent < end; sent++) node.receive(messageFor('payload', prefix, sent));
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (sent < count) setImmediate(step);
      else {
        // every event is in: the burst ends when the records of those refused (queue_full) stop coming
        const waitOverflow = () => {
          if (nowMs() - lastRefusal > 300 || recorded >= count) {
            atBurstEnd = snapshot();
            lastProgress = nowMs();
          } else setTimeout(waitOverflow, 50);
        };
        setTimeout(waitOverflow, 50);
      }
    }
    function done() {
      clearInterval(sampler);
      arrivals.delete(sinkId);
      resolve({ atBurstEnd, final: snapshot(), peakRss, maxRSS: process.resourceUsage().maxRSS * 1024, elapsedMs: nowMs() - t0 });
    }
    setImmediate(step);
  });
}

/**
 * watchStart({ sinkId }): counts the records (msg.dispatch) arriving at `sinkId` and samples the RSS every 20 ms;
 * watchStop() ends it and returns { delivered, failed, recorded, peakRss }; watchRead() reads without ending.
 */
let watching;
function watchStart({ sinkId }) {
  const w = {
    delivered: 0,
    failed: {},
    recorded: 0,
    attemptMs: 0,
    attemptMax: 0,
    peakHeap: 0,
    peakNative: 0,
    peakRss: process.memoryUsage().rss,
    atPeak: process.memoryUsage(),
    sinkId,
  };
  w.timer = setInterval(() => {
    const m = process.memoryUsage();
    w.peakHeap = Math.max(w.peakHeap, m.heapTotal);
    w.peakNative = Math.max(w.peakNative, m.rss - m.heapTotal);
    if (m.rss > w.peakRss) {
      w.peakRss = m.rss;
      w.atPeak = m;
    }
  }, 20);
  arrivals.set(sinkId, (msg) => {
    const d = msg.dispatch;
    if (!d) return;
    w.recorded++;
    const a = d.attemptLog && d.attemptLog[d.attemptLog.length - 1];
    if (a) {
      w.attemptMs += a.durationMs;
      w.attemptMax = Math.max(w.attemptMax, a.durationMs);
    }
    if (d.outcome === 'delivered') w.delivered++;
    else {
      const c = (d.error && d.error.code) || 'failed';
      w.failed[c] = (w.failed[c] || 0) + 1;
    }
  });
  watching = w;
  return true;
}
function watchRead() {
  const w = watching;
  if (!w) throw new Error('not watching');
  w.peakRss = Math.max(w.peakRss, process.memoryUsage().rss);
  return {
    delivered: w.delivered,
    failed: { ...w.failed },
    recorded: w.recorded,
    attemptMeanMs: w.recorded ? w.attemptMs / w.recorded : 0,
    attemptMaxMs: w.attemptMax,
    peakRss: w.peakRss,
    peakHeap: w.peakHeap,
    peakNative: w.peakNative,
    atPeak: w.atPeak,
    rss: process.memoryUsage().rss,
  };
}
function watchStop() {
  const out = watchRead();
  clearInterval(watching.timer);
  arrivals.delete(watching.sinkId);
  watching = undefined;
  return out;
}

const commands = {
  deploy: (flows) => rt.deploy(flows),
  watchStart,
  watchRead,
  watchStop,
  feed,
  raw,
  burst,
  memory: () => memory(),
  /** CPU time used by this process so far (user + system), in ms */
  cpu: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  },
  gc: () => {
    if (global.gc) {
      global.gc();
      global.gc();
    }
    return memory();
  },
  /** writes a V8 heap snapshot to `file` (for finding what a burst keeps alive) */
  heapSnapshot: ({ file }) => require('node:v8').writeHeapSnapshot(file),
  stop: async () => {
    await rt.stop();
    setImmediate(() => process.exit(0));
    return true;
  },
};

process.on('message', async (m) => {
  try {
    const value = await commands[m.cmd](m.args);
    process.send({ id: m.id, value });
  } catch (err) {
    process.send({ id: m.id, error: (err && err.stack) || String(err) });
  }
});

(async () => {
  rt = await startRuntime({
    nodesDir: nodesDirs(),
    settings: options.settings || {},
    logLevel: options.logLevel || 'off',
    ...(options.userDir ? { userDir: options.userDir } : {}),
  });
  rt.RED.hooks.add('onComplete.pnbench', (ev) => {
    const fn = completions.get(ev.node.id);
    if (fn) fn(ev);
  });
  rt.RED.hooks.add('onReceive.pnbench', (ev) => {
    const fn = arrivals.get(ev.destination.id);
    if (fn) fn(ev.msg);
  });
  process.send({ ready: true, adminUrl: rt.adminUrl, nodeUrl: rt.nodeUrl, userDir: rt.userDir, pid: process.pid, memory: memory() });
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
