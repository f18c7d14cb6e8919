#!/usr/bin/env node
// `npm start`: a local Node-RED 4.1 with this package loaded from the working tree, a demo flow on
// first start, and local sinks (SMTP catcher, HTTP receiver) so every node works with no outside
// service. Installs and builds what is missing first. Everything listens on 127.0.0.1 only.
//   PORT (default 1880), SINK_HTTP_PORT (1881), SINK_SMTP_PORT (2525), USER_DIR (.dev/node-red)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const { ensureReady } = require('./ensure');

const root = path.resolve(__dirname, '..');
ensureReady();

const PORT = Number(process.env.PORT || 1880);
const HOST = '127.0.0.1';
const userDir = path.resolve(process.env.USER_DIR || path.join(root, '.dev', 'node-red'));
const DEMO = path.join(root, 'examples', 'Local demo (no outside services).json');

/** Credentials the demo's nodes get on first start: they point at the local sinks. */
function demoCredentials(node, sinks) {
  switch (node.type) {
    case 'notifier-slack':
      return { url: `${sinks.http.url}/slack/T000/B000/demo-token` };
    case 'notifier-teams':
      return { url: `${sinks.http.url}/teams/workflows/demo?sig=demo-signature` };
    case 'notifier-webhook':
      return node.signing && node.signing !== 'none' ? { secret: 'whsec_' + Buffer.from('local-demo-secret-0123456789abcd').toString('base64') } : {};
    default:
      return undefined;
  }
}

function step(text) {
  console.log(`[start] ${text}`);
}

async function main() {
  const { startHttpSink, startSmtpSink } = require('./sinks');
  step('starting the local sinks (HTTP receiver, SMTP catcher)');
  const sinks = {
    http: await startHttpSink(Number(process.env.SINK_HTTP_PORT || 1881), HOST),
    smtp: await startSmtpSink(Number(process.env.SINK_SMTP_PORT || 2525), HOST),
  };

  step(`starting Node-RED ${require('node-red/package.json').version} with the nodes of this working tree`);
  const RED = require('node-red');
  const express = require(require.resolve('express', { paths: [path.dirname(require.resolve('node-red'))] }));
  fs.mkdirSync(userDir, { recursive: true });
  const firstStart = !fs.existsSync(path.join(userDir, 'flows.json'));
  const app = express();
  const server = http.createServer(app);
  const settings = {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: 'package-notifiers-local-demo',
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    uiHost: HOST,
    nodesDir: [root],
    editorTheme: { tours: false },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { palette: { allowInstall: false } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    functionExternalModules: false,
  };
  RED.init(server, settings);
  app.use(settings.httpAdminRoot, RED.httpAdmin);
  app.use(settings.httpNodeRoot, RED.httpNode);
  await new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${HOST}:${PORT}: ${err.message} (set PORT to use another port)`)));
    server.listen(PORT, HOST, resolve);
  });
  await RED.start();

  const base = `http://${HOST}:${PORT}`;
  if (firstStart && fs.existsSync(DEMO)) {
    step('first start: deploying the demo flow, pointed at the local sinks');
    const flow = JSON.parse(fs.readFileSync(DEMO, 'utf8'));
    const tab = { id: 'demo-tab', type: 'tab', label: 'Package notifiers demo' };
    const nodes = flow.map((n) => {
      const creds = demoCredentials(n, sinks);
      const out = { ...n, z: n.type === 'tab' ? undefined : n.z || tab.id };
      if (n.type === 'notifier-smtp') Object.assign(out, { host: HOST, port: String(sinks.smtp.port), security: 'none', authType: 'none' });
      // the demo's webhook points at the HTTP sink, wherever SINK_HTTP_PORT put it
      if (n.type === 'notifier-webhook' && typeof n.url === 'string') out.url = n.url.replace(/^http:\/\/127\.0\.0\.1:1881/, sinks.http.url);
      if (creds) out.credentials = creds;
      return out;
    });
    const hasTab = nodes.some((n) => n.type === 'tab');
    const res = await fetch(`${base}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify({ flows: hasTab ? nodes : [tab, ...nodes] }),
    });
    if (res.status !== 200) console.error(`Could not deploy the demo flow: ${res.status} ${await res.text()}`);
  }

  console.log(`
  Package Notifiers for Node-RED: local development
    editor          ${base}/
    event endpoint  ${base}/proget/events   (the demo flow's notifier-event node)
    HTTP sink       ${sinks.http.url}/   (/slack/... answers like Slack, /teams/... like Teams)
    SMTP catcher    smtp://${sinks.smtp.host}:${sinks.smtp.port}   (no auth, no TLS)
    user directory  ${path.relative(root, userDir) || userDir}   (delete it to get the demo flow again)

  Try it:
    curl -i -H 'Content-Type: application/json' \\
      -d '{"package":"MyCorp.CoolUtils","version":"3.2.0-pre.1","event":"Promoted","user":"API","feed":"internal-utils"}' \\
      ${base}/proget/events
`);

  let stopping = false;
  async function stop() {
    if (stopping) return;
    stopping = true;
    await RED.stop().catch(() => {});
    server.close();
    server.closeAllConnections?.();
    sinks.http.server.close();
    sinks.http.server.closeAllConnections?.();
    sinks.smtp.server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  }
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err.message || err);
  process.exit(1);
});
