'use strict';
// Messages a burst sends: 10,000 package events fed into a runtime, once straight to a webhook node (one message per
// event: the peer) and once through a notifier-digest node (wait 2 s, interval 10 s, the defaults otherwise) before
// the same webhook node (ours). Counted at the receiver; every event must be counted once in the digests (their
// eventCount). Ratio = individual messages / digest messages (higher: fewer messages for the same events).
const { startChildRuntime } = require('./lib/child-runtime');
const { startHttpSink } = require('./lib/sinks');
const { result, detail, round, nowMs, until } = require('./lib/stats');
const { tmpDir } = require('../test/helpers/nr');
const { runWhenMain } = require('./lib/main');

const flows = (url, digest) => [
  { id: 'tab', type: 'tab', label: 'digest bench' },
  ...(digest
    ? [{ id: 'dg', type: 'notifier-digest', z: 'tab', name: 'burst', wait: '2', threshold: '3', interval: '10', maxEvents: '1000', wires: [['wh']] }]
    : []),
  {
    id: 'wh',
    type: 'notifier-webhook',
    z: 'tab',
    name: 'out',
    url,
    method: 'POST',
    content: '',
    timeout: '30',
    retries: '4',
    rate: '0',
    wires: [[]],
  },
];

async function burst(nr5, digest, count) {
  let messages = 0;
  let counted = 0;
  const sink = await startHttpSink({
    onBody: (_p, body) => {
      messages++;
      try {
        const j = JSON.parse(body);
        counted += j.event === 'digest' ? Number(j.eventCount) : 1;
      } catch {
        counted++;
      }
    },
  });
  const rt = await startChildRuntime({ nr5, userDir: tmpDir('pn-bench-digest-') });
  try {
    await rt.deploy(flows(sink.url('/burst'), digest));
    await new Promise((r) => setTimeout(r, 300));
    const t0 = nowMs();
    const fed = await rt.call('feed', { nodeId: digest ? 'dg' : 'wh', count, window: 512, kind: 'event', prefix: digest ? 'dg' : 'one' });
    const ok = await until(() => counted >= count, 300_000);
    if (!ok) throw new Error(`only ${counted} of ${count} events reached the receiver`);
    await new Promise((r) => setTimeout(r, 1000)); // nothing more
    return { messages, counted, fedMs: fed.elapsedMs, totalMs: nowMs() - t0 };
  } finally {
    await rt.stop();
    await sink.close();
  }
}

async function run(options = {}) {
  const count = options.count ?? 10000;
  const individual = await burst(options.nr5, false, count);
  const digest = await burst(options.nr5, true, count);
  detail(
    `  digest-vs-individual: ${count} events; individual ${individual.messages} messages (fed in ${round(individual.fedMs)} ms, all out in ${round(individual.totalMs)} ms); ` +
      `digest ${digest.messages} messages counting ${digest.counted} events (fed in ${round(digest.fedMs)} ms, all out in ${round(digest.totalMs)} ms)`,
  );
  return result(
    'digest-vs-individual',
    digest.messages,
    individual.messages,
    `messages sent for a ${count}-event burst: through a digest (ours) vs one per event (peer); ratio = peer/ours`,
    individual.messages / digest.messages,
  );
}

module.exports = { run };
runWhenMain(module, run);
