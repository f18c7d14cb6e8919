'use strict';
// notifier-event over HTTP in a real Node-RED runtime (RED.init), with Node-RED's default roots
// (admin and HTTP nodes both at /, so the admin app's JSON parser runs first) and on the node's own port.
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { Webhook } = require('standardwebhooks');
const { startRuntime } = require('../helpers/nr');

const { SEED } = require('../helpers/seed');
const SECRET = 'whsec_' + Buffer.from('an-endpoint-secret-of-32-bytes!!').toString('base64');

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

let rt;
let ownPort;
const flows = () => [
  { id: 't1', type: 'tab', label: 'events' },
  { id: 'open', z: 't1', type: 'notifier-event', path: '/proget/events', events: [], auth: 'none', wires: [['dbg']] },
  {
    id: 'keyed',
    z: 't1',
    type: 'notifier-event',
    path: '/proget/keyed',
    events: [],
    auth: 'secret',
    credentials: { secret: 'let-me-in' },
    wires: [['dbg']],
  },
  { id: 'only-vuln', z: 't1', type: 'notifier-event', path: '/proget/vulns', events: ['sca.new-vulnerability'], auth: 'none', wires: [['dbg']] },
  {
    id: 'signed',
    z: 't1',
    type: 'notifier-event',
    path: '/signed',
    port: String(ownPort),
    host: '127.0.0.1',
    events: [],
    auth: 'hmac',
    credentials: { secret: SECRET },
    wires: [['dbg']],
  },
  { id: 'in-catch', z: 't1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'dbg', z: 't1', type: 'debug', active: true, tosidebar: true, console: false, complete: 'true' },
  { id: 'caught', z: 't1', type: 'debug', active: true, tosidebar: true, console: false, complete: 'true' },
];

test.before(async () => {
  ownPort = await freePort();
  rt = await startRuntime();
  await rt.deploy(flows());
});
test.after(() => rt && rt.stop());

async function post(path, body, { headers = {}, raw, base } = {}) {
  const res = await fetch((base ?? rt.nodeUrl) + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: raw !== undefined ? raw : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, type: res.headers.get('content-type') };
}

test("each of the seed's four example bodies comes out with the right type, feed and variables", async () => {
  const box = rt.inbox('dbg');
  for (const [type, body] of Object.entries(SEED)) {
    const r = await post('/proget/events', body);
    assert.equal(r.status, 202, r.text);
    assert.ok(r.json.id);
    const msg = await box.next();
    assert.equal(msg.event.type, type);
    assert.equal(msg.event.id, r.json.id);
    assert.equal(msg.event.source, 'http');
    assert.equal(msg.topic, type);
    if (type === 'package.promoted' || type === 'sca.noncompliant-package') assert.equal(msg.event.feed, 'internal-utils');
    else assert.equal(msg.event.feed, undefined);
  }
  const vuln = box.all.find((m) => m.topic === 'sca.new-vulnerability');
  assert.deepEqual(vuln.payload.AffectedPackages, [{ Name: 'nuget:Newtonsoft.Json', AffectedVersions: '< 13.0.1.' }]);
  assert.equal(vuln.payload.VulnerabilityScore, '7.5');
  const build = box.all.find((m) => m.topic === 'sca.build-issues-opened');
  assert.equal(build.payload.BuildIssues.length, 2);
  assert.equal(build.payload.BuildReleaseNumber, 'v25-Q4');
});

test('bad requests get the right status and a JSON error naming the problem, and the runtime keeps serving', async () => {
  const big = JSON.stringify({ ...SEED['package.promoted'], pad: 'x'.repeat(2 * 1024 * 1024) });
  const cases = [
    ['not JSON (text/plain)', '/proget/events', { raw: 'hello', headers: { 'content-type': 'text/plain' } }, 415, /not JSON/],
    ['form encoded', '/proget/events', { raw: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, /not JSON/],
    ['truncated JSON', '/proget/events', { raw: '{"package": "A", "vers' }, 400, /malformed JSON/],
    ['not JSON at all with a JSON type', '/proget/events', { raw: 'hello' }, 400, /malformed JSON/],
    ['a JSON array', '/proget/events', { raw: '[1,2,3]' }, 400, /invalid event/],
    ['an empty object', '/proget/events', { raw: '{}' }, 400, /invalid event/],
    ['a JSON string', '/proget/events', { raw: '"Promoted"' }, 400, /invalid event|malformed JSON/],
    ['missing fields', '/proget/events', { raw: JSON.stringify({ event: 'Promoted', PackageId: 'A' }) }, 400, /invalid event/],
    [
      'an unknown event name',
      '/proget/events',
      { raw: JSON.stringify({ event: 'Pulled', PackageId: 'A', PackageVersion: '1', FeedName: 'f' }) },
      400,
      /invalid event/,
    ],
    [
      'a wrong type for a variable',
      '/proget/events',
      { raw: JSON.stringify({ ...SEED['sca.new-vulnerability'], packages: 'lots' }) },
      400,
      /invalid event/,
    ],
    [
      'a score that is not a number',
      '/proget/events',
      { raw: JSON.stringify({ ...SEED['sca.new-vulnerability'], score: 'high' }) },
      400,
      /invalid event/,
    ],
    ['a 2 MiB body', '/proget/events', { raw: big }, 413, /too large/],
    ['a bad ?event=', '/proget/events?event=Pulled', { raw: JSON.stringify(SEED['package.promoted']) }, 400, /invalid event/],
    ['no secret', '/proget/keyed', { raw: JSON.stringify(SEED['package.promoted']) }, 401, /missing secret/],
    [
      'a wrong secret',
      '/proget/keyed',
      { raw: JSON.stringify(SEED['package.promoted']), headers: { 'x-notifier-secret': 'guess' } },
      401,
      /wrong secret/,
    ],
    [
      'a wrong bearer secret',
      '/proget/keyed',
      { raw: JSON.stringify(SEED['package.promoted']), headers: { authorization: 'Bearer guess' } },
      401,
      /wrong secret/,
    ],
  ];
  for (const [name, path, opts, status, pattern] of cases) {
    const r = await post(path, undefined, opts);
    assert.equal(r.status, status, `${name}: ${r.text.slice(0, 200)}`);
    assert.match(r.type ?? '', /application\/json/, `${name}: JSON answer`);
    assert.match(r.json.error, pattern, `${name}: ${r.text.slice(0, 200)}`);
    if (status === 400 && r.json.error === 'invalid event')
      assert.ok(Array.isArray(r.json.details) && r.json.details.length, `${name}: details list the problems`);
  }
  const ok = await post('/proget/keyed', SEED['package.promoted'], { headers: { 'x-notifier-secret': 'let-me-in' } });
  assert.equal(ok.status, 202);
  const still = await post('/proget/events', SEED['package.promoted']);
  assert.equal(still.status, 202, 'the runtime still serves');
});

test('an unselected event type is answered 202 and not emitted', async () => {
  const box = rt.inbox('dbg');
  const r = await post('/proget/vulns', SEED['package.promoted']);
  assert.equal(r.status, 202);
  assert.match(r.json.ignored, /not selected/);
  const v = await post('/proget/vulns', SEED['sca.new-vulnerability']);
  assert.equal(v.status, 202);
  const msg = await box.until((m) => m.event.id === v.json.id);
  assert.equal(msg.event.type, 'sca.new-vulnerability');
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(box.all.filter((m) => m.event.id === r.json.id).length, 0, 'the ignored event was not emitted');
});

test('HMAC intake on the node own port: a Standard Webhooks signature verifies, bad and replayed ones do not', async () => {
  const base = `http://127.0.0.1:${ownPort}`;
  const wh = new Webhook(SECRET);
  const body = JSON.stringify(SEED['sca.new-vulnerability']);
  const now = new Date();
  const headers = (id, at = now, payload = body) => ({
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': wh.sign(id, at, payload),
  });
  const box = rt.inbox('dbg');
  const ok = await post('/signed', undefined, { raw: body, headers: headers('msg_a'), base });
  assert.equal(ok.status, 202, ok.text);
  assert.equal(ok.json.id, 'msg_a', 'the webhook-id becomes the event id');
  const msg = await box.until((m) => m.event.id === 'msg_a');
  assert.equal(msg.event.type, 'sca.new-vulnerability');
  const tampered = await post('/signed', undefined, { raw: body.replace('7.5', '9.9'), headers: headers('msg_b'), base });
  assert.equal(tampered.status, 401);
  assert.equal(tampered.json.error, 'bad signature');
  const old = new Date(Date.now() - 6 * 60 * 1000);
  const replayed = await post('/signed', undefined, { raw: body, headers: headers('msg_c', old), base });
  assert.equal(replayed.status, 401);
  assert.match(replayed.json.error, /tolerance/);
  const unsigned = await post('/signed', undefined, { raw: body, base });
  assert.equal(unsigned.status, 401);
  const dup = await post('/signed', undefined, { raw: body, headers: headers('msg_a'), base });
  assert.equal(dup.status, 202);
  assert.equal(dup.json.duplicate, true);
  const wrongPath = await post('/elsewhere', undefined, { raw: body, headers: headers('msg_d'), base });
  assert.equal(wrongPath.status, 404);
  await new Promise((res) => setTimeout(res, 100));
  const ids = box.all.map((m) => m.event.id);
  assert.equal(ids.filter((id) => id === 'msg_a').length, 1, 'the repeated delivery was not emitted twice');
  assert.ok(!ids.includes('msg_b') && !ids.includes('msg_c') && !ids.includes('msg_d'));
});

test('HMAC on the shared HTTP root: the endpoint answers before the admin API parses the body, so the signature over the raw bytes verifies', async () => {
  await rt.deploy([
    ...flows(),
    {
      id: 'hmac-shared',
      z: 't1',
      type: 'notifier-event',
      path: '/proget/hmac',
      events: [],
      auth: 'hmac',
      credentials: { secret: SECRET },
      wires: [['dbg']],
    },
  ]);
  // spacing that a parse and re-serialisation would lose: only the raw bytes verify
  const raw = JSON.stringify(SEED['package.promoted'], null, 3);
  const now = new Date();
  const signed = (id) => ({
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now / 1000)),
    'webhook-signature': new Webhook(SECRET).sign(id, now, raw),
  });
  const ok = await post('/proget/hmac', undefined, { raw, headers: signed('msg_shared_1') });
  assert.equal(ok.status, 202, ok.text);
  const bad = await post('/proget/hmac', undefined, { raw: raw + ' ', headers: signed('msg_shared_2') });
  assert.equal(bad.status, 401);
  assert.equal(bad.json.error, 'bad signature');
  const gh = await post('/proget/hmac', SEED['package.promoted'], { headers: { 'x-hub-signature-256': 'sha256=00' } });
  assert.equal(gh.status, 401);
});

test('a redeploy without the node removes its route and frees its port', async () => {
  await rt.deploy([{ id: 't1', type: 'tab', label: 'events' }]);
  const r = await post('/proget/events', SEED['package.promoted']);
  assert.notEqual(r.status, 202);
  await assert.rejects(fetch(`http://127.0.0.1:${ownPort}/signed`, { method: 'POST', body: '{}' }));
  await rt.deploy(flows());
  const back = await post('/proget/events', SEED['package.promoted']);
  assert.equal(back.status, 202, 'the route comes back on the next deploy');
});
