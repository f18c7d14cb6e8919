'use strict';
// notifier-webhook deliveries/s against the limit: a plain keep-alive node:http client loop with the
// same concurrency (4 connections, the webhook channel's attempts in flight per destination), same
// body, to the same receiver. Node-RED runs in a child process (both clients run there); the receiver
// runs here. Rounds alternate ours/peer; the ratio is the median of the per-round ratios.
const path = require('node:path');
const { startChildRuntime } = require('./lib/child-runtime');
const { startHttpSink } = require('./lib/sinks');
const { median, result, detail, round } = require('./lib/stats');

const ROOT = path.resolve(__dirname, '..');

function defaultBody() {
  const { normalizeEvent } = require(path.join(ROOT, 'dist', 'core', 'events'));
  const { renderTemplate, defaultTemplates } = require(path.join(ROOT, 'dist', 'core', 'otterscript'));
  const ev = normalizeEvent({ event: 'Added', PackageId: 'bench.pkg', PackageVersion: '1.0.1', FeedName: 'internal-bench', UserName: 'bench' });
  return renderTemplate(defaultTemplates(ev.type).webhook, ev.vars);
}

async function run(options = {}) {
  const rounds = options.rounds ?? 5;
  const count = options.count ?? 2000;
  const concurrency = 4;
  const sink = await startHttpSink();
  const rt = await startChildRuntime({ nr5: options.nr5 });
  try {
    await rt.deploy([
      { id: 'tab', type: 'tab', label: 'bench' },
      { id: 'wh', type: 'notifier-webhook', z: 'tab', name: 'bench webhook', url: sink.url('/ours'), method: 'POST', headers: '', content: '', signing: 'none', timeout: '10', retries: '4', rate: '0', wires: [[]] },
    ]);
    const body = defaultBody();
    const headers = { 'Content-Type': 'application/json', 'User-Agent': 'bench-raw-client' };
    const cpu = { ours: [], peer: [] };
    const ours = async (n) => {
      const before = sink.byPath['/ours'] || 0;
      const c0 = await rt.call('cpu');
      const r = await rt.call('feed', { nodeId: 'wh', count: n, window: 64 });
      cpu.ours.push((((await rt.call('cpu')) - c0) / n) * 1000);
      const got = (sink.byPath['/ours'] || 0) - before;
      if (r.timedOut || (r.outcomes.delivered || 0) !== n || got !== n) throw new Error(`webhook round incomplete: ${JSON.stringify(r.outcomes)}, receiver got ${got} of ${n}`);
      return (n / r.elapsedMs) * 1000;
    };
    const peer = async (n) => {
      const before = sink.byPath['/raw'] || 0;
      const c0 = await rt.call('cpu');
      const r = await rt.call('raw', { url: sink.url('/raw'), count: n, concurrency, body, headers });
      cpu.peer.push((((await rt.call('cpu')) - c0) / n) * 1000);
      const got = (sink.byPath['/raw'] || 0) - before;
      if (got !== n) throw new Error(`raw round incomplete: ${JSON.stringify(r.statuses)}`);
      return (n / r.elapsedMs) * 1000;
    };
    // warm-up (JIT, sockets), not counted
    await ours(count);
    await peer(count);
    cpu.ours.length = 0;
    cpu.peer.length = 0;
    const o = [];
    const p = [];
    const ratios = [];
    for (let i = 0; i < rounds; i++) {
      let a, b;
      if (i % 2 === 0) {
        a = await ours(count);
        b = await peer(count);
      } else {
        b = await peer(count);
        a = await ours(count);
      }
      o.push(a);
      p.push(b);
      ratios.push(a / b);
      detail(`  webhook-vs-raw-client round ${i + 1}: ours ${round(a)}/s, raw client ${round(b)}/s, ratio ${round(a / b, 3)}`);
    }
    detail(`  webhook-vs-raw-client: CPU per delivery (Node-RED process): ours ${round(median(cpu.ours))} µs, raw client ${round(median(cpu.peer))} µs`);
    const r = result('webhook-vs-raw-client', median(o), median(p), 'deliveries/s (4 in flight, keep-alive)', median(ratios));
    r.cpuPerDelivery = { ours: round(median(cpu.ours)), peer: round(median(cpu.peer)), unit: 'µs' };
    return r;
  } finally {
    await rt.stop();
    await sink.close();
  }
}

module.exports = { run };
if (require.main === module) {
  run().then(
    (r) => console.log(JSON.stringify(r)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
