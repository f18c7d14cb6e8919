'use strict';
// The five other sources of notifier-event (GitHub, Dependency-Track, Nexus, Artifactory, Harbor): every
// vendor fixture (test/fixtures/sources, each from the vendor's documentation or a public example) maps to
// its stated type, feed and variables, whether the source is named or recognized (`auto`, by shape alone
// or with the vendor's headers); unknown shapes are refused with the known sources listed; ProGet's bodies
// are read as before; default templates and condition modes work on every mapped event.
const test = require('node:test');
const assert = require('node:assert/strict');
const { eventFromBody, UnknownSourceError, KNOWN_SOURCES, sourceOfShape } = require('../../dist/core/events/sources');
const { EventValidationError, normalizeEvent, eventTypeInfo } = require('../../dist/core/events');
const { defaultTemplates, compileTemplate } = require('../../dist');
const { compileCondition, evaluateCondition } = require('../../dist/core/conditions');
const { eventFacts } = require('../../dist/core/channels/facts');
const { summarizeEvent } = require('../../dist/core/dispatch');
const { FIXTURES } = require('../fixtures/sources');
const { SEED } = require('../helpers/seed');

const body = (f) => JSON.parse(f.raw.toString('utf8'));

function assertMapped(event, f, how) {
  const where = `${f.file} (${how})`;
  assert.equal(event.type, f.type, `${where}: type`);
  assert.equal(event.source, f.source, `${where}: msg.event.source`);
  assert.equal(event.feed, f.feed, `${where}: feed`);
  assert.equal(event.vars.FeedName ?? undefined, f.feed ?? (event.vars.FeedName === '' ? '' : undefined), `${where}: $FeedName is the feed`);
  for (const [k, v] of Object.entries(f.vars)) assert.deepEqual(event.vars[k], v, `${where}: $${k}`);
  assert.equal(event.vars.SourceName.length > 0, true, `${where}: $SourceName`);
  assert.equal(typeof event.vars.SourceEvent, 'string', `${where}: $SourceEvent`);
  if (f.id) assert.equal(event.id, f.id, `${where}: the body's id is the event id`);
}

test('there are at least three fixtures per source, each naming where it comes from', () => {
  for (const s of ['github', 'dependency-track', 'nexus', 'artifactory', 'harbor']) {
    const mine = FIXTURES.filter((f) => f.source === s);
    assert.ok(mine.length >= 3, `${s}: ${mine.length} fixtures`);
    for (const f of mine) assert.match(f.from, /^https:\/\//, `${f.file}: a source URL`);
  }
});

test('every fixture maps to its type, feed and variables: source named, auto with the vendor headers, auto by shape alone', () => {
  for (const f of FIXTURES) {
    assertMapped(eventFromBody(body(f), { source: f.source, headers: f.headers, via: 'http' }), f, `source ${f.source}`);
    assertMapped(eventFromBody(body(f), { source: 'auto', headers: f.headers, via: 'http' }), f, 'auto with headers');
    assertMapped(eventFromBody(body(f), { headers: {}, via: 'http' }), f, 'auto by shape');
    assert.equal(sourceOfShape(body(f)), f.source, `${f.file}: recognized by shape`);
  }
});

test('the types with ProGet equivalents are used where the meaning is the same, and every other event passes as <source>.<event>', () => {
  const byType = (t) => FIXTURES.filter((f) => f.type === t).map((f) => f.source);
  assert.deepEqual(new Set(byType('package.added')), new Set(['github', 'nexus', 'artifactory', 'harbor']));
  assert.deepEqual(new Set(byType('package.deleted')), new Set(['artifactory', 'harbor']));
  assert.deepEqual(new Set(byType('sca.new-vulnerability')), new Set(['github', 'dependency-track']));
  assert.deepEqual(byType('sca.noncompliant-package'), ['dependency-track']);
  for (const f of FIXTURES.filter((x) => !x.type.includes('package.') && !x.type.startsWith('sca.'))) {
    assert.ok(f.type.startsWith(`${f.source}.`), f.type);
    const info = eventTypeInfo(f.type);
    assert.equal(info.category, 'other');
    const event = eventFromBody(body(f), { source: f.source, headers: f.headers });
    assert.equal(event.category, 'other');
    assert.ok(event.label.startsWith(event.vars.SourceName), event.label);
  }
});

test('a Nexus component DELETED (the CREATED example with its action changed) is package.deleted; UPDATED passes as nexus.component.updated', () => {
  const created = body(FIXTURES.find((f) => f.file === 'nexus/component-created.json'));
  const headers = { 'x-nexus-webhook-id': 'rm:repository:component' };
  assert.equal(eventFromBody({ ...created, action: 'DELETED' }, { headers }).type, 'package.deleted');
  assert.equal(eventFromBody({ ...created, action: 'UPDATED' }, { headers }).type, 'nexus.component.updated');
});

test('auto refuses a body no source recognizes with the known sources listed; a named source says what its body lacks', () => {
  for (const unknown of [{}, { hello: 'world' }, { type: 'SOMETHING', data: {} }, { notification: 'x' }]) {
    let err;
    try {
      eventFromBody(unknown, { via: 'http' });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof UnknownSourceError, `refused: ${JSON.stringify(unknown)}`);
    assert.deepEqual([...err.sources], ['proget', 'github', 'dependency-track', 'nexus', 'artifactory', 'harbor']);
    assert.deepEqual([...KNOWN_SOURCES], [...err.sources]);
    assert.match(err.message, /not an event of any known source \(proget, github, dependency-track, nexus, artifactory, harbor\)/);
  }
  const gh = body(FIXTURES.find((f) => f.file === 'github/dependabot_alert-created.json'));
  assert.throws(
    () => eventFromBody(gh, { source: 'nexus' }),
    (e) => e instanceof EventValidationError && !(e instanceof UnknownSourceError) && /Nexus/.test(e.message),
  );
  assert.throws(
    () => eventFromBody({ notification: { group: 'NEW_VULNERABILITY', scope: 'PORTFOLIO', subject: {} } }, { source: 'dependency-track' }),
    (e) => e instanceof EventValidationError && e.issues.some((i) => i.path === 'component' && /NEW_VULNERABILITY/.test(i.message)),
  );
  assert.throws(
    () => eventFromBody({ event: { domain: 'artifact', event_type: 'deployed', data: '{not json' } }, { source: 'artifactory' }),
    (e) => e instanceof EventValidationError && e.issues[0].path === 'event.data' && /not valid JSON/.test(e.message),
  );
  assert.throws(
    () => eventFromBody(gh, { source: 'proget' }),
    (e) => e instanceof EventValidationError && !(e instanceof UnknownSourceError),
  );
});

test("ProGet's bodies read exactly as before under auto (and a GitHub-style header does not change that)", () => {
  for (const [type, b] of Object.entries(SEED)) {
    for (const headers of [{}, { 'x-github-event': 'push' }, { 'x-jfrog-event-auth': 'x' }]) {
      const viaAuto = eventFromBody(b, { headers, via: 'http', now: () => new Date(0) });
      const before = normalizeEvent(b, { source: 'http', now: () => new Date(0) });
      assert.equal(viaAuto.type, type);
      assert.equal(viaAuto.source, 'http');
      assert.equal(viaAuto.via, 'http');
      assert.deepEqual(viaAuto.vars, before.vars);
      assert.equal(viaAuto.feed, before.feed);
    }
  }
  const explicit = eventFromBody({ PackageId: 'A', PackageVersion: '1', FeedName: 'f' }, { eventType: 'Promoted' });
  assert.equal(explicit.type, 'package.promoted');
  assert.equal(explicit.source, 'input');
});

test('a header names the source of a body with no known shape (any GitHub event), as <source>.<event>', () => {
  const push = {
    ref: 'refs/heads/main',
    repository: { full_name: 'octo/repo', html_url: 'https://github.com/octo/repo' },
    sender: { login: 'octo' },
  };
  const e = eventFromBody(push, { headers: { 'x-github-event': 'push' } });
  assert.equal(e.type, 'github.push');
  assert.equal(e.feed, 'octo/repo');
  assert.equal(e.vars.UserName, 'octo');
  assert.throws(() => eventFromBody(push, {}), UnknownSourceError);
});

test('default templates (webhook, email, Slack, Teams), facts and the summary render for every mapped event', () => {
  for (const f of FIXTURES) {
    const event = eventFromBody(body(f), { source: f.source, headers: f.headers });
    const t = defaultTemplates(event.type);
    const parts = {
      webhook: t.webhook,
      emailSubject: t.emailSubject,
      emailBody: t.emailBody,
      slack: t.slack,
      teamsTitle: t.teams.title,
      teamsText: t.teams.text,
    };
    const out = {};
    for (const [k, src] of Object.entries(parts)) out[k] = compileTemplate(src)(event.vars);
    JSON.parse(out.webhook);
    const key = event.vars.VulnerabilityId || event.vars.PackageId || event.vars.Summary;
    assert.ok(`${out.emailSubject}\n${out.emailBody}\n${out.slack}`.includes(key), `${f.file}: "${key}" in ${JSON.stringify(out)}`);
    if (event.category === 'other') {
      assert.ok(out.emailSubject.startsWith(event.vars.SourceName), out.emailSubject);
      assert.equal(JSON.parse(out.webhook).event, event.vars.SourceEvent);
    }
    assert.ok(eventFacts(event).length > 0, `${f.file}: facts`);
    assert.ok(summarizeEvent(event).length > 5, `${f.file}: summary`);
  }
});

test('the condition modes work on every mapped event: feed = repository, package name and version, score, severity', () => {
  for (const f of FIXTURES) {
    const event = eventFromBody(body(f), { source: f.source, headers: f.headers });
    const pass = (cfg) => evaluateCondition(compileCondition(cfg), event).pass;
    if (f.feed) {
      assert.equal(pass({ feeds: f.feed, mode: 'always' }), true, `${f.file}: feed filter ${f.feed}`);
      assert.equal(pass({ feeds: 'some-other-feed', mode: 'always' }), false, `${f.file}: other feed`);
    }
    const name = event.vars.PackageId.split(',')[0];
    if (name) {
      assert.equal(pass({ mode: 'package', packageName: name }), true, `${f.file}: package ${name}`);
      assert.equal(pass({ mode: 'package', packageName: 'no-such-package' }), false, `${f.file}: other package`);
    }
    if (event.vars.PackageVersion) {
      assert.equal(pass({ mode: 'package', packageVersion: event.vars.PackageVersion }), true, `${f.file}: version`);
    }
    const score = event.vars.VulnerabilityScore;
    if (score) {
      assert.equal(pass({ mode: 'score', minScore: score }), true, `${f.file}: score >= ${score}`);
      assert.equal(pass({ mode: 'score', minScore: '9.9' }), Number(score) >= 9.9, `${f.file}: score >= 9.9`);
    }
    const severity = event.vars.VulnerabilitySeverity;
    if (severity) {
      assert.equal(pass({ mode: 'severity', minSeverity: severity }), true, `${f.file}: severity >= ${severity}`);
      assert.equal(pass({ mode: 'severity', minSeverity: 'Critical' }), severity === 'Critical', `${f.file}: severity >= Critical`);
    }
    assert.equal(pass({ mode: 'expression', expression: `$SourceName == "${event.vars.SourceName}"` }), true, `${f.file}: expression`);
  }
  const scored = FIXTURES.filter((f) => eventFromBody(body(f), { source: f.source, headers: f.headers }).vars.VulnerabilityScore);
  assert.ok(scored.length >= 4, 'scores from GitHub and Dependency-Track');
});

test('a mapped event keeps its source through a second normalization (the output nodes and redelivery re-check msg.event)', () => {
  const f = FIXTURES.find((x) => x.file === 'harbor/pull-artifact.json');
  const event = structuredClone(eventFromBody(body(f), { via: 'http' }));
  const again = normalizeEvent(event, { source: event.source, via: event.via });
  assert.equal(again.type, 'harbor.pull_artifact');
  assert.equal(again.source, 'harbor');
  assert.equal(again.via, 'http');
  assert.deepEqual(again.vars, event.vars);
});
