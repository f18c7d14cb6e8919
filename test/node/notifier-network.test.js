'use strict';
// The HTTP output nodes' network in Node-RED (4.1, or 5 with NR_RUNTIME=5), with Node-RED's own core config
// nodes `http proxy` and `tls-config`: a real forward proxy on 127.0.0.1 (npm `proxy`, with and without
// proxy auth), a TLS receiver with its own CA, a mutual-TLS receiver, NO_PROXY / HTTP_PROXY from the
// environment, and the egress policy against the SSRF cases (nothing reaches a receiver, no credential
// goes anywhere but the configured origin).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');
const { testHelper, nodeModule, coreNodeModule } = require('../helpers/nr');
const { startReceiver } = require('../helpers/receivers');
const { sampleEvent } = require('../../dist/core/events');

const helper = testHelper();
const webhookNode = nodeModule('notifier-webhook');
const slackNode = nodeModule('notifier-slack');
const proxyNode = coreNodeModule('network/06-httpproxy.js');
const tlsNode = coreNodeModule('network/05-tls.js');
const NODES = [webhookNode, slackNode, proxyNode, tlsNode];

const TLS_DIR = path.join(__dirname, '..', 'fixtures', 'tls');
const tlsFile = (name) => path.join(TLS_DIR, name);
const PROXY_USER = 'proxy-user';
const PROXY_PASS = 'proxy-pass-s3cret';
const BASIC_USER = 'hook-user';
const BASIC_PASS = 'hook-pass-s3cret';

/** A forward proxy (npm `proxy`) on 127.0.0.1; `auth` requires Basic proxy credentials. Counts CONNECTs. */
async function startProxy({ auth = false } = {}) {
  const { createProxy } = await import('proxy');
  const server = createProxy(http.createServer());
  const sockets = new Set();
  const state = { connects: [], refused: 0 };
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req) => state.connects.push(req.url));
  if (auth) {
    const expected = 'Basic ' + Buffer.from(`${PROXY_USER}:${PROXY_PASS}`).toString('base64');
    server.authenticate = (req) => {
      const ok = req.headers['proxy-authorization'] === expected;
      if (!ok) state.refused++;
      return ok;
    };
  }
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${server.address().port}`;
  state.close = () =>
    new Promise((r) => {
      server.close(() => r());
      for (const s of sockets) s.destroy();
    });
  return state;
}

/** An HTTPS receiver with the test CA's server certificate; `mutual` requires a client certificate of that CA. */
async function startTlsReceiver({ mutual = false } = {}) {
  const requests = [];
  const sockets = new Set();
  let handshakes = 0;
  const server = https.createServer(
    {
      key: fs.readFileSync(tlsFile('server-key.pem')),
      cert: fs.readFileSync(tlsFile('server-cert.pem')),
      ...(mutual ? { ca: fs.readFileSync(tlsFile('ca.pem')), requestCert: true, rejectUnauthorized: true } : {}),
    },
    (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        requests.push({ headers: req.headers, body, client: req.socket.getPeerCertificate?.()?.subject?.CN });
        res.end('ok');
      });
    },
  );
  server.on('secureConnection', (s) => {
    handshakes++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: (p = '/hook') => `https://127.0.0.1:${server.address().port}${p}`,
    requests,
    get handshakes() {
      return handshakes;
    },
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

function proxyConfig(url, noproxy = []) {
  return { id: 'p1', type: 'http proxy', name: 'corp proxy', url, noproxy };
}
function tlsConfig(files = {}) {
  return { id: 't1', type: 'tls-config', name: 'test ca', cert: files.cert ?? '', key: files.key ?? '', ca: files.ca ?? '', verifyservercert: true };
}

/** Loads w1 (and config nodes), sends events, returns the msg.dispatch records. */
async function run(webhook, extra = [], credentials = {}, events = [sampleEvent('package.promoted')]) {
  const flow = [
    { id: 'w1', type: 'notifier-webhook', name: 'hook', retries: 0, wires: [['out']], ...webhook },
    { id: 'out', type: 'helper' },
    ...extra,
  ];
  await helper.load(NODES, flow, credentials);
  const w1 = helper.getNode('w1');
  const out = helper.getNode('out');
  const records = [];
  for (const event of events) {
    const got = new Promise((r) => out.once('input', (msg) => r(msg.dispatch)));
    w1.receive({ event });
    records.push(await got);
  }
  return records;
}

function eventWith(vars) {
  const e = sampleEvent('package.promoted');
  return { ...e, vars: { ...e.vars, ...vars } };
}

test.before(() => new Promise((r) => helper.startServer(r)));
test.after(() => new Promise((r) => helper.stopServer(r)));
test.afterEach(async () => {
  helper.settings({ notifierEgress: undefined });
  await helper.unload();
});

test('an HTTP webhook goes through the proxy of an http proxy node (CONNECT), keep-alive tunnel reused', async () => {
  const rx = await startReceiver();
  const px = await startProxy();
  try {
    const records = await run({ url: rx.url('/via-proxy'), proxy: 'p1' }, [proxyConfig(px.url)], {}, [
      sampleEvent('package.promoted'),
      sampleEvent('package.added'),
    ]);
    for (const r of records) assert.equal(r.outcome, 'delivered', JSON.stringify(r.error));
    assert.equal(rx.requests.length, 2);
    assert.deepEqual(px.connects, [`127.0.0.1:${rx.port}`], 'one tunnel for both deliveries');
  } finally {
    await helper.unload();
    await px.close();
    await rx.close();
  }
});

test('an HTTPS webhook is tunnelled through an authenticating proxy to a server of a private CA given by a tls-config node', async () => {
  const rx = await startTlsReceiver();
  const px = await startProxy({ auth: true });
  try {
    const records = await run(
      { url: rx.url(), proxy: 'p1', tls: 't1', auth: 'basic' },
      [proxyConfig(px.url), tlsConfig({ ca: tlsFile('ca.pem') })],
      { p1: { username: PROXY_USER, password: PROXY_PASS }, w1: { username: BASIC_USER, password: BASIC_PASS } },
      [sampleEvent('package.promoted'), sampleEvent('package.added')],
    );
    for (const r of records) assert.equal(r.outcome, 'delivered', JSON.stringify(r.error));
    assert.equal(rx.requests.length, 2);
    assert.equal(rx.handshakes, 1, 'the TLS connection in the tunnel is kept alive');
    assert.equal(px.connects.length, 1);
    assert.equal(rx.requests[0].headers.authorization, 'Basic ' + Buffer.from(`${BASIC_USER}:${BASIC_PASS}`).toString('base64'));
    assert.equal(rx.requests[0].headers['proxy-authorization'], undefined, 'the proxy credentials stay with the proxy');
    const shown = JSON.stringify(records);
    assert.ok(!shown.includes(PROXY_PASS) && !shown.includes(BASIC_PASS));
  } finally {
    await helper.unload();
    await px.close();
    await rx.close();
  }
});

test('without the tls-config node the private CA is not trusted', async () => {
  const rx = await startTlsReceiver();
  try {
    const [r] = await run({ url: rx.url() });
    assert.equal(r.outcome, 'failed');
    assert.match(r.error.code, /CERT|SELF_SIGNED|UNABLE/);
    assert.equal(rx.requests.length, 0);
  } finally {
    await helper.unload();
    await rx.close();
  }
});

test("a proxy's 407 is a permanent failure that says the proxy refused authentication; nothing reaches the receiver", async () => {
  const rx = await startReceiver();
  const px = await startProxy({ auth: true });
  try {
    const [r] = await run({ url: rx.url(), proxy: 'p1', retries: 3 }, [proxyConfig(px.url)], {
      p1: { username: PROXY_USER, password: 'wrong-password' },
    });
    assert.equal(r.outcome, 'failed');
    assert.equal(r.error.code, 'proxy_407');
    assert.equal(r.error.permanent, true);
    assert.equal(r.attempts, 1, 'not retried');
    assert.match(r.error.message, /proxy refused authentication/);
    assert.ok(!JSON.stringify(r).includes('wrong-password'));
    assert.equal(px.refused, 1);
    assert.equal(rx.requests.length, 0);
  } finally {
    await helper.unload();
    await px.close();
    await rx.close();
  }
});

test("the proxy node's no-proxy list and the environment's NO_PROXY bypass the proxy; HTTP_PROXY applies without a proxy node", async () => {
  const rx = await startReceiver();
  const px = await startProxy();
  const saved = {
    HTTP_PROXY: process.env.HTTP_PROXY,
    NO_PROXY: process.env.NO_PROXY,
    http_proxy: process.env.http_proxy,
    no_proxy: process.env.no_proxy,
  };
  try {
    let [r] = await run({ url: rx.url('/direct'), proxy: 'p1' }, [proxyConfig(px.url, ['127.0.0.1'])]);
    assert.equal(r.outcome, 'delivered');
    assert.equal(px.connects.length, 0, 'bypassed by the node');
    await helper.unload();

    delete process.env.http_proxy;
    delete process.env.no_proxy;
    process.env.HTTP_PROXY = px.url;
    delete process.env.NO_PROXY;
    [r] = await run({ url: rx.url('/env-proxy') });
    assert.equal(r.outcome, 'delivered');
    assert.equal(px.connects.length, 1, 'HTTP_PROXY used');
    await helper.unload();

    process.env.NO_PROXY = 'localhost,127.0.0.1';
    [r] = await run({ url: rx.url('/env-bypass') });
    assert.equal(r.outcome, 'delivered');
    assert.equal(px.connects.length, 1, 'NO_PROXY bypass');
    assert.deepEqual(
      rx.requests.map((q) => q.path),
      ['/direct', '/env-proxy', '/env-bypass'],
    );
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await helper.unload();
    await px.close();
    await rx.close();
  }
});

test('a mutual-TLS receiver accepts the client certificate of the tls-config node, and no other', async () => {
  const rx = await startTlsReceiver({ mutual: true });
  try {
    const tls = (files) => [tlsConfig({ ca: tlsFile('ca.pem'), ...files })];
    let [r] = await run({ url: rx.url(), tls: 't1' }, tls({ cert: tlsFile('client-cert.pem'), key: tlsFile('client-key.pem') }));
    assert.equal(r.outcome, 'delivered', JSON.stringify(r.error));
    assert.equal(rx.requests.at(-1).client, 'notifier-client');
    await helper.unload();
    [r] = await run({ url: rx.url(), tls: 't1' }, tls({}));
    assert.equal(r.outcome, 'failed', 'no client certificate');
    await helper.unload();
    [r] = await run({ url: rx.url(), tls: 't1' }, tls({ cert: tlsFile('other-client-cert.pem'), key: tlsFile('other-client-key.pem') }));
    assert.equal(r.outcome, 'failed', 'a certificate of another issuer');
    assert.equal(rx.requests.length, 1);
  } finally {
    await helper.unload();
    await rx.close();
  }
});

test('Slack goes through the proxy node too', async () => {
  const rx = await startReceiver({ answer: { status: 200, body: 'ok' } });
  const px = await startProxy();
  try {
    await helper.load(
      NODES,
      [{ id: 's1', type: 'notifier-slack', proxy: 'p1', wires: [['out']] }, { id: 'out', type: 'helper' }, proxyConfig(px.url)],
      {
        s1: { url: rx.url('/services/T0/B0/secret') },
      },
    );
    const got = new Promise((r) => helper.getNode('out').once('input', (m) => r(m.dispatch)));
    helper.getNode('s1').receive({ event: sampleEvent('package.promoted') });
    assert.equal((await got).outcome, 'delivered');
    assert.equal(px.connects.length, 1);
  } finally {
    await helper.unload();
    await px.close();
    await rx.close();
  }
});

// ----------------------------------------------------------------------------------------------------
// SSRF

test('$WebBaseUrl/hook with basic auth is refused at deploy: red status, log line, nothing sent', async () => {
  const rx = await startReceiver();
  try {
    const [r] = await run({ url: '$WebBaseUrl/hook', auth: 'basic' }, [], { w1: { username: BASIC_USER, password: BASIC_PASS } }, [
      eventWith({ WebBaseUrl: rx.base }),
    ]);
    const w1 = helper.getNode('w1');
    assert.deepEqual(w1.status.firstCall.args[0], { fill: 'red', shape: 'ring', text: 'config error' });
    const logged = helper
      .log()
      .getCalls()
      .map((c) => c.args[0])
      .find((l) => l.level === helper.log().ERROR && /origin/.test(String(l.msg)));
    assert.ok(logged, 'an error is logged');
    assert.match(String(logged.msg), /origin \(scheme, host and port\) must be written out.*allowedHosts/);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.error.code, 'config');
    assert.equal(rx.requests.length, 0);
    assert.equal(rx.connections, 0);
  } finally {
    await helper.unload();
    await rx.close();
  }
});

test('with allowedHosts, a rendered host outside the list is egress_denied before any connection; a listed host is delivered', async () => {
  const rx = await startReceiver();
  try {
    const creds = { w1: { username: BASIC_USER, password: BASIC_PASS } };
    let [r] = await run({ url: '$WebBaseUrl/hook', auth: 'basic', allowedHosts: 'hooks.example.com, *.corp.example' }, [], creds, [
      eventWith({ WebBaseUrl: rx.base }),
    ]);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.error.code, 'egress_denied');
    assert.equal(r.error.permanent, true);
    assert.equal(rx.connections, 0, 'no connection made');
    await helper.unload();
    [r] = await run({ url: '$WebBaseUrl/hook', auth: 'basic', allowedHosts: '127.0.0.1' }, [], creds, [eventWith({ WebBaseUrl: rx.base })]);
    assert.equal(r.outcome, 'delivered');
    assert.equal(rx.requests.length, 1);
  } finally {
    await helper.unload();
    await rx.close();
  }
});

test('metadata addresses in every spelling are egress_denied with no connection made and no credential sent', async () => {
  const rx = await startReceiver();
  try {
    const urls = ['http://169.254.169.254/latest/meta-data', 'http://[::ffff:169.254.169.254]/', 'http://0xa9fea9fe/', 'http://2852039166/'];
    for (const url of urls) {
      const [r] = await run({ url, auth: 'basic', signing: 'github' }, [], {
        w1: { username: BASIC_USER, password: BASIC_PASS, secret: 'gh-secret' },
      });
      assert.equal(r.outcome, 'failed', url);
      assert.equal(r.error.code, 'egress_denied', url);
      assert.equal(r.error.permanent, true, url);
      assert.equal(r.attempts, 1, url);
      assert.match(r.error.message, /169\.254\.169\.254/);
      await helper.unload();
    }
    assert.equal(rx.connections, 0);
  } finally {
    await helper.unload();
    await rx.close();
  }
});

test('with notifierEgress.deny 127.0.0.0/8, every spelling of loopback is egress_denied and the receiver counts zero connections', async () => {
  const rx = await startReceiver();
  try {
    for (const host of ['0x7f000001', '[::ffff:127.0.0.1]', '2130706433', '127.1', 'localhost']) {
      helper.settings({ notifierEgress: { deny: ['127.0.0.0/8', '::1/128'] } });
      const [r] = await run({ url: `http://${host}:${rx.port}/hook`, auth: 'basic' }, [], { w1: { username: BASIC_USER, password: BASIC_PASS } });
      assert.equal(r.error?.code, 'egress_denied', host);
      assert.equal(r.error.permanent, true);
      await helper.unload();
    }
    assert.equal(rx.connections, 0);
    helper.settings({ notifierEgress: { deny: ['127.0.0.0/8'], allow: ['127.0.0.1/32'] } });
    const [r] = await run({ url: rx.url() });
    assert.equal(r.outcome, 'delivered', 'allow wins over deny');
  } finally {
    await helper.unload();
    await rx.close();
  }
});
