'use strict';
// The example "GitHub Dependabot and Dependency-Track alerts to Teams" as a user runs it against `npm start`'s
// local sinks: the flow deployed unchanged but for its credentials (the Teams URL pointing at the sink's Teams
// path, as its comment says, and the two secrets), the vendors' own example deliveries posted to its endpoints
// with their signature or secret. Dependency-Track's policy violation and a critical Dependabot alert reach the
// sink as Adaptive Cards naming the package and the vulnerability; the Medium ones stay below the threshold.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { ROOT, startRuntime } = require('../helpers/nr');
const { startHttpSink } = require('../../scripts/sinks');
const { eventually } = require('../helpers/durable');
const { FIXTURES } = require('../fixtures/sources');

const FLOW = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'GitHub Dependabot and Dependency-Track alerts to Teams.json'), 'utf8'));
const GITHUB_SECRET = 'github-webhook-secret';
const DT_SECRET = 'dependency-track-secret';

let rt;
let sink;
let log;

test.before(async () => {
  // the sink prints what it receives, as under npm start; keep the test output for the test
  log = console.log;
  console.log = () => {};
  sink = await startHttpSink(0, '127.0.0.1');
  rt = await startRuntime();
  const credentials = {
    'notifier-teams': { url: `${sink.url}/teams/workflows/demo?sig=demo` },
    'notifier-event': (n) => ({ secret: n.source === 'github' ? GITHUB_SECRET : DT_SECRET }),
  };
  await rt.deploy(
    FLOW.map((n) => {
      const c = credentials[n.type];
      return c ? { ...n, credentials: typeof c === 'function' ? c(n) : c } : n;
    }),
  );
  // on a loaded machine the runtime's first start can end after the deploy's answer: wait until both endpoints serve
  // (a GET is answered 405 by the event node, 404 before its route exists)
  for (const n of FLOW.filter((x) => x.type === 'notifier-event')) {
    await eventually(async () => (await fetch(rt.nodeUrl + n.path)).status === 405, 30000, `${n.path} to serve`);
  }
});
test.after(async () => {
  if (rt) await rt.stop();
  if (sink) await new Promise((r) => sink.server.close(r));
  console.log = log;
});

const endpoint = (source) => FLOW.find((n) => n.type === 'notifier-event' && n.source === source).path;

async function post(source, raw, headers) {
  const res = await fetch(rt.nodeUrl + endpoint(source), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
  return { status: res.status, json: await res.json() };
}

function cardsMentioning(text) {
  return sink.received
    .filter((r) => r.url.startsWith('/teams/'))
    .map((r) => JSON.parse(r.body))
    .filter((m) => JSON.stringify(m).includes(text));
}

test('a Dependency-Track policy violation and a critical Dependabot alert reach the Teams sink; Medium vulnerabilities stay below the threshold', async () => {
  const history = rt.inbox('ex6-history');
  const below = rt.inbox('ex6-below');
  const fixture = (file) => FIXTURES.find((f) => f.file === file);

  // Dependency-Track, with its auth header
  const policy = await post('dependency-track', fixture('dependency-track/policy-violation.json').raw, { authorization: `Bearer ${DT_SECRET}` });
  assert.equal(policy.status, 202);
  const vuln = await post('dependency-track', fixture('dependency-track/new-vulnerability.json').raw, { authorization: `Bearer ${DT_SECRET}` });
  assert.equal(vuln.status, 202);
  const refused = await post('dependency-track', fixture('dependency-track/policy-violation.json').raw, { authorization: 'Bearer guess' });
  assert.equal(refused.status, 401);

  // GitHub, signed: the published Medium alert, and the same alert made critical
  const medium = fixture('github/dependabot_alert-created.json').raw;
  const critical = Buffer.from(
    medium
      .toString('utf8')
      .replace(/"severity": "medium"/g, '"severity": "critical"')
      .replace('"score": 5.3', '"score": 9.8'),
  );
  const sign = (raw) => ({
    'x-github-event': 'dependabot_alert',
    'x-hub-signature-256': 'sha256=' + crypto.createHmac('sha256', GITHUB_SECRET).update(raw).digest('hex'),
  });
  const gMedium = await post('github', medium, sign(medium));
  assert.equal(gMedium.status, 202);
  const gCritical = await post('github', critical, { ...sign(critical), 'x-github-delivery': 'critical-1' });
  assert.equal(gCritical.status, 202);
  const badSig = await post('github', critical, { ...sign(medium), 'x-github-delivery': 'critical-2' });
  assert.equal(badSig.status, 401);

  const records = [];
  for (const id of [policy.json.id, gCritical.json.id]) records.push((await history.until((m) => m.dispatch?.eventId === id, 20000)).dispatch);
  for (const r of records) assert.equal(r.outcome, 'delivered', JSON.stringify(r.error));
  assert.equal(records[0].eventType, 'sca.noncompliant-package');
  assert.equal(records[1].eventType, 'sca.new-vulnerability');

  const policyCards = cardsMentioning('Banned Components');
  assert.equal(policyCards.length, 1, 'the policy violation card');
  const policyCard = JSON.stringify(policyCards[0]);
  for (const s of ['axis', '1.4', 'Noncompliant', 'Acme Example']) assert.ok(policyCard.includes(s), `policy card shows ${s}`);
  assert.equal(policyCards[0].attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');

  const vulnCards = cardsMentioning('GHSA-c2qf-rxjj-qqgw');
  assert.equal(vulnCards.length, 1, 'only the critical Dependabot alert reached Teams');
  const vulnCard = JSON.stringify(vulnCards[0]);
  for (const s of ['Critical', '9.8', 'npm:semver', 'wolfy1339/pika-pack']) assert.ok(vulnCard.includes(s), `vulnerability card shows ${s}`);

  // the Medium ones took the "below threshold" output
  for (const id of [vuln.json.id, gMedium.json.id]) await below.until((m) => m.event.id === id);
  assert.equal(cardsMentioning('CVE-2012-5784').length, 0, "Dependency-Track's Medium vulnerability did not reach Teams");
});
