'use strict';
// notifier-email (pooled: 3 connections kept open through a notifier-smtp config node) against
// node-red-node-email's `e-mail` node (a new SMTP connection per message), both loaded in the same
// Node-RED runtime (a child process), to the same local smtp-server (here), messages counted at the
// server. Both get the same stream of messages with the same number not yet done (done() called,
// seen through Node-RED's onComplete hook). Rounds alternate; ratio = median of per-round ratios.
const { startChildRuntime } = require('./lib/child-runtime');
const { startSmtpSink } = require('./lib/sinks');
const { median, result, detail, round } = require('./lib/stats');
const { ensurePeers } = require('./lib/nodes');
const { runWhenMain } = require('./lib/main');

async function run(options = {}) {
  const rounds = options.rounds ?? 5;
  const count = options.count ?? 500;
  const window = options.window ?? 16;
  ensurePeers();
  const smtp = await startSmtpSink();
  const rt = await startChildRuntime({ nr5: options.nr5 });
  try {
    await rt.deploy([
      { id: 'tab', type: 'tab', label: 'email bench' },
      {
        id: 'smtp',
        type: 'notifier-smtp',
        name: 'local smtp',
        host: '127.0.0.1',
        port: String(smtp.port),
        security: 'none',
        authType: 'none',
        from: 'ProGet <proget@corp.local>',
        rejectUnauthorized: false,
      },
      {
        id: 'em',
        type: 'notifier-email',
        z: 'tab',
        name: 'bench email',
        smtp: 'smtp',
        to: 'devteam@corp.local',
        cc: '',
        bcc: '',
        subject: '',
        body: '',
        html: false,
        wires: [[]],
      },
      {
        id: 'peer',
        type: 'e-mail',
        z: 'tab',
        name: 'devteam@corp.local',
        server: '127.0.0.1',
        port: String(smtp.port),
        secure: false,
        tls: false,
        authtype: 'NONE',
        credentials: { userid: 'proget@corp.local' },
        wires: [],
      },
    ]);
    const measure = async (which, n) => {
      const before = smtp.count;
      const r = await rt.call('feed', {
        nodeId: which === 'ours' ? 'em' : 'peer',
        count: n,
        window,
        kind: which === 'ours' ? 'event' : 'mail',
        timeoutMs: 120000,
      });
      // the server counts a message when its DATA ends; done() may come a moment before the last ones
      const end = Date.now() + 10000;
      while (smtp.count - before < n && Date.now() < end) await new Promise((res) => setTimeout(res, 5));
      const got = smtp.count - before;
      if (r.timedOut || got !== n) throw new Error(`${which}: ${got} of ${n} messages at the server (${JSON.stringify(r.outcomes)})`);
      return (n / r.elapsedMs) * 1000;
    };
    await measure('ours', Math.min(100, count));
    await measure('peer', Math.min(100, count));
    const o = [];
    const p = [];
    const ratios = [];
    for (let i = 0; i < rounds; i++) {
      let a, b;
      if (i % 2 === 0) {
        a = await measure('ours', count);
        b = await measure('peer', count);
      } else {
        b = await measure('peer', count);
        a = await measure('ours', count);
      }
      o.push(a);
      p.push(b);
      ratios.push(a / b);
      detail(`  email-vs-node-red-node-email round ${i + 1}: ours ${round(a)}/s, e-mail node ${round(b)}/s, ratio ${round(a / b, 3)}`);
    }
    detail(`  email-vs-node-red-node-email: SMTP connections opened ${smtp.connections} (at most ${smtp.maxConnections} at once)`);
    return result('email-vs-node-red-node-email', median(o), median(p), `messages/s at the SMTP server (${window} outstanding)`, median(ratios));
  } finally {
    await rt.stop();
    await smtp.close();
  }
}

module.exports = { run };
runWhenMain(module, run);
