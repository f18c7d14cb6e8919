'use strict';
// The webhook benchmarks' common part: a Node-RED child runtime with `notifier-webhook` (id `wh`) posting the
// default body of a package event to a receiver here, rounds alternating ours and a peer (`spec.peer`), and the
// CPU time per delivery of the Node-RED process. The ratio is the median of the per-round ratios.
const path = require('node:path');
const { startChildRuntime } = require('./child-runtime');
const { startHttpSink } = require('./sinks');
const { median, result, detail, round } = require('./stats');

const ROOT = path.resolve(__dirname, '..', '..');

/** The body notifier-webhook sends for a package event (ProGet's default content). */
function defaultBody() {
  const { normalizeEvent } = require(path.join(ROOT, 'dist', 'core', 'events'));
  const { renderTemplate, defaultTemplates } = require(path.join(ROOT, 'dist', 'core', 'otterscript'));
  const ev = normalizeEvent({ event: 'Added', PackageId: 'bench.pkg', PackageVersion: '1.0.1', FeedName: 'internal-bench', UserName: 'bench' });
  return renderTemplate(defaultTemplates(ev.type).webhook, ev.vars);
}

/**
 * spec: { name, peerLabel, unit, oursWindow (messages outstanding for ours), peerNodes(sink) (extra flow nodes),
 * peer(rt, sink, n) → { elapsedMs, delivered } }. Resolves with the result row (with cpuPerDelivery).
 */
async function compareWebhook(options, spec) {
  const rounds = options.rounds ?? 5;
  const count = options.count ?? 2000;
  const sink = await startHttpSink();
  const rt = await startChildRuntime({ nr5: options.nr5 });
  try {
    await rt.deploy([
      { id: 'tab', type: 'tab', label: 'bench' },
      {
        id: 'wh',
        type: 'notifier-webhook',
        z: 'tab',
        name: 'bench webhook',
        url: sink.url('/ours'),
        method: 'POST',
        headers: '',
        content: '',
        signing: 'none',
        timeout: '10',
        retries: '4',
        rate: '0',
        wires: [[]],
      },
      ...spec.peerNodes(sink),
    ]);
    const cpu = { ours: [], peer: [] };
    const timed = async (side, n, fn) => {
      const c0 = await rt.call('cpu');
      const r = await fn();
      cpu[side].push((((await rt.call('cpu')) - c0) / n) * 1000);
      if (r.delivered !== n) throw new Error(`${spec.name} ${side} round incomplete: ${r.delivered} of ${n} (${JSON.stringify(r.detail)})`);
      return (n / r.elapsedMs) * 1000;
    };
    // the node calls done() once a dispatch is stored (durable delivery): it is delivered later, from the outbox, so
    // a round ends when the receiver has all of them
    const ours = (n) =>
      timed('ours', n, async () => {
        const before = sink.byPath['/ours'] || 0;
        const got = () => (sink.byPath['/ours'] || 0) - before;
        const t0 = performance.now();
        const r = await rt.call('feed', { nodeId: 'wh', count: n, window: spec.oursWindow });
        const end = Date.now() + 60_000;
        while (!r.timedOut && got() < n && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 1));
        return { elapsedMs: performance.now() - t0, delivered: r.timedOut ? 0 : got(), detail: { ...r.outcomes, received: got() } };
      });
    const peer = (n) => timed('peer', n, () => spec.peer(rt, sink, n));
    // warm-up (JIT, sockets), not counted
    await ours(count);
    await peer(count);
    cpu.ours.length = 0;
    cpu.peer.length = 0;
    const o = [];
    const p = [];
    const ratios = [];
    for (let i = 0; i < rounds; i++) {
      const [a, b] = i % 2 === 0 ? [await ours(count), await peer(count)] : [await peer(count), await ours(count)].reverse();
      o.push(a);
      p.push(b);
      ratios.push(a / b);
      detail(`  ${spec.name} round ${i + 1}: ours ${round(a)}/s, ${spec.peerLabel} ${round(b)}/s, ratio ${round(a / b, 3)}`);
    }
    detail(
      `  ${spec.name}: CPU per delivery (Node-RED process): ours ${round(median(cpu.ours))} µs, ${spec.peerLabel} ${round(median(cpu.peer))} µs`,
    );
    const r = result(spec.name, median(o), median(p), spec.unit, median(ratios));
    r.cpuPerDelivery = { ours: round(median(cpu.ours)), peer: round(median(cpu.peer)), unit: 'µs' };
    return r;
  } finally {
    await rt.stop();
    await sink.close();
  }
}

/** Runs a benchmark module's `run` when the file is started directly. */
module.exports = { compareWebhook, defaultBody };
