'use strict';
// notifier-event receiving the other sources' webhooks in a real Node-RED runtime (RED.init): every vendor
// fixture (test/fixtures/sources) posted over HTTP with its source's own signature or secret arrives as its
// event (type, feed, msg.event.source), and the same body with a wrong signature or secret is a 401; `auto`
// recognizes each; an unknown shape is a 400 listing the known sources; a node that names its source refuses
// another's body; Nexus's delivery id stops a repeat.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startRuntime } = require('../helpers/nr');
const { freePort, postJson } = require('../helpers/durable');
const { FIXTURES } = require('../fixtures/sources');

const SECRET = 'a-webhook-secret-for-every-source';
const hmac = (alg, body, secret = SECRET) => crypto.createHmac(alg, secret).update(body).digest('hex');

let rt;
let signedPort;
let keyedPort;
const flows = () => [
  { id: 'tab1', type: 'tab', label: 'sources' },
  // signatures over the raw body, on the node's own port (GitHub, Nexus, Artifactory with payload signing)
  {
    id: 'signed-in',
    z: 'tab1',
    type: 'notifier-event',
    name: 'signed sources',
    path: '/hooks',
    port: String(signedPort),
    host: '127.0.0.1',
    events: [],
    auth: 'hmac',
    source: 'auto',
    credentials: { secret: SECRET },
    wires: [['out']],
  },
  // a shared secret in a header (Harbor's and Dependency-Track's auth header, Artifactory's plain secret)
  {
    id: 'keyed-in',
    z: 'tab1',
    type: 'notifier-event',
    name: 'keyed sources',
    path: '/hooks',
    port: String(keyedPort),
    host: '127.0.0.1',
    events: [],
    auth: 'secret',
    credentials: { secret: SECRET },
    wires: [['out']],
  },
  { id: 'auto-in', z: 'tab1', type: 'notifier-event', name: 'any source', path: '/sources/auto', events: [], auth: 'none', wires: [['out']] },
  {
    id: 'harbor-in',
    z: 'tab1',
    type: 'notifier-event',
    name: 'harbor only',
    path: '/sources/harbor',
    events: [],
    auth: 'none',
    source: 'harbor',
    wires: [['out']],
  },
  {
    id: 'github-other-in',
    z: 'tab1',
    type: 'notifier-event',
    name: 'github vulnerabilities and other github events',
    path: '/sources/github-selected',
    events: ['sca.new-vulnerability', 'github.*'],
    auth: 'none',
    source: 'github',
    wires: [['out']],
  },
  { id: 'out', z: 'tab1', type: 'debug', active: false },
];

test.before(async () => {
  signedPort = await freePort();
  keyedPort = await freePort();
  rt = await startRuntime();
  await rt.deploy(flows());
});
test.after(() => rt && rt.stop());

const post = (url, raw, headers) => postJson(url, Buffer.isBuffer(raw) ? raw.toString('utf8') : raw, headers);

/** The source's own way of proving the sender: a signature over the raw body, or the secret in its header. */
function credentialsFor(f, raw, secret = SECRET) {
  switch (f.source) {
    case 'github':
      return { port: signedPort, headers: { 'x-hub-signature-256': 'sha256=' + hmac('sha256', raw, secret) } };
    case 'nexus':
      return { port: signedPort, headers: { 'x-nexus-webhook-signature': hmac('sha1', raw, secret) } };
    case 'artifactory':
      return { port: signedPort, headers: { 'x-jfrog-event-auth': hmac('sha256', raw, secret) } };
    case 'harbor':
      return { port: keyedPort, headers: { authorization: secret } };
    default:
      return { port: keyedPort, headers: { authorization: `Bearer ${secret}` } };
  }
}

test('every fixture, posted with its source’s signature or secret, arrives as its event; with a wrong one it is a 401 and is not emitted', async () => {
  const box = rt.inbox('out');
  for (const f of FIXTURES) {
    const { port, headers } = credentialsFor(f, f.raw);
    const url = `http://127.0.0.1:${port}/hooks`;
    const bad = credentialsFor(f, f.raw, 'not-the-secret');
    const refused = await post(url, f.raw, { ...f.headers, ...bad.headers });
    assert.equal(refused.status, 401, `${f.file}: wrong signature/secret: ${refused.text}`);
    assert.match(refused.json.error, /bad signature|wrong secret/);
    const ok = await post(url, f.raw, { ...f.headers, ...headers });
    assert.equal(ok.status, 202, `${f.file}: ${ok.text}`);
    const msg = await box.until((m) => m.event.id === ok.json.id);
    assert.equal(msg.event.type, f.type, `${f.file}: type`);
    assert.equal(msg.topic, f.type);
    assert.equal(msg.event.source, f.source, `${f.file}: msg.event.source`);
    assert.equal(msg.event.via, 'http');
    assert.equal(msg.event.feed, f.feed, `${f.file}: feed`);
    for (const [k, v] of Object.entries(f.vars)) assert.deepEqual(msg.payload[k], v, `${f.file}: $${k}`);
  }
  const ids = new Set(box.all.map((m) => m.event.id));
  assert.equal(ids.size, box.all.length, 'each accepted delivery emitted once');
  assert.equal(box.all.length, FIXTURES.length, 'the refused deliveries were not emitted');
});

test("Artifactory's plain secret (no payload signing) is the shared secret; a body changed after signing is a 401", async () => {
  const f = FIXTURES.find((x) => x.file === 'artifactory/docker-pushed.json');
  const plain = await post(`http://127.0.0.1:${keyedPort}/hooks`, f.raw, { 'x-jfrog-event-auth': SECRET });
  assert.equal(plain.status, 202, plain.text);
  const wrong = await post(`http://127.0.0.1:${keyedPort}/hooks`, f.raw, { 'x-jfrog-event-auth': 'guess' });
  assert.equal(wrong.status, 401);
  const gh = FIXTURES.find((x) => x.file === 'github/dependabot_alert-created.json');
  const sig = credentialsFor(gh, gh.raw).headers;
  const tampered = await post(`http://127.0.0.1:${signedPort}/hooks`, Buffer.from(gh.raw.toString().replace('5.3', '9.8')), {
    ...gh.headers,
    ...sig,
  });
  assert.equal(tampered.status, 401);
  const unsigned = await post(`http://127.0.0.1:${signedPort}/hooks`, gh.raw, gh.headers);
  assert.equal(unsigned.status, 401);
  assert.match(unsigned.json.details, /X-Nexus-Webhook-Signature/);
});

test('auto recognizes every fixture by its shape alone, and refuses an unknown shape with a 400 listing the known sources', async () => {
  const box = rt.inbox('out');
  for (const f of FIXTURES) {
    const before = box.all.length;
    const r = await post(`${rt.nodeUrl}/sources/auto`, f.raw);
    assert.equal(r.status, 202, `${f.file}: ${r.text}`);
    if (f.id) {
      // the body's own id (Harbor's CloudEvents id, Artifactory's envelope id), read from the body as its source
      // says, is the event id: the delivery the first test made already has it, so this one is a repeat
      assert.equal(r.json.id, f.id, `${f.file}: the body's id`);
      assert.equal(r.json.duplicate, true, `${f.file}: a repeat of the body's id is not emitted again`);
      continue;
    }
    assert.equal(r.json.duplicate, undefined, f.file);
    const msg = await box.until((m) => m.event.id === r.json.id);
    assert.ok(box.all.length > before);
    assert.equal(msg.event.source, f.source, `${f.file}: source`);
    assert.equal(msg.event.type, f.type, `${f.file}: type`);
  }
  for (const raw of ['{}', '{"hello":"world"}', '{"type":"PUSH","data":{}}']) {
    const r = await post(`${rt.nodeUrl}/sources/auto`, raw);
    assert.equal(r.status, 400, raw);
    assert.equal(r.json.error, 'invalid event');
    assert.deepEqual(r.json.sources, ['proget', 'github', 'dependency-track', 'nexus', 'artifactory', 'harbor']);
    assert.ok(
      r.json.details.some((d) => /not an event of any known source/.test(d.message)),
      r.text,
    );
  }
});

test("a node that names its source refuses another source's body (400) and takes its own; its event selection covers <source>.*", async () => {
  const gh = FIXTURES.find((x) => x.file === 'github/ping.json');
  const harbor = FIXTURES.find((x) => x.file === 'harbor/push-artifact.json');
  const refused = await post(`${rt.nodeUrl}/sources/harbor`, gh.raw, gh.headers);
  assert.equal(refused.status, 400, refused.text);
  assert.ok(Array.isArray(refused.json.details) && refused.json.details.length);
  const ok = await post(`${rt.nodeUrl}/sources/harbor`, harbor.raw);
  assert.equal(ok.status, 202, ok.text);
  const box = rt.inbox('out');
  const ping = await post(`${rt.nodeUrl}/sources/github-selected`, gh.raw, gh.headers);
  assert.equal(ping.status, 202);
  assert.equal(ping.json.ignored, undefined, 'github.* selects github.ping');
  const pkg = FIXTURES.find((x) => x.file === 'github/package-published-npm.json');
  const skipped = await post(`${rt.nodeUrl}/sources/github-selected`, pkg.raw, pkg.headers);
  assert.equal(skipped.status, 202);
  assert.match(skipped.json.ignored, /package\.added is not selected/);
  await box.until((m) => m.event.id === ping.json.id);
});

test("Nexus's X-Nexus-Webhook-Delivery id is the event id, and a repeated delivery is not emitted twice", async () => {
  const f = FIXTURES.find((x) => x.file === 'nexus/component-created.json');
  const headers = { ...f.headers, 'x-nexus-webhook-delivery': 'nexus-delivery-repeat-1', ...credentialsFor(f, f.raw).headers };
  const url = `http://127.0.0.1:${signedPort}/hooks`;
  const first = await post(url, f.raw, headers);
  assert.equal(first.status, 202, first.text);
  assert.equal(first.json.id, 'nexus-delivery-repeat-1');
  const again = await post(url, f.raw, headers);
  assert.equal(again.status, 202);
  assert.equal(again.json.duplicate, true);
});
