'use strict';
// `npm start` (scripts/start.js) as a user runs it: a local Node-RED with the demo flow on first start and the
// local sinks. Posting ProGet's package example to the demo endpoint returns 202, the event reaches the debug
// sidebar (the editor's comms websocket), and every output of the demo delivers to the sinks.
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const WebSocket = require('ws');
const { ROOT, tmpDir } = require('../helpers/nr');
const { progetExample } = require('../helpers/seed');

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

test('npm start serves the editor with the demo flow; a posted event reaches the debug sidebar and every sink', { timeout: 120000 }, async () => {
  const [port, httpSink, smtpSink] = [await freePort(), await freePort(), await freePort()];
  const userDir = tmpDir('pn-start-');
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.js')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), SINK_HTTP_PORT: String(httpSink), SINK_SMTP_PORT: String(smtpSink), USER_DIR: userDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 90000;
    while (!out.includes('Try it') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    assert.ok(out.includes('Try it'), `npm start printed where everything is:\n${out.slice(-2000)}`);
    assert.match(out, new RegExp(`editor\\s+${base}/`));

    const editor = await fetch(`${base}/`);
    assert.equal(editor.status, 200);
    assert.match(await editor.text(), /Node-RED/);
    const { flows } = await (await fetch(`${base}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json();
    const types = new Set(flows.map((n) => n.type));
    for (const t of [
      'notifier-event',
      'notifier-condition',
      'notifier-webhook',
      'notifier-slack',
      'notifier-teams',
      'notifier-email',
      'notifier-smtp',
      'notifier-history',
      'debug',
    ]) {
      assert.ok(types.has(t), `the demo flow has a ${t} node`);
    }

    // the editor's debug sidebar is fed through the comms websocket
    const ws = new WebSocket(`ws://127.0.0.1:${port}/comms`);
    const debug = [];
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.on('message', (data) => {
      for (const m of [].concat(JSON.parse(String(data)))) if (m.topic === 'debug') debug.push(m.data);
    });
    ws.send(JSON.stringify({ subscribe: 'debug' }));
    await new Promise((r) => setTimeout(r, 200));

    const res = await fetch(`${base}/proget/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(progetExample('package.promoted')),
    });
    assert.equal(res.status, 202);
    const { id } = await res.json();
    const until = Date.now() + 15000;
    const sinksSeen = () => ['POST /webhook/demo', 'POST /slack/', 'POST /teams/', 'mail to team@example.com'].every((s) => out.includes(s));
    while ((!debug.some((d) => String(d.msg).includes(id)) || !sinksSeen()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    ws.close();
    const shown = debug.find((d) => String(d.msg).includes(id));
    assert.ok(shown, 'the event shows in the debug sidebar');
    assert.match(String(shown.msg), /package\.promoted/);
    assert.ok(sinksSeen(), `every output delivered to the local sinks:\n${out.slice(-3000)}`);
    // the SMTP catcher shows what was sent: from, to, subject and the first lines of the text
    assert.match(out, /mail to team@example\.com: "[^"\n]+"\n\s+from: \S[^\n]*\n\s+\| \S/, `the mail's text is printed:\n${out.slice(-3000)}`);
    // it said what it was doing before the banner
    assert.match(
      out,
      /\[start\] starting the local sinks[\s\S]*\[start\] starting Node-RED [45]\.[\s\S]*\[start\] first start: deploying the demo flow[\s\S]*Try it/,
    );
    // the history keeps each record once it is on disk, just after the delivery: wait for the fourth
    let delivered = 0;
    for (const stop = Date.now() + 10000; delivered < 4 && Date.now() < stop; await new Promise((r) => setTimeout(r, 50))) {
      const history = await (await fetch(`${base}/notifier-history`)).json();
      delivered = history.notifiers.filter((n) => n.lastOutcome === 'delivered').length;
    }
    assert.equal(delivered, 4, 'four notifiers delivered, in the history');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  }
});
