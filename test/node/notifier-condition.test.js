'use strict';
// notifier-condition in Node-RED (node-red-node-test-helper; NR 4.1 by default, NR 5 with NR_RUNTIME=5):
// every mode, the feed filter, the two-output mode, configuration and run-time errors reaching a
// Catch node, status counts, and the OtterScript preview admin route.
const test = require('node:test');
const assert = require('node:assert/strict');
const { testHelper, nodeModule } = require('../helpers/nr');
const { sampleEvent, normalizeEvent } = require('../../dist/core/events');

const helper = testHelper();
const conditionNode = nodeModule('notifier-condition');

test.before(() => helper.startServer());
test.after(() => helper.stopServer());
test.afterEach(() => helper.unload());

const pkgEvent = (over = {}) => {
  const e = sampleEvent('package.promoted');
  return { ...e, ...over, vars: { ...e.vars, ...(over.vars || {}) } };
};
const vulnEvent = (vars = {}, feed) =>
  normalizeEvent({ event: 'sca.new-vulnerability', ...sampleEvent('sca.new-vulnerability').vars, ...vars, ...(feed ? { FeedName: feed } : {}) });
const buildEvent = () => sampleEvent('sca.build-issues-opened');

/**
 * Loads a condition node (id c1) wired to helper nodes: out1 (matched), out2 (not matched, when
 * outputs is 2) and a catch node; sends each event and waits until every message arrived somewhere
 * (so: two outputs, or events that all pass or fail), then returns what arrived where.
 */
async function run(config, events, { raw = false } = {}) {
  const outputs = config.outputs === 2 ? 2 : 1;
  const flow = [
    { id: 'f1', type: 'tab' },
    { id: 'c1', z: 'f1', type: 'notifier-condition', name: '', outputs, ...config, wires: outputs === 2 ? [['out1'], ['out2']] : [['out1']] },
    { id: 'out1', z: 'f1', type: 'helper' },
    { id: 'out2', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
  await helper.load(conditionNode, flow);
  const c1 = helper.getNode('c1');
  const got = { matched: [], notMatched: [], errors: [], completed: 0 };
  helper.getNode('out1').on('input', (msg) => got.matched.push(msg));
  helper.getNode('out2').on('input', (msg) => got.notMatched.push(msg));
  helper.getNode('caught').on('input', (msg) => got.errors.push(msg));
  const total = events.length;
  let arrived = 0;
  const all = new Promise((resolve, reject) => {
    if (total === 0) return resolve();
    const timer = setTimeout(() => reject(new Error(`${arrived} of ${total} messages arrived`)), 5000);
    const tick = () => {
      if (++arrived === total) {
        clearTimeout(timer);
        setImmediate(resolve);
      }
    };
    for (const id of ['out1', 'out2', 'caught']) helper.getNode(id).on('input', tick);
  });
  for (const e of events) c1.receive(raw ? e : { event: e, topic: e && e.type });
  await all;
  return { got, node: c1 };
}

/** Sends events and waits a little: for cases where blocked events produce no message at all. */
async function runAndSettle(config, events) {
  const res = await run(config, []);
  for (const e of events) res.node.receive({ event: e });
  await new Promise((r) => setTimeout(r, 100));
  return res;
}

/** The status objects a node set (the test helper spies on the prototype shared by all nodes). */
function statusesOf(node) {
  return node.status
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0]);
}

test('always passes every event; never passes none (both with two outputs)', async () => {
  let { got } = await run({ mode: 'always', outputs: 2 }, [pkgEvent(), vulnEvent(), buildEvent()]);
  assert.equal(got.matched.length, 3);
  assert.equal(got.notMatched.length, 0);
  await helper.unload();
  ({ got } = await run({ mode: 'never', outputs: 2 }, [pkgEvent(), vulnEvent(), buildEvent()]));
  assert.equal(got.matched.length, 0);
  assert.equal(got.notMatched.length, 3);
  assert.equal(got.errors.length, 0);
});

test('one output: blocked events are dropped, passed ones keep msg.event and the message', async () => {
  const { got } = await runAndSettle({ mode: 'score', minScore: '7.0' }, [
    vulnEvent({ VulnerabilityScore: '9.1', VulnerabilitySeverity: 'Critical' }),
    vulnEvent({ VulnerabilityScore: '2', VulnerabilitySeverity: 'Low' }),
  ]);
  assert.equal(got.matched.length, 1);
  assert.equal(got.matched[0].event.vars.VulnerabilityScore, '9.1');
  assert.equal(got.errors.length, 0);
});

test('feed filter: comma list with wildcards, case-insensitive; events without a feed never pass', async () => {
  const events = [
    pkgEvent({ feed: 'internal-utils', vars: { FeedName: 'internal-utils' } }),
    pkgEvent({ feed: 'INTERNAL-libs', vars: { FeedName: 'INTERNAL-libs' } }),
    pkgEvent({ feed: 'public-nuget', vars: { FeedName: 'public-nuget' } }),
    pkgEvent({ feed: 'external', vars: { FeedName: 'external' } }),
    buildEvent(),
  ];
  const { got } = await run({ feeds: 'internal-*, Public-NuGet', mode: 'always', outputs: 2 }, events);
  assert.deepEqual(
    got.matched.map((m) => m.event.feed),
    ['internal-utils', 'INTERNAL-libs', 'public-nuget'],
  );
  assert.deepEqual(
    got.notMatched.map((m) => m.event.feed),
    ['external', undefined],
  );
});

test('an empty feed filter passes events without a feed', async () => {
  const { got } = await run({ feeds: '', mode: 'always', outputs: 2 }, [buildEvent()]);
  assert.equal(got.matched.length, 1);
});

test('package mode: name and version wildcards, both must match', async () => {
  const events = [
    pkgEvent(),
    pkgEvent({ vars: { PackageId: 'mycorp.other', PackageName: 'mycorp.other', PackageVersion: '3.0.0' } }),
    pkgEvent({ vars: { PackageVersion: '4.0.0' } }),
    pkgEvent({ vars: { PackageId: 'Other', PackageName: 'Other' } }),
  ];
  const { got } = await run({ mode: 'package', packageName: 'MyCorp.*', packageVersion: '3.*', outputs: 2 }, events);
  assert.deepEqual(
    got.matched.map((m) => m.event.vars.PackageName),
    ['MyCorp.CoolUtils', 'mycorp.other'],
  );
  assert.equal(got.notMatched.length, 2);
});

test('score mode: >= minScore as numbers; events without a score do not match', async () => {
  const events = [
    vulnEvent({ VulnerabilityScore: '7.5' }),
    vulnEvent({ VulnerabilityScore: '10.0', VulnerabilitySeverity: 'Critical' }),
    vulnEvent({ VulnerabilityScore: '7.4' }),
    pkgEvent(),
  ];
  const { got } = await run({ mode: 'score', minScore: '7.5', outputs: 2 }, events);
  assert.deepEqual(
    got.matched.map((m) => m.event.vars.VulnerabilityScore),
    ['7.5', '10.0'],
  );
  assert.deepEqual(
    got.notMatched.map((m) => m.event.type),
    ['sca.new-vulnerability', 'package.promoted'],
  );
});

test('severity mode: >= minSeverity on None < Low < Medium < High < Critical', async () => {
  const events = [
    vulnEvent({ VulnerabilitySeverity: 'Critical', VulnerabilityScore: '9.8' }),
    vulnEvent({ VulnerabilitySeverity: 'High', VulnerabilityScore: '7.5' }),
    vulnEvent({ VulnerabilitySeverity: 'Medium', VulnerabilityScore: '5.0' }),
    pkgEvent(),
  ];
  const { got } = await run({ mode: 'severity', minSeverity: 'High', outputs: 2 }, events);
  assert.deepEqual(
    got.matched.map((m) => m.event.vars.VulnerabilitySeverity),
    ['Critical', 'High'],
  );
  assert.equal(got.notMatched.length, 2);
});

test('expression mode: ProGet predicates over msg.event.vars', async () => {
  const events = [
    vulnEvent({}, 'internal-utils'),
    vulnEvent({}, 'public'),
    vulnEvent({ VulnerabilityScore: '3.1', VulnerabilitySeverity: 'Low' }, 'internal-utils'),
  ];
  const { got } = await run(
    { mode: 'expression', expression: '$Compare($VulnerabilityScore,>=,7.5) && $FeedName == internal-utils', outputs: 2 },
    events,
  );
  assert.equal(got.matched.length, 1);
  assert.equal(got.matched[0].event.feed, 'internal-utils');
  assert.equal(got.notMatched.length, 2);
});

test('expression mode: a run-time error (undefined variable) reaches Catch and the event is not passed', async () => {
  const { got, node } = await run({ mode: 'expression', expression: '$CustomVar == true', outputs: 2 }, [pkgEvent()]);
  assert.equal(got.matched.length, 0);
  assert.equal(got.notMatched.length, 0, 'not routed to "not matched" either');
  assert.equal(got.errors.length, 1);
  assert.match(got.errors[0].error.message, /expression failed: Unknown variable \$CustomVar \(line 1, column 1\)/);
  assert.equal(got.errors[0].error.source.id, 'c1');
  assert.equal(got.errors[0].event.type, 'package.promoted', 'Catch gets the message with its event');
  assert.ok(node);
});

test('jsonata mode: evaluated over the message, compiled at deploy', async () => {
  const events = [vulnEvent({ VulnerabilitySeverity: 'Critical', VulnerabilityScore: '9.8' }), vulnEvent()];
  const { got } = await run({ mode: 'jsonata', jsonata: 'msg.event.vars.VulnerabilitySeverity = "Critical"', outputs: 2 }, events);
  assert.equal(got.matched.length, 1);
  assert.equal(got.matched[0].event.vars.VulnerabilitySeverity, 'Critical');
  assert.equal(got.notMatched.length, 1);
});

test('jsonata mode: the feed filter runs first', async () => {
  const { got } = await run({ mode: 'jsonata', jsonata: 'true', feeds: 'internal-*', outputs: 2 }, [pkgEvent(), buildEvent()]);
  assert.equal(got.matched.length, 1);
  assert.equal(got.notMatched.length, 1);
});

test('jsonata mode: a run-time error reaches Catch', async () => {
  const { got } = await run({ mode: 'jsonata', jsonata: '$error("boom")', outputs: 2 }, [pkgEvent()]);
  assert.equal(got.errors.length, 1);
  assert.match(got.errors[0].error.message, /JSONata expression failed: boom/);
  assert.equal(got.matched.length + got.notMatched.length, 0);
});

test('a message without a valid msg.event is an error naming what is wrong', async () => {
  const { got } = await run({ mode: 'always', outputs: 2 }, [{ payload: 'x' }, { event: { vars: {} } }, { event: 'nope' }], { raw: true });
  assert.equal(got.errors.length, 3);
  assert.match(got.errors[0].error.message, /msg\.event is missing: wire a notifier-event node/);
  assert.match(got.errors[1].error.message, /msg\.event\.type is missing/);
  assert.match(got.errors[2].error.message, /msg\.event must be an object/);
  assert.equal(got.matched.length + got.notMatched.length, 0);
});

test('an expression that does not compile: red status at deploy, messages go to Catch with the reason', async () => {
  const flow = [
    { id: 'f1', type: 'tab' },
    { id: 'c1', z: 'f1', type: 'notifier-condition', mode: 'expression', expression: '$Compare($x, >=', outputs: 1, wires: [['out1']] },
    { id: 'out1', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
  // the status is set in the constructor: spy on the prototype's status calls while loading
  await helper.load(conditionNode, flow);
  const c1 = helper.getNode('c1');
  const statusCalls = statusesOf(c1);
  assert.ok(
    statusCalls.some((s) => s.fill === 'red' && /invalid expression/.test(s.text)),
    JSON.stringify(statusCalls),
  );
  const errorCalls = c1.error
    .getCalls()
    .filter((c) => c.thisValue === c1)
    .map((c) => String(c.args[0]));
  assert.ok(
    errorCalls.some((m) => /invalid configuration: expression: .*line 1, column/.test(m)),
    errorCalls.join('\n'),
  );
  const caught = new Promise((resolve) => helper.getNode('caught').on('input', resolve));
  c1.receive({ event: pkgEvent() });
  const msg = await caught;
  assert.match(msg.error.message, /configuration is invalid: expression: /);
});

test('invalid score and severity settings show a red status naming the property', async () => {
  for (const [config, property] of [
    [{ mode: 'score', minScore: 'high' }, 'minScore'],
    [{ mode: 'severity', minSeverity: 'Severe' }, 'minSeverity'],
    [{ mode: 'package' }, 'packageName'],
    [{ mode: 'jsonata', jsonata: '(' }, 'jsonata'],
  ]) {
    await helper.load(conditionNode, [
      { id: 'f1', type: 'tab' },
      { id: 'c1', z: 'f1', type: 'notifier-condition', ...config, wires: [[]] },
    ]);
    const statuses = statusesOf(helper.getNode('c1'));
    assert.ok(
      statuses.some((s) => s.fill === 'red' && s.text === `invalid ${property}`),
      `${property}: ${JSON.stringify(statuses)}`,
    );
    await helper.unload();
  }
});

test('the status counts passed and blocked events', async () => {
  const { node } = await run({ mode: 'score', minScore: '7', outputs: 2 }, [
    vulnEvent({ VulnerabilityScore: '9', VulnerabilitySeverity: 'Critical' }),
    vulnEvent({ VulnerabilityScore: '1', VulnerabilitySeverity: 'Low' }),
    vulnEvent({ VulnerabilityScore: '8', VulnerabilitySeverity: 'High' }),
  ]);
  await new Promise((r) => setTimeout(r, 400));
  const texts = statusesOf(node).map((s) => s.text);
  assert.equal(texts[texts.length - 1], '2 passed, 1 blocked');
});

test.describe('OtterScript preview admin route', () => {
  test.beforeEach(() =>
    helper.load(conditionNode, [
      { id: 'f1', type: 'tab' },
      { id: 'c1', z: 'f1', type: 'notifier-condition', wires: [[]] },
    ]),
  );

  test('renders a template against the sample event of the chosen type', async () => {
    const res = await helper
      .request()
      .post('/notifier-otterscript/preview')
      .send({ kind: 'template', source: '$ToJson(%(id: $VulnerabilityId, score: $VulnerabilityScore))', eventType: 'sca.new-vulnerability' })
      .expect(200);
    assert.deepEqual(res.body, { result: '{"id":"PGV-2245804","score":"7.5"}' });
  });

  test('evaluates a predicate', async () => {
    const yes = await helper
      .request()
      .post('/notifier-otterscript/preview')
      .send({ kind: 'predicate', source: '$Compare($VulnerabilityScore,>=,7.5)', eventType: 'sca.new-vulnerability' })
      .expect(200);
    assert.deepEqual(yes.body, { result: true });
    const no = await helper
      .request()
      .post('/notifier-otterscript/preview')
      .send({ kind: 'predicate', source: '$FeedName == other', eventType: 'package.added' })
      .expect(200);
    assert.deepEqual(no.body, { result: false });
  });

  test('answers errors with message, line, column, excerpt and phase', async () => {
    const compile = await helper
      .request()
      .post('/notifier-otterscript/preview')
      .send({ kind: 'template', source: 'ok\n  $Nope(1)', eventType: 'package.added' })
      .expect(200);
    assert.deepEqual(compile.body, {
      error: { message: 'Unknown function $Nope(…) (line 2, column 3)', line: 2, column: 3, excerpt: '  $Nope(1)\n  ^', phase: 'compile' },
    });
    const run = await helper
      .request()
      .post('/notifier-otterscript/preview')
      .send({ kind: 'predicate', source: '$CustomVar == true', eventType: 'package.added' })
      .expect(200);
    assert.equal(run.body.error.phase, 'run');
    assert.match(run.body.error.message, /Unknown variable \$CustomVar/);
  });

  test("evaluates the condition node's settings as the node runs them: feed filter, then the chosen mode", async () => {
    const ask = async (condition, eventType) =>
      (await helper.request().post('/notifier-otterscript/preview').send({ kind: 'condition', condition, eventType }).expect(200)).body;
    // the hidden expression does not count in another mode
    assert.deepEqual(await ask({ mode: 'package', packageName: 'MyCorp.*', expression: '$Broken(' }, 'package.promoted'), {
      result: true,
      reason: 'matched',
      checked: 'feed: internal-utils; package: MyCorp.CoolUtils; version: 3.2.0-pre.1',
    });
    assert.equal((await ask({ mode: 'package', packageName: 'Other.*' }, 'package.promoted')).result, false);
    assert.deepEqual(await ask({ mode: 'score', minScore: '8' }, 'sca.new-vulnerability'), {
      result: false,
      reason: 'condition',
      checked: 'feed: (none); VulnerabilityScore: 7.5',
    });
    assert.equal((await ask({ mode: 'score', minScore: 7 }, 'sca.new-vulnerability')).result, true);
    assert.equal((await ask({ mode: 'severity', minSeverity: 'High' }, 'sca.new-vulnerability')).result, true);
    assert.deepEqual(await ask({ mode: 'always', feeds: 'public-*' }, 'package.promoted'), {
      result: false,
      reason: 'feed',
      checked: 'feed: internal-utils',
    });
    assert.equal((await ask({ mode: 'never' }, 'package.promoted')).result, false);
    assert.equal((await ask({ mode: 'expression', expression: '$FeedName == internal-utils' }, 'package.promoted')).result, true);
    // settings errors name the property; an expression's error has its position
    assert.deepEqual((await ask({ mode: 'score', minScore: 'eleven' }, 'sca.new-vulnerability')).error.property, 'minScore');
    assert.equal((await ask({ mode: 'expression', expression: 'ok &&' }, 'package.added')).error.phase, 'compile');
    assert.equal(typeof (await ask({ mode: 'expression', expression: 'ok &&' }, 'package.added')).error.line, 'number');
    // JSONata: the editor evaluates it over the sample message the route sends once the feed filter passed
    const j = await ask({ mode: 'jsonata' }, 'package.promoted');
    assert.equal(j.msg.event.type, 'package.promoted');
    assert.equal(j.msg.payload.PackageId, 'MyCorp.CoolUtils');
    assert.equal((await ask({ mode: 'jsonata', feeds: 'nope' }, 'package.promoted')).msg, undefined);
  });

  test('an empty template with defaultTemplate previews the default', async () => {
    const res = await helper
      .request()
      .post('/notifier-otterscript/preview')
      .send({ kind: 'template', source: '', eventType: 'package.promoted', defaultTemplate: 'webhook' })
      .expect(200);
    assert.equal(res.body.usedDefault, true);
    assert.deepEqual(JSON.parse(res.body.result), {
      package: 'MyCorp.CoolUtils',
      version: '3.2.0-pre.1',
      event: 'Promoted',
      user: 'API',
      feed: 'internal-utils',
    });
  });

  test('eventType digest (HTTP): the digest variables, a foreach over @Events, and the default Slack digest', async () => {
    const post = (body) => helper.request().post('/notifier-otterscript/preview').send(body).expect(200);
    const vars = await post({ kind: 'template', source: '$GroupKey: $EventCount events, $OmittedCount not listed', eventType: 'digest' });
    assert.equal(vars.body.result, 'internal-utils/Promoted: 12 events, 2 not listed');
    const list = await post({ kind: 'template', source: '<% foreach %e in @Events { %>$(%e.PackageId) <% } %>', eventType: 'digest' });
    assert.equal(list.body.result.trim().split(' ').length, 10);
    assert.match(list.body.result, /^MyCorp\.CoolUtils MyCorp\.Logging /);
    const slack = await post({ kind: 'template', source: '', eventType: 'digest', defaultTemplate: 'slack' });
    assert.equal(slack.body.usedDefault, true);
    assert.match(slack.body.result, /^12 events in internal-utils\/Promoted\n[\s\S]*… and 2 more$/);
  });

  test('eventType digest (HTTP): the condition $EventCount >= 10 passes the sample digest', async () => {
    const res = await helper
      .request()
      .post('/notifier-otterscript/preview')
      .send({ kind: 'condition', eventType: 'digest', condition: { mode: 'expression', expression: '$EventCount >= 10' } })
      .expect(200);
    assert.deepEqual(res.body, { result: true, reason: 'matched', checked: 'feed: internal-utils; EventCount: 12' });
  });

  test('eventType digest (HTTP): an unknown variable gets the usual error answer', async () => {
    const res = await helper
      .request()
      .post('/notifier-otterscript/preview')
      .send({ kind: 'template', source: '$Nope', eventType: 'digest' })
      .expect(200);
    assert.equal(res.body.error.phase, 'run');
    assert.equal(res.body.error.line, 1);
    assert.equal(res.body.error.column, 1);
    assert.match(res.body.error.message, /Unknown variable \$Nope/);
  });

  test('kind groupKey (HTTP): the key of the sample event under a groupBy template', async () => {
    const res = await helper
      .request()
      .post('/notifier-otterscript/preview')
      .send({ kind: 'groupKey', source: '$FeedName/$WebhookEvent', eventType: 'package.promoted' })
      .expect(200);
    assert.deepEqual(res.body, { result: 'internal-utils/Promoted' });
  });

  test('malformed requests get 400 naming what is wrong', async () => {
    const cases = [
      [{ kind: 'other', source: 'x' }, /kind must be "template", "predicate", "condition" or "groupKey"/],
      [{ kind: 'condition', condition: 'mode=package' }, /condition must be an object/],
      [{ kind: 'condition', condition: { mode: ['package'] } }, /condition\.mode must be text/],
      [{ kind: 'condition', condition: { mode: 'always' }, eventType: 'package.exploded' }, /eventType must be one of/],
      [{ kind: 'template', source: 42 }, /source must be a string/],
      [{ kind: 'template', source: 'x', eventType: 'package.exploded' }, /eventType must be one of package\.added/],
      [{ kind: 'template', source: '', defaultTemplate: 'fax' }, /defaultTemplate must be one of/],
      [{ kind: 'template', source: 'x'.repeat(300 * 1024) }, /longer than 256 KiB/],
    ];
    for (const [body, re] of cases) {
      const res = await helper.request().post('/notifier-otterscript/preview').send(body).expect(400);
      assert.match(res.body.error.message, re);
    }
  });

  test('is registered once even when several nodes register it', async () => {
    const { registerPreviewRoute } = require('../../dist/nodes/shared/preview-route');
    const app = helper._httpAdmin;
    const count = () => app._router.stack.filter((l) => l.route && l.route.path === '/notifier-otterscript/preview').length;
    assert.equal(count(), 1);
    registerPreviewRoute({ httpAdmin: app, auth: { needsPermission: () => (req, res, next) => next() } });
    assert.equal(count(), 1);
  });

  test('checks the notifier-otterscript.write (running a template is not a read) permission', async () => {
    const { registerPreviewRoute, PREVIEW_PERMISSION } = require('../../dist/nodes/shared/preview-route');
    const asked = [];
    const routes = [];
    const fakeApp = { post: (path, ...handlers) => routes.push({ path, handlers }) };
    registerPreviewRoute({
      httpAdmin: fakeApp,
      auth: {
        needsPermission: (p) => {
          asked.push(p);
          return (req, res) => res.status(401).json({});
        },
      },
    });
    assert.deepEqual(asked, [PREVIEW_PERMISSION]);
    assert.equal(PREVIEW_PERMISSION, 'notifier-otterscript.write');
    assert.equal(routes.length, 1);
    assert.equal(routes[0].handlers.length, 2, 'the permission check runs before the handler');
  });
});
