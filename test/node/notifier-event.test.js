'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { testHelper, nodeModule } = require('../helpers/nr');

const helper = testHelper();
const eventNode = nodeModule('notifier-event');

const SEED_PACKAGE = { package: 'MyCorp.CoolUtils', version: '3.2.0-pre.1', event: 'Promoted', user: 'API', feed: 'internal-utils' };

function flow(props = {}) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'ev', z: 'f1', type: 'notifier-event', name: 'events', events: [], auth: 'none', ...props, wires: [['out']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'c', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

function next(node, event = 'input') {
  return new Promise((resolve) => node.once(event, resolve));
}

test.before(() => helper.startServer());
test.after(() => helper.stopServer());
test.afterEach(() => helper.unload());

test('an input message with a ProGet body comes out as msg.event, msg.payload and msg.topic', async () => {
  await helper.load(eventNode, flow());
  const out = helper.getNode('out');
  const got = next(out);
  helper.getNode('ev').receive({ payload: SEED_PACKAGE, keep: 'me' });
  const msg = await got;
  assert.equal(msg.topic, 'package.promoted');
  assert.equal(msg.event.type, 'package.promoted');
  assert.equal(msg.event.source, 'input');
  assert.equal(msg.event.feed, 'internal-utils');
  assert.equal(msg.payload.PackageId, 'MyCorp.CoolUtils');
  assert.equal(msg.keep, 'me', 'the incoming message is reused');
  msg.payload.PackageId = 'changed';
  assert.equal(msg.event.vars.PackageId, 'MyCorp.CoolUtils', 'payload is a copy of the variables');
});

test('a JSON string payload and msg.eventType are understood', async () => {
  await helper.load(eventNode, flow());
  const got = next(helper.getNode('out'));
  helper.getNode('ev').receive({ payload: JSON.stringify(SEED_PACKAGE), eventType: 'Deleted' });
  const msg = await got;
  assert.equal(msg.event.type, 'package.deleted');
});

test('invalid input messages reach Catch with a clear message and the node keeps working', async () => {
  await helper.load(eventNode, flow());
  const ev = helper.getNode('ev');
  const caught = helper.getNode('caught');
  const bad = [
    [{ payload: '{"broken":' }, /msg.payload: is a string but not valid JSON/],
    [{ payload: [1, 2] }, /expected a JSON object, got a JSON array/],
    [{ payload: {} }, /no event type/],
    [{ payload: { event: 'Pulled', PackageId: 'x' } }, /unknown event type "Pulled"/],
    [{ payload: { event: 'Promoted', PackageVersion: '1', FeedName: 'f' } }, /PackageId: is required/],
    [{ payload: 42 }, /got a number/],
  ];
  for (const [msg, pattern] of bad) {
    const got = next(caught);
    ev.receive(msg);
    const err = await got;
    assert.match(err.error.message, pattern);
    assert.equal(err.error.source.id, 'ev');
  }
  const ok = next(helper.getNode('out'));
  ev.receive({ payload: SEED_PACKAGE });
  assert.equal((await ok).event.type, 'package.promoted');
});

test('the events filter drops unselected types without an error', async () => {
  await helper.load(eventNode, flow({ events: ['sca.new-vulnerability'] }));
  const ev = helper.getNode('ev');
  const out = helper.getNode('out');
  const seen = [];
  out.on('input', (m) => seen.push(m.topic));
  const caught = [];
  helper.getNode('caught').on('input', (m) => caught.push(m));
  ev.receive({ payload: SEED_PACKAGE });
  const got = next(out);
  ev.receive({ payload: { packages: [], vulnerabilityId: 'PGV-1', summary: 's', severity: 'Low', score: '2.0' } });
  await got;
  assert.deepEqual(seen, ['sca.new-vulnerability']);
  assert.equal(caught.length, 0);
});

test('the test-event admin route emits the sample event of the chosen type', async () => {
  await helper.load(eventNode, flow());
  const got = next(helper.getNode('out'));
  const res = await helper.request().post('/notifier-event/ev/test').send({ eventType: 'sca.build-issues-opened' });
  assert.equal(res.status, 200);
  const msg = await got;
  assert.equal(msg.event.type, 'sca.build-issues-opened');
  assert.equal(msg.event.source, 'test');
  assert.equal(msg.payload.BuildProjectName, 'XAPUtil.Web');
  const unknown = await helper.request().post('/notifier-event/ev/test').send({ eventType: 'nope' });
  assert.equal(unknown.status, 400);
  const missing = await helper.request().post('/notifier-event/nonexistent/test').send({});
  assert.equal(missing.status, 404);
});

test('a secret auth mode without a secret shows a red status', async () => {
  await helper.load(eventNode, flow({ auth: 'secret', path: '/x' }));
  const ev = helper.getNode('ev');
  const calls = ev.status.getCalls().map((c) => c.args[0]);
  assert.ok(
    calls.some((s) => s.fill === 'red' && /secret missing/.test(s.text)),
    JSON.stringify(calls),
  );
});

test('an endpoint without auth shows a ring status and warns at deploy; with a secret it does neither; new nodes default to secret', async () => {
  await helper.load(eventNode, flow({ path: '/sec/open', auth: 'none' }));
  const open = helper.getNode('ev');
  const statuses = open.status.getCalls().map((c) => c.args[0]);
  assert.ok(statuses.length && statuses.every((s) => s.shape === 'ring'), JSON.stringify(statuses));
  assert.match(statuses.at(-1).text, /no auth/);
  assert.ok(open.warn.getCalls().some((c) => /has no auth: anyone who can reach it can post events/.test(String(c.args[0]))));
  await helper.unload();

  await helper.load(
    eventNode,
    [
      { id: 'f1', type: 'tab' },
      { id: 'ev', z: 'f1', type: 'notifier-event', events: [], path: '/sec/keyed', auth: 'secret', wires: [[]] },
    ],
    { ev: { secret: 'k' } },
  );
  const keyed = helper.getNode('ev');
  assert.ok(keyed.status.getCalls().every((c) => c.args[0].shape !== 'ring'));
  assert.equal(keyed.warn.getCalls().length, 0);

  // the editor's default for a new node (nodes/notifier-event.html)
  const html = require('node:fs').readFileSync(require('node:path').join(__dirname, '..', '..', 'nodes', 'notifier-event.html'), 'utf8');
  assert.match(html, /auth: \{ value: "secret"[,\s}]/);
});

const { FIXTURES } = require('../fixtures/sources');
const fixtureBody = (file) => JSON.parse(FIXTURES.find((f) => f.file === file).raw.toString('utf8'));

test('an input message with another source’s body is mapped: by shape, by the headers of an HTTP in node (msg.req.headers), or as the node’s named source', async () => {
  await helper.load(eventNode, flow());
  const ev = helper.getNode('ev');
  const out = helper.getNode('out');
  let got = next(out);
  ev.receive({ payload: fixtureBody('dependency-track/policy-violation.json') });
  let msg = await got;
  assert.equal(msg.event.type, 'sca.noncompliant-package');
  assert.equal(msg.event.source, 'dependency-track');
  assert.equal(msg.event.via, 'input');
  assert.equal(msg.topic, 'sca.noncompliant-package');
  // a GitHub push has no shape of its own: the X-GitHub-Event header an HTTP in node keeps names it
  const push = { ref: 'refs/heads/main', repository: { full_name: 'octo/repo' }, sender: { login: 'octo' } };
  got = next(out);
  ev.receive({ payload: push, req: { headers: { 'X-GitHub-Event': 'push' } } });
  msg = await got;
  assert.equal(msg.event.type, 'github.push');
  assert.equal(msg.event.feed, 'octo/repo');
  await helper.unload();

  await helper.load(eventNode, flow({ source: 'harbor' }));
  const caught = next(helper.getNode('caught'));
  helper.getNode('ev').receive({ payload: fixtureBody('github/ping.json') });
  const err = await caught;
  assert.match(err.error.message, /Harbor/);
});

test('a node saved before sources existed (no source) still takes ProGet bodies; an unknown source is a configuration error', async () => {
  const old = flow();
  delete old[1].source;
  await helper.load(eventNode, old);
  const got = next(helper.getNode('out'));
  helper.getNode('ev').receive({ payload: SEED_PACKAGE });
  assert.equal((await got).event.type, 'package.promoted');
  await helper.unload();

  await helper.load(eventNode, flow({ source: 'jenkins', path: '/bad-source' }));
  const ev = helper.getNode('ev');
  assert.ok(
    ev.error
      .getCalls()
      .some((c) => /unknown source "jenkins" \(use auto, proget, github, dependency-track, nexus, artifactory, harbor\)/.test(String(c.args[0]))),
  );
  assert.ok(ev.status.getCalls().some((c) => c.args[0].fill === 'red' && c.args[0].text === 'bad source'));
});

test('the events filter takes <source>.<event> and <source>.*; other names are reported', async () => {
  await helper.load(eventNode, flow({ events: ['github.*', 'harbor.pull_artifact', 'nope.thing'] }));
  const ev = helper.getNode('ev');
  assert.ok(ev.error.getCalls().some((c) => /unknown event types in "events": nope\.thing/.test(String(c.args[0]))));
  const out = helper.getNode('out');
  const got = next(out);
  ev.receive({ payload: fixtureBody('harbor/push-artifact.json') }); // package.added: not selected
  ev.receive({ payload: fixtureBody('harbor/pull-artifact.json') });
  const msg = await got;
  assert.equal(msg.event.type, 'harbor.pull_artifact');
});
