'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { normalizeEvent, sampleEvent, EVENT_TYPES, EventValidationError, resolveEventName } = require('../../dist');

const { SEED: BY_TYPE } = require('../helpers/seed');

const SEED = {
  package: BY_TYPE['package.promoted'],
  noncompliant: BY_TYPE['sca.noncompliant-package'],
  vulnerability: BY_TYPE['sca.new-vulnerability'],
  build: BY_TYPE['sca.build-issues-opened'],
};

function issuesOf(fn) {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EventValidationError, `expected EventValidationError, got ${err}`);
    return err.issues;
  }
  assert.fail('expected an EventValidationError');
}

test('EVENT_TYPES lists the ten ProGet event types with code, label and category', () => {
  assert.equal(EVENT_TYPES.length, 10);
  assert.deepEqual(
    EVENT_TYPES.map((t) => t.code),
    [
      'package.added',
      'package.overwritten',
      'package.promoted',
      'package.deployed',
      'package.deleted',
      'package.purged',
      'package.status-changed',
      'sca.noncompliant-package',
      'sca.new-vulnerability',
      'sca.build-issues-opened',
    ],
  );
  assert.equal(EVENT_TYPES.filter((t) => t.category === 'sca').length, 3);
  assert.equal(EVENT_TYPES.find((t) => t.code === 'package.status-changed').label, 'Package Status Changed');
});

test('the package default body is recognized by shape and maps to ProGet variables', () => {
  const e = normalizeEvent(SEED.package);
  assert.equal(e.type, 'package.promoted');
  assert.equal(e.category, 'package');
  assert.equal(e.feed, 'internal-utils');
  assert.equal(e.vars.PackageId, 'MyCorp.CoolUtils');
  assert.equal(e.vars.PackageVersion, '3.2.0-pre.1');
  assert.equal(e.vars.UserName, 'API');
  assert.equal(e.vars.PackageEvent, 'Promoted');
  assert.equal(e.vars.WebhookEvent, 'Promoted', 'alias WebhookEvent is defined too');
});

test('the noncompliant default body becomes sca.noncompliant-package with its feed', () => {
  const e = normalizeEvent(SEED.noncompliant);
  assert.equal(e.type, 'sca.noncompliant-package');
  assert.equal(e.feed, 'internal-utils');
  assert.equal(e.vars.PackageComplianceDetails, 'Vulnerability (PGV-2358804); Package is Unlisted');
});

test('the vulnerability default body keeps @AffectedPackages a list of maps and the score a string', () => {
  const e = normalizeEvent(SEED.vulnerability);
  assert.equal(e.type, 'sca.new-vulnerability');
  assert.equal(e.feed, undefined, 'no feed unless the sender names one');
  assert.deepEqual(e.vars.AffectedPackages, [{ Name: 'nuget:Newtonsoft.Json', AffectedVersions: '< 13.0.1.' }]);
  assert.equal(e.vars.VulnerabilityScore, '7.5');
  assert.equal(typeof e.vars.VulnerabilityScore, 'string');
  const numeric = normalizeEvent({ ...SEED.vulnerability, score: 9.8, severity: undefined, feed: 'nuget-public' });
  assert.equal(numeric.vars.VulnerabilityScore, '9.8');
  assert.equal(numeric.vars.VulnerabilitySeverity, 'Critical', 'severity derived from the CVSS score when absent');
  assert.equal(numeric.feed, 'nuget-public');
});

test('the build-issues default body has no feed and both release/project aliases', () => {
  const e = normalizeEvent(SEED.build);
  assert.equal(e.type, 'sca.build-issues-opened');
  assert.equal(e.feed, undefined);
  assert.equal(e.vars.BuildReleaseNumber, 'v25-Q4');
  assert.equal(e.vars.ReleaseNumber, 'v25-Q4');
  assert.equal(e.vars.BuildProjectName, 'XAPUtil.Web');
  assert.equal(e.vars.ProjectName, 'XAPUtil.Web');
  assert.deepEqual(e.vars.BuildIssues[1], { Sequence: '4', Detail: 'Noncompliant package (MIT License)' });
});

test('flat variables accept the label, the code and the legacy lowercase name', () => {
  const base = { PackageId: 'A', PackageVersion: '1.0.0', FeedName: 'f', UserName: 'u' };
  assert.equal(normalizeEvent({ ...base, event: 'Status Changed' }).type, 'package.status-changed');
  assert.equal(normalizeEvent({ ...base, event: 'package.deployed' }).type, 'package.deployed');
  assert.equal(normalizeEvent({ ...base, event: 'added' }).type, 'package.added');
  assert.equal(normalizeEvent({ ...base, WebhookEvent: 'purged' }).type, 'package.purged');
  assert.equal(normalizeEvent({ ...base, eventType: 'Package Overwritten' }).vars.PackageEvent, 'Overwritten');
});

test('variable names are matched case-insensitively and sigils are dropped', () => {
  const e = normalizeEvent({ event: 'Deleted', $packageid: 'A', packageVERSION: '2', feedname: 'f', CustomThing: 'x' });
  assert.equal(e.vars.PackageId, 'A');
  assert.equal(e.vars.PackageVersion, '2');
  assert.equal(e.vars.CustomThing, 'x', 'unknown variables are kept, not dropped');
});

test('an explicit event type wins over the shape of the body', () => {
  const e = normalizeEvent(SEED.package, { eventType: 'package.deleted' });
  assert.equal(e.type, 'package.deleted');
  assert.equal(e.vars.PackageEvent, 'Deleted');
});

test('a normalized event is accepted again and keeps its id and time', () => {
  const first = normalizeEvent(SEED.package);
  const again = normalizeEvent(JSON.parse(JSON.stringify(first)));
  assert.equal(again.id, first.id);
  assert.equal(again.occurredAt, first.occurredAt);
  assert.deepEqual(again.vars, first.vars);
});

test('sampleEvent fills every type with the seed example values', () => {
  for (const t of EVENT_TYPES) {
    const e = sampleEvent(t.code);
    assert.equal(e.type, t.code);
    assert.equal(e.source, 'test');
    for (const v of t.variables) assert.notEqual(e.vars[v], undefined, `${t.code} defines ${v}`);
    if (t.feedBound === 'yes') assert.equal(e.feed, 'internal-utils');
  }
  assert.equal(sampleEvent('package.promoted').vars.PackageEvent, 'Promoted');
  assert.throws(() => sampleEvent('package.pulled'), EventValidationError);
});

test('errors name every problem with its path', () => {
  const issues = issuesOf(() => normalizeEvent({ packages: [{ AffectedVersions: '1' }, 'x'], vulnerabilityId: '', score: 'high', severity: 'Dire' }));
  const paths = issues.map((i) => i.path).sort();
  assert.deepEqual(paths, ['packages[0].Name', 'packages[1]', 'score', 'severity', 'vulnerabilityId']);
  assert.match(issues.find((i) => i.path === 'severity').message, /None, Low, Medium, High, Critical/);
});

test('bad inputs are refused with a message that says what is wrong', () => {
  const cases = [
    [[], /expected a JSON object, got a JSON array/],
    [null, /got null/],
    ['text', /got a string/],
    [{}, /no event type/],
    [{ event: 'Pulled', PackageId: 'A' }, /unknown event type "Pulled"/],
    [{ event: 42 }, /event type must be a string/],
    [{ event: 'Promoted', PackageVersion: '1', FeedName: 'f' }, /PackageId: is required/],
    [{ event: 'Promoted', PackageId: 'A', PackageVersion: '1', FeedName: { x: '1' } }, /FeedName/],
    [{ event: 'Promoted', PackageId: 'A', packageid: 'B', PackageVersion: '1', FeedName: 'f' }, /given twice/],
    [{ event: 'Promoted', PackageId: 'A', PackageVersion: '1', FeedName: 'f', Extra: null }, /Extra: must be a string, a list or a map/],
  ];
  for (const [input, pattern] of cases) {
    assert.throws(
      () => normalizeEvent(input),
      (err) => err instanceof EventValidationError && pattern.test(err.message),
      JSON.stringify(input),
    );
  }
});

test('deep nesting is refused without a stack overflow', () => {
  let deep = 'x';
  for (let i = 0; i < 100000; i++) deep = [deep];
  assert.throws(() => normalizeEvent({ event: 'Promoted', PackageId: 'A', PackageVersion: '1', FeedName: 'f', Deep: deep }), /nested deeper than/);
});

test('resolveEventName knows codes, labels and legacy names and nothing else', () => {
  assert.equal(resolveEventName('New Vulnerability Detected'), 'sca.new-vulnerability');
  assert.equal(resolveEventName('Issues Opened on Build'), 'sca.build-issues-opened');
  assert.equal(resolveEventName('promoted'), 'package.promoted');
  assert.equal(resolveEventName('pulled'), undefined);
});
