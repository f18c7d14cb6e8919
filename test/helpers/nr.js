'use strict';
// Shared test harness: which Node-RED runs the suite (4.1 by default, 5 with NR_RUNTIME=5, as
// `npm run test:nr5` sets), the node-red-node-test-helper bound to it, and a full RED.init runtime
// on 127.0.0.1 with this package loaded from the working tree (nodesDir).
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const NR5 = process.env.NR_RUNTIME === '5';
const NODE_RED_MODULE = NR5 ? 'node-red-5' : 'node-red';

let helperInstance;
/** node-red-node-test-helper, initialised on the selected Node-RED. */
function testHelper() {
  if (!helperInstance) {
    helperInstance = require('node-red-node-test-helper');
    helperInstance.init(require.resolve(NODE_RED_MODULE, { paths: [ROOT] }));
  }
  return helperInstance;
}

/** Loads a compiled node module (dist/nodes/<type>.js) as the test helper wants it. */
function nodeModule(type) {
  const mod = require(path.join(ROOT, 'dist', 'nodes', `${type}.js`));
  return mod.default || mod;
}

/** A core node of the selected Node-RED (e.g. 'network/06-httpproxy.js', 'network/05-tls.js') for the test helper. */
function coreNodeModule(file) {
  const nodesPkg = require.resolve('@node-red/nodes/package.json', { paths: [path.dirname(require.resolve(NODE_RED_MODULE, { paths: [ROOT] }))] });
  return require(path.join(path.dirname(nodesPkg), 'core', file));
}

function tmpDir(prefix = 'pn-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Starts a real Node-RED runtime (RED.init) on 127.0.0.1 with this package loaded, optionally
 * deploying `flows` (nodes may carry `credentials`). Returns helpers to talk to it and stop it.
 */
async function startRuntime(options = {}) {
  const RED = require(NODE_RED_MODULE);
  const express = require(require.resolve('express', { paths: [path.dirname(require.resolve(NODE_RED_MODULE, { paths: [ROOT] }))] }));
  const userDir = options.userDir || tmpDir('pn-nr-');
  const app = express();
  const server = http.createServer(app);
  const settings = {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: 'test-secret',
    httpAdminRoot: options.httpAdminRoot ?? '/',
    httpNodeRoot: options.httpNodeRoot ?? '/',
    nodesDir: options.nodesDir ?? [ROOT],
    logging: { console: { level: options.logLevel || 'off', metrics: false, audit: false } },
    editorTheme: { tours: false, palette: { editable: false } },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    ...options.settings,
  };
  RED.init(server, settings);
  app.use(settings.httpAdminRoot, RED.httpAdmin);
  app.use(settings.httpNodeRoot, RED.httpNode);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  // The first flows start finishes after RED.start() resolves; wait for it so that a deploy made
  // right away is not mistaken for done by that first start.
  const firstStart = new Promise((resolve) => {
    const t = setTimeout(resolve, 10000);
    RED.events.once('flows:started', () => {
      clearTimeout(t);
      resolve();
    });
  });
  await RED.start();
  await firstStart;
  const base = `http://127.0.0.1:${server.address().port}`;
  const adminUrl = base + (settings.httpAdminRoot === '/' ? '' : settings.httpAdminRoot.replace(/\/$/, ''));
  const nodeUrl = base + (settings.httpNodeRoot === '/' ? '' : settings.httpNodeRoot.replace(/\/$/, ''));
  // Messages arriving at nodes, by destination node id (see rt.inbox).
  const inboxes = new Map();
  RED.hooks.add('onReceive.pntest', (ev) => {
    const box = inboxes.get(ev.destination.id);
    if (box) box.push(ev.msg);
  });
  const rt = {
    RED,
    /**
     * What arrives at node `id` (typically a debug node wired after the node under test):
     * `all` holds every message, `next()` resolves with the next one (or rejects after `timeoutMs`).
     */
    inbox(id) {
      if (inboxes.has(id)) return inboxes.get(id);
      const waiters = [];
      const box = {
        all: [],
        push(msg) {
          box.all.push(msg);
          const w = waiters.shift();
          if (w) w(msg);
          else box.pending.push(msg);
        },
        pending: [],
        /** resolves with the first message (already arrived or still to come) for which `pred` is true */
        async until(pred, timeoutMs = 5000) {
          const end = Date.now() + timeoutMs;
          let seen = 0;
          for (;;) {
            for (; seen < box.all.length; seen++) if (pred(box.all[seen])) return box.all[seen];
            if (Date.now() > end) throw new Error(`no matching message reached ${id} within ${timeoutMs} ms`);
            await new Promise((r) => setTimeout(r, 10));
          }
        },
        next(timeoutMs = 5000) {
          if (box.pending.length) return Promise.resolve(box.pending.shift());
          return new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`no message reached ${id} within ${timeoutMs} ms`)), timeoutMs);
            waiters.push((m) => {
              clearTimeout(t);
              resolve(m);
            });
          });
        },
      };
      inboxes.set(id, box);
      return box;
    },
    server,
    userDir,
    base,
    adminUrl,
    nodeUrl,
    /** Deploys a full set of flows through the admin API and waits until they started. */
    async deploy(flows, headers = {}) {
      const started = new Promise((resolve) => {
        const onStart = () => {
          RED.events.removeListener('flows:started', onStart);
          resolve();
        };
        RED.events.on('flows:started', onStart);
      });
      const res = await fetch(`${adminUrl}/flows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full', ...headers },
        body: JSON.stringify({ flows }),
      });
      if (res.status !== 200) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
      await started;
      return res.json();
    },
    async stop() {
      RED.hooks.remove('*.pntest');
      await RED.stop();
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections?.();
    },
  };
  if (options.flows) await rt.deploy(options.flows);
  return rt;
}

/**
 * Gives each test of a file its own user directory, with `base` settings: an output node keeps what it has not
 * delivered in its outbox under the user directory across a stop, so tests that reuse node ids must not share one.
 */
function ownUserDirPerTest(test, base = {}) {
  test.beforeEach(() => testHelper().settings({ ...base, userDir: tmpDir('pn-node-') }));
}

module.exports = { ROOT, NR5, NODE_RED_MODULE, testHelper, nodeModule, coreNodeModule, startRuntime, tmpDir, ownUserDirPerTest };
