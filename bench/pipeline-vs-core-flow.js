'use strict';
// The whole path, end to end, against the equivalent flow of core nodes, in one Node-RED runtime (a
// child process; the load generator and the receiver run here):
//   ours: POST → notifier-event → notifier-condition → notifier-webhook → notifier-history
//         (validates the event, answers 202 on accept, delivers, keeps the record on disk)
//   core: POST → http in → switch (feed) → switch (package) → template (mustache) → http request
//         (keep-alive) → http response (answers after delivering)
// Both flows send the same JSON body to the same receiver. A fixed number of workers each keep one
// event in flight end to end: POST, then wait for the HTTP answer and for the receiver to get the
// delivery (matched by the package version in the body). Latency = POST to delivery at the receiver.
// Rounds alternate ours/core; the ratio is the median of the per-round throughput ratios.
const http = require('node:http');
const { startChildRuntime } = require('./lib/child-runtime');
const { startHttpSink } = require('./lib/sinks');
const { median, percentile, result, detail, round, nowMs } = require('./lib/stats');

function flows(sinkUrl) {
  return [
    { id: 'tab-ours', type: 'tab', label: 'ours' },
    { id: 'ev', type: 'notifier-event', z: 'tab-ours', name: 'events', path: '/bench/ours', events: [], auth: 'none', wires: [['cond']] },
    {
      id: 'cond',
      type: 'notifier-condition',
      z: 'tab-ours',
      name: 'internal bench packages',
      feeds: 'internal-*',
      mode: 'package',
      packageName: 'bench.*',
      packageVersion: '',
      outputs: 1,
      wires: [['wh']],
    },
    {
      id: 'wh',
      type: 'notifier-webhook',
      z: 'tab-ours',
      name: 'bench webhook',
      url: sinkUrl + '/ours',
      method: 'POST',
      headers: '',
      content: '',
      signing: 'none',
      timeout: '10',
      retries: '4',
      rate: '0',
      wires: [['hist']],
    },
    { id: 'hist', type: 'notifier-history', z: 'tab-ours', name: 'history', limit: 50, wires: [[]] },

    { id: 'tab-core', type: 'tab', label: 'core' },
    { id: 'in', type: 'http in', z: 'tab-core', url: '/bench/core', method: 'post', upload: false, swaggerDoc: '', wires: [['sw1']] },
    {
      id: 'sw1',
      type: 'switch',
      z: 'tab-core',
      property: 'payload.FeedName',
      propertyType: 'msg',
      rules: [{ t: 'regex', v: '^internal-.*$', vt: 'str', case: true }],
      checkall: 'true',
      repair: false,
      outputs: 1,
      wires: [['sw2']],
    },
    {
      id: 'sw2',
      type: 'switch',
      z: 'tab-core',
      property: 'payload.PackageId',
      propertyType: 'msg',
      rules: [{ t: 'regex', v: '^bench\\..*$', vt: 'str', case: true }],
      checkall: 'true',
      repair: false,
      outputs: 1,
      wires: [['tpl']],
    },
    {
      id: 'tpl',
      type: 'template',
      z: 'tab-core',
      field: 'payload',
      fieldType: 'msg',
      format: 'handlebars',
      syntax: 'mustache',
      template:
        '{"package":"{{{payload.PackageId}}}","version":"{{{payload.PackageVersion}}}","event":"{{{payload.event}}}","user":"{{{payload.UserName}}}","feed":"{{{payload.FeedName}}}"}',
      output: 'str',
      wires: [['req']],
    },
    {
      id: 'req',
      type: 'http request',
      z: 'tab-core',
      method: 'POST',
      ret: 'txt',
      paytoqs: 'ignore',
      url: sinkUrl + '/core',
      tls: '',
      persist: true,
      proxy: '',
      insecureHTTPParser: false,
      authType: '',
      senderr: false,
      headers: [{ keyType: 'Content-Type', keyValue: '', valueType: 'application/json', valueValue: '' }],
      wires: [['res']],
    },
    { id: 'res', type: 'http response', z: 'tab-core', statusCode: '', headers: {}, wires: [] },
  ];
}

async function run(options = {}) {
  const rounds = options.rounds ?? 5;
  const count = options.count ?? 1000;
  const workers = options.concurrency ?? 8;
  const waiting = new Map();
  const sink = await startHttpSink({
    onBody(p, body) {
      let version;
      try {
        version = JSON.parse(body).version;
      } catch {
        return;
      }
      const key = p + ' ' + version;
      const w = waiting.get(key);
      if (w) {
        waiting.delete(key);
        w(nowMs());
      }
    },
  });
  const rt = await startChildRuntime({ nr5: options.nr5 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: workers });
  let seq = 0;
  try {
    await rt.deploy(flows(sink.base));
    const target = new URL(rt.nodeUrl);

    const post = (path, body) =>
      new Promise((resolve, reject) => {
        const data = JSON.stringify(body);
        const req = http.request(
          {
            host: target.hostname,
            port: target.port,
            path,
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          },
        );
        req.on('error', reject);
        req.end(data);
      });

    async function measure(which, n) {
      const latencies = [];
      const statuses = {};
      let next = 0;
      const cpu0 = await rt.call('cpu');
      const t0 = nowMs();
      await Promise.all(
        Array.from({ length: workers }, async () => {
          while (next < n) {
            next++;
            const version = `1.0.${++seq}`;
            const start = nowMs();
            const arrived = new Promise((resolve, reject) => {
              const t = setTimeout(() => {
                waiting.delete(`/${which} ${version}`);
                reject(new Error(`${which}: delivery of ${version} did not arrive within 30 s`));
              }, 30000);
              waiting.set(`/${which} ${version}`, (at) => {
                clearTimeout(t);
                resolve(at);
              });
            });
            const status = await post(`/bench/${which}`, {
              event: 'Added',
              id: `${which}-${version}`,
              PackageId: 'bench.pkg',
              PackageVersion: version,
              FeedName: 'internal-bench',
              UserName: 'bench',
            });
            statuses[status] = (statuses[status] || 0) + 1;
            const at = await arrived;
            latencies.push(at - start);
          }
        }),
      );
      const elapsed = nowMs() - t0;
      const cpuMs = (await rt.call('cpu')) - cpu0;
      const expected = which === 'ours' ? 202 : 200;
      if (statuses[expected] !== n) throw new Error(`${which}: unexpected answers ${JSON.stringify(statuses)}`);
      return { rate: (n / elapsed) * 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuUs: (cpuMs / n) * 1000 };
    }

    if (options.only) {
      // one side alone (for profiling: BENCH_CPU_PROF=<dir> node bench/pipeline-vs-core-flow.js --only ours)
      const r = await measure(options.only, count * rounds);
      detail(`  ${options.only}: ${round(r.rate)} ev/s, p50 ${round(r.p50)} ms, p99 ${round(r.p99)} ms`);
      return result(`pipeline-${options.only}`, r.rate, NaN, 'events/s end to end', NaN);
    }
    await measure('ours', Math.min(300, count));
    await measure('core', Math.min(300, count));
    const o = [];
    const c = [];
    const ratios = [];
    for (let i = 0; i < rounds; i++) {
      let a, b;
      if (i % 2 === 0) {
        a = await measure('ours', count);
        b = await measure('core', count);
      } else {
        b = await measure('core', count);
        a = await measure('ours', count);
      }
      o.push(a);
      c.push(b);
      ratios.push(a.rate / b.rate);
      detail(
        `  pipeline-vs-core-flow round ${i + 1}: ours ${round(a.rate)} ev/s p50 ${round(a.p50)} ms p99 ${round(a.p99)} ms ${round(a.cpuUs)} µs CPU/event;` +
          ` core ${round(b.rate)} ev/s p50 ${round(b.p50)} ms p99 ${round(b.p99)} ms ${round(b.cpuUs)} µs CPU/event; ratio ${round(a.rate / b.rate, 3)}`,
      );
    }
    const med = (arr, k) => median(arr.map((x) => x[k]));
    detail(
      `  pipeline-vs-core-flow medians (${workers} workers, ${count} events x ${rounds} rounds): ours ${round(med(o, 'rate'))} ev/s, p50 ${round(med(o, 'p50'))} ms, p99 ${round(med(o, 'p99'))} ms, ${round(med(o, 'cpuUs'))} µs CPU/event;` +
        ` core ${round(med(c, 'rate'))} ev/s, p50 ${round(med(c, 'p50'))} ms, p99 ${round(med(c, 'p99'))} ms, ${round(med(c, 'cpuUs'))} µs CPU/event (Node-RED process)`,
    );
    const r = result('pipeline-vs-core-flow', med(o, 'rate'), med(c, 'rate'), `events/s end to end (${workers} in flight)`, median(ratios));
    r.latency = {
      ours: { p50: round(med(o, 'p50')), p99: round(med(o, 'p99')) },
      peer: { p50: round(med(c, 'p50')), p99: round(med(c, 'p99')) },
      unit: 'ms',
    };
    r.cpuPerEvent = { ours: round(med(o, 'cpuUs')), peer: round(med(c, 'cpuUs')), unit: 'µs of the Node-RED process' };
    return r;
  } finally {
    agent.destroy();
    await rt.stop();
    await sink.close();
  }
}

module.exports = { run };
if (require.main === module) {
  const i = process.argv.indexOf('--only');
  run(i > 0 ? { only: process.argv[i + 1] } : {}).then(
    (r) => console.log(JSON.stringify(r)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
