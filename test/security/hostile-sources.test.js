'use strict';
// Hostile values inside the other sources' webhooks (GitHub, Dependency-Track, Nexus, Artifactory, Harbor),
// through a real runtime to real Slack and Teams receivers. Whoever publishes a package or files an advisory
// picks these values. Huge strings come out clipped (every kept text at most 8 KiB), huge lists capped
// (100 items), deep nesting in fields the mapper does not read is ignored, deep or oversized JSON in
// Artifactory's `data` text is refused with 400 naming the problem, `__proto__` keys reach no prototype, and
// control characters, Slack mentions and Markdown links come out as inert text. Bounds are sizes and counts,
// never times.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { startSlackReceiver, startTeamsReceiver } = require('../helpers/receivers');
const { FIXTURES } = require('../fixtures/sources');

const MAX_TEXT = 8 * 1024;
const fixture = (file) => JSON.parse(FIXTURES.find((f) => f.file === file).raw.toString('utf8'));

let rt;
let slack;
let teams;

test.before(async () => {
  [slack, teams] = await Promise.all([startSlackReceiver(), startTeamsReceiver()]);
  rt = await startRuntime();
  await rt.deploy([
    { id: 'tab1', type: 'tab', label: 'hostile sources' },
    { id: 'ev', z: 'tab1', type: 'notifier-event', name: 'sources', path: '/hostile/sources', events: [], auth: 'none', wires: [['dbg']] },
    {
      id: 'ev-out',
      z: 'tab1',
      type: 'notifier-event',
      name: 'sources to chat',
      path: '/hostile/chat',
      events: [],
      auth: 'none',
      wires: [['sl', 'tm']],
    },
    { id: 'sl', z: 'tab1', type: 'notifier-slack', name: 'slack', credentials: { url: slack.webhookUrl }, wires: [['out']] },
    {
      id: 'tm',
      z: 'tab1',
      type: 'notifier-teams',
      name: 'teams',
      credentials: { url: teams.url('/workflows/trigger?sig=s3cret') },
      wires: [['out']],
    },
    { id: 'dbg', z: 'tab1', type: 'debug', active: false },
    { id: 'out', z: 'tab1', type: 'debug', active: false },
  ]);
});
test.after(async () => {
  if (rt) await rt.stop();
  await Promise.all([slack?.close(), teams?.close()]);
});

async function post(body, { path = '/hostile/sources', headers = {} } = {}) {
  const res = await fetch(rt.nodeUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** Longest text, longest list and deepest nesting in a value. */
function measure(v) {
  let text = 0;
  let items = 0;
  let depth = 0;
  const stack = [[v, 0]];
  while (stack.length) {
    const [x, d] = stack.pop();
    depth = Math.max(depth, d);
    if (typeof x === 'string') text = Math.max(text, x.length);
    else if (Array.isArray(x)) {
      items = Math.max(items, x.length);
      for (const y of x) stack.push([y, d + 1]);
    } else if (x && typeof x === 'object') for (const y of Object.values(x)) stack.push([y, d + 1]);
  }
  return { text, items, depth };
}

async function accepted(body, headers) {
  const box = rt.inbox('dbg');
  const r = await post(body, { headers });
  assert.equal(r.status, 202, JSON.stringify(r.json).slice(0, 300));
  return (await box.until((m) => m.event.id === r.json.id)).event;
}

test('huge strings in every source come out clipped to 8 KiB; huge lists to 100 items', async () => {
  const huge = 'A'.repeat(400_000);
  const dependabot = fixture('github/dependabot_alert-created.json');
  dependabot.alert.security_advisory.summary = huge;
  dependabot.alert.security_vulnerability.package.name = huge;
  const dt = fixture('dependency-track/new-vulnerability.json');
  dt.notification.subject.vulnerability.description = huge;
  dt.notification.subject.affectedProjects = Array.from({ length: 20_000 }, (_, i) => ({ name: `p${i}`, version: '1' }));
  const nexus = fixture('nexus/component-created.json');
  nexus.component.name = huge;
  const harbor = fixture('harbor/push-artifact.json');
  harbor.event_data.resources = Array.from({ length: 5000 }, (_, i) => ({ digest: 'sha256:x', tag: `t${i}-${'v'.repeat(50)}` }));
  const jfrog = fixture('artifactory/docker-pushed.json');
  jfrog.image_name = huge;
  for (const [body, headers] of [
    [dependabot, { 'x-github-event': 'dependabot_alert' }],
    [dt, {}],
    [nexus, { 'x-nexus-webhook-id': 'rm:repository:component' }],
    [harbor, {}],
    [jfrog, {}],
  ]) {
    assert.ok(Buffer.byteLength(JSON.stringify(body)) < 1024 * 1024);
    const event = await accepted(body, headers);
    const m = measure(event.vars);
    assert.ok(m.text <= MAX_TEXT, `${event.source}: longest text ${m.text}`);
    assert.ok(m.items <= 100, `${event.source}: longest list ${m.items}`);
  }
});

test('deep nesting where the mapper does not read is ignored; the event keeps a shallow shape', async () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  const raw = fixture('github/dependabot_alert-created.json');
  const text = JSON.stringify(raw).replace('"alert":{', `"alert":{"extra":${deep},`);
  const event = await accepted(text, { 'x-github-event': 'dependabot_alert' });
  assert.equal(event.type, 'sca.new-vulnerability');
  assert.ok(measure(event.vars).depth <= 3, `depth ${measure(event.vars).depth}`);
  const dt = fixture('dependency-track/policy-violation.json');
  dt.notification.subject.component.group = JSON.parse(deep.slice(0, 2000) + deep.slice(-2000));
  const e2 = await accepted(dt);
  assert.equal(e2.vars.PackageGroup, '', 'a nested value where text belongs is no text');
  assert.ok(measure(e2.vars).depth <= 3);
});

test("Artifactory's data text: deep, oversized or not JSON is refused with 400 saying what is wrong; the runtime keeps serving", async () => {
  const envelope = (data) => ({ event: { id: 'x', subscription_key: 'demo', domain: 'artifact', event_type: 'deployed', data } });
  const cases = [
    [envelope('['.repeat(200_000) + ']'.repeat(200_000)), /event\.data/],
    [envelope('{"repo_key":"' + 'a'.repeat(300_000) + '"}'), /longer than 262144 characters/],
    [envelope('{"repo_key": oops}'), /not valid JSON/],
    [envelope(42), /must be the event data/],
  ];
  for (const [body, message] of cases) {
    const r = await post(body);
    assert.equal(r.status, 400, JSON.stringify(r.json).slice(0, 200));
    assert.match(JSON.stringify(r.json.details), message);
  }
  const ok = await post(fixture('artifactory/artifact-deployed.json'));
  assert.equal(ok.status, 202);
});

test('__proto__ in a source body reaches no prototype', async () => {
  const raw = JSON.stringify(fixture('nexus/audit-user-created.json')).replace('"attributes":{', '"attributes":{"__proto__":{"polluted":"yes"},');
  const event = await accepted(raw, { 'x-nexus-webhook-id': 'rm:audit' });
  assert.equal(event.vars.AuditAttributes.polluted, undefined);
  assert.equal({}.polluted, undefined);
  const gh = JSON.stringify(fixture('github/ping.json')).replace('"zen":', '"__proto__":{"polluted":"yes"},"zen":');
  const r = await post(gh, { headers: { 'x-github-event': 'ping' } });
  assert.equal(r.status, 202);
  assert.equal(Object.prototype.polluted, undefined);
});

test('control characters, mentions and links in source values reach Slack and Teams as inert text', async () => {
  const attack = '<!channel> \u0000\u001b[31m [md](https://evil.example) <https://evil.example|click>';
  const pkg = fixture('github/package-published-npm.json');
  pkg.package.name = attack;
  pkg.repository.full_name = 'org/<!here>';
  const out = rt.inbox('out');
  const r = await post(pkg, { path: '/hostile/chat', headers: { 'x-github-event': 'package' } });
  assert.equal(r.status, 202);
  const records = {};
  for (const name of ['slack', 'teams'])
    records[name] = (await out.until((m) => m.dispatch?.notifier === name && m.event.id === r.json.id, 20000)).dispatch;
  assert.equal(records.slack.outcome, 'delivered', JSON.stringify(records.slack.error));
  assert.equal(records.teams.outcome, 'delivered', JSON.stringify(records.teams.error));
  const payload = (await slack.next()).body;
  assert.doesNotMatch(payload, /<!channel>|<!here>|<https:\/\/evil/);
  assert.doesNotMatch(payload, /\\u0000|\\u001b/, 'no control characters in the Slack message');
  assert.match(payload, /&lt;!channel&gt;/);
  const card = (await teams.next()).body;
  assert.doesNotMatch(card.replace(/\\\\[!-/:-@[-`{-~]/g, '·'), /\[md\]\(https:\/\/evil/);
  assert.doesNotMatch(card, /\\u0000|\\u001b/, 'no control characters in the Teams card');
});
