'use strict';
// Conditions core: wildcard matching, the feed filter (ProGet's "Run on feed", extended to several
// feeds and patterns), and the "run conditionally" modes.
const test = require('node:test');
const assert = require('node:assert/strict');
const {
  compileCondition,
  evaluateCondition,
  parseFeedFilter,
  matchesWildcard,
  wildcardToRegExp,
  packageNamesOf,
  describeEventProblem,
  ConditionConfigError,
} = require('../../dist/core/conditions');
const { sampleEvent, normalizeEvent } = require('../../dist/core/events');
const { OtterScriptError } = require('../../dist/core/otterscript');

const pkg = (over = {}) => {
  const e = sampleEvent('package.added');
  return { ...e, ...over, vars: { ...e.vars, ...(over.vars || {}) } };
};
const vuln = (vars = {}, feed) =>
  normalizeEvent({ event: 'sca.new-vulnerability', ...sampleEvent('sca.new-vulnerability').vars, ...vars, ...(feed ? { FeedName: feed } : {}) });
const buildEvent = () => sampleEvent('sca.build-issues-opened');

test.describe('wildcards', () => {
  test('* is any run of characters, ? one character, the rest literal, whole value', () => {
    assert.equal(matchesWildcard('MyCorp.*', 'MyCorp.CoolUtils'), true);
    assert.equal(matchesWildcard('MyCorp.*', 'MyCorp.'), true);
    assert.equal(matchesWildcard('MyCorp.*', 'MyCorpX'), false, 'the dot is literal');
    assert.equal(matchesWildcard('MyCorp.*', 'xMyCorp.a'), false, 'anchored at the start');
    assert.equal(matchesWildcard('v?.0', 'v1.0'), true);
    assert.equal(matchesWildcard('v?.0', 'v10.0'), false);
    assert.equal(matchesWildcard('a(b)[c]+$^|{1}', 'a(b)[c]+$^|{1}'), true, 'regex characters are literal');
    assert.equal(matchesWildcard('*', ''), true);
  });

  test('case-insensitive for names, case-sensitive on request', () => {
    assert.equal(matchesWildcard('newtonsoft*', 'Newtonsoft.Json'), true);
    assert.equal(matchesWildcard('3.0.0-BETA', '3.0.0-beta', false), false);
    assert.ok(wildcardToRegExp('a**b', true).test('a-b'));
  });
});

test.describe('feed filter', () => {
  test('empty means all feeds, and events without a feed pass', () => {
    const f = parseFeedFilter('');
    assert.deepEqual(f.patterns, []);
    assert.equal(f.passes({ feed: 'x' }), true);
    assert.equal(f.passes({}), true);
    assert.equal(parseFeedFilter(' , ').passes({}), true);
  });

  test('comma list with wildcards, trimmed, case-insensitive', () => {
    const f = parseFeedFilter(' internal-* , Public-NuGet,t?st ');
    assert.deepEqual(f.patterns, ['internal-*', 'Public-NuGet', 't?st']);
    assert.equal(f.passes({ feed: 'internal-utils' }), true);
    assert.equal(f.passes({ feed: 'INTERNAL-utils' }), true);
    assert.equal(f.passes({ feed: 'public-nuget' }), true);
    assert.equal(f.passes({ feed: 'test' }), true);
    assert.equal(f.passes({ feed: 'toast' }), false);
    assert.equal(f.passes({ feed: 'external-utils' }), false);
  });

  test('an event without a feed never passes a feed filter, even *', () => {
    assert.equal(parseFeedFilter('*').passes({}), false);
    assert.equal(parseFeedFilter('*').passes({ feed: '' }), false);
    const c = compileCondition({ feeds: '*', mode: 'always' });
    assert.deepEqual(evaluateCondition(c, buildEvent()), { pass: false, reason: 'feed' });
  });

  test('the feed filter runs before the mode', () => {
    const c = compileCondition({ feeds: 'other', mode: 'expression', expression: '$Undefined == x' });
    assert.deepEqual(evaluateCondition(c, pkg()), { pass: false, reason: 'feed' }, 'the failing expression is never reached');
  });
});

test.describe('modes', () => {
  test('always and never (the default is always)', () => {
    assert.equal(evaluateCondition(compileCondition({}), pkg()).pass, true);
    assert.equal(evaluateCondition(compileCondition({ mode: 'always' }), buildEvent()).pass, true);
    assert.deepEqual(evaluateCondition(compileCondition({ mode: 'never' }), pkg()), { pass: false, reason: 'condition' });
  });

  test('package: name wildcard case-insensitive, version wildcard, both must match', () => {
    const name = compileCondition({ mode: 'package', packageName: 'mycorp.*' });
    assert.equal(evaluateCondition(name, pkg()).pass, true);
    assert.equal(evaluateCondition(name, pkg({ vars: { PackageId: 'Other', PackageName: 'Other' } })).pass, false);
    const both = compileCondition({ mode: 'package', packageName: 'MyCorp.*', packageVersion: '3.*' });
    assert.equal(evaluateCondition(both, pkg()).pass, true);
    assert.equal(evaluateCondition(both, pkg({ vars: { PackageVersion: '4.0.0' } })).pass, false);
    assert.equal(evaluateCondition(both, pkg({ vars: { PackageId: 'x', PackageName: 'x' } })).pass, false);
    const version = compileCondition({ mode: 'package', packageVersion: '*-pre*' });
    assert.equal(evaluateCondition(version, pkg()).pass, true);
    assert.equal(evaluateCondition(version, pkg({ vars: { PackageVersion: '3.2.0' } })).pass, false);
    assert.equal(
      evaluateCondition(compileCondition({ mode: 'package', packageVersion: '*-PRE*' }), pkg()).pass,
      false,
      'versions are case-sensitive',
    );
  });

  test('package: a vulnerability matches through its affected packages', () => {
    const c = compileCondition({ mode: 'package', packageName: 'Newtonsoft.*' });
    assert.deepEqual(packageNamesOf(vuln()).sort(), ['Newtonsoft.Json', 'nuget:Newtonsoft.Json'].sort());
    assert.equal(evaluateCondition(c, vuln()).pass, true);
    assert.equal(evaluateCondition(compileCondition({ mode: 'package', packageName: 'nuget:newtonsoft.json' }), vuln()).pass, true);
    assert.equal(evaluateCondition(compileCondition({ mode: 'package', packageName: 'Other*' }), vuln()).pass, false);
  });

  test('score: >= minScore as numbers; events without a score do not match', () => {
    const c = compileCondition({ mode: 'score', minScore: 7.5 });
    assert.equal(evaluateCondition(c, vuln()).pass, true, '7.5 >= 7.5');
    assert.equal(evaluateCondition(c, vuln({ VulnerabilityScore: '10' })).pass, true, '10 >= 7.5 (not as strings)');
    assert.equal(evaluateCondition(c, vuln({ VulnerabilityScore: '7.4' })).pass, false);
    assert.equal(evaluateCondition(c, pkg()).pass, false, 'a package event has no score');
    assert.equal(evaluateCondition(compileCondition({ mode: 'score', minScore: '0' }), pkg()).pass, false);
    assert.equal(evaluateCondition(compileCondition({ mode: 'score', minScore: '9.0' }), vuln()).pass, false);
  });

  test('severity: None < Low < Medium < High < Critical, >= minSeverity, case-insensitive', () => {
    const high = compileCondition({ mode: 'severity', minSeverity: 'high' });
    assert.equal(high.label, 'severity >= High');
    assert.equal(evaluateCondition(high, vuln()).pass, true, 'High >= High');
    assert.equal(evaluateCondition(high, vuln({ VulnerabilitySeverity: 'Critical', VulnerabilityScore: '9.8' })).pass, true);
    assert.equal(evaluateCondition(high, vuln({ VulnerabilitySeverity: 'Medium', VulnerabilityScore: '5' })).pass, false);
    assert.equal(evaluateCondition(compileCondition({ mode: 'severity', minSeverity: 'None' }), vuln({ VulnerabilitySeverity: 'low' })).pass, true);
    assert.equal(evaluateCondition(high, pkg()).pass, false, 'events without a severity do not match');
  });

  test('expression: an OtterScript predicate over the event variables', () => {
    const c = compileCondition({ mode: 'expression', expression: '$Compare($VulnerabilityScore,>=,7.5) && $FeedName == internal-utils' });
    assert.equal(evaluateCondition(c, vuln({}, 'internal-utils')).pass, true);
    assert.equal(evaluateCondition(c, vuln({}, 'public')).pass, false);
    assert.ok(c.predicate);
  });

  test('expression: an undefined variable at run time throws OtterScriptError', () => {
    const c = compileCondition({ mode: 'expression', expression: '$CustomVar == true' });
    assert.throws(
      () => evaluateCondition(c, pkg()),
      (err) => err instanceof OtterScriptError && /Unknown variable \$CustomVar/.test(err.message),
    );
  });

  test('jsonata: only the feed filter runs in the core', () => {
    const c = compileCondition({ mode: 'jsonata', feeds: 'internal-*' });
    assert.equal(c.test, undefined);
    assert.equal(evaluateCondition(c, pkg()).pass, true);
    assert.equal(evaluateCondition(c, buildEvent()).pass, false);
  });
});

test.describe('configuration errors and labels', () => {
  test('bad configurations name the property', () => {
    const bad = [
      [{ mode: 'sometimes' }, 'mode', /unknown mode "sometimes"/],
      [{ mode: 'package' }, 'packageName', /package name or version/],
      [{ mode: 'score', minScore: '' }, 'minScore', /number from 0 to 10/],
      [{ mode: 'score', minScore: 'high' }, 'minScore', /number from 0 to 10/],
      [{ mode: 'score', minScore: 11 }, 'minScore', /number from 0 to 10/],
      [{ mode: 'severity', minSeverity: 'Severe' }, 'minSeverity', /None, Low, Medium, High, Critical/],
      [{ mode: 'expression', expression: '  ' }, 'expression', /write an OtterScript condition/],
      [{ feeds: 42 }, 'feeds', /must be text/],
    ];
    for (const [config, property, re] of bad) {
      assert.throws(
        () => compileCondition(config),
        (err) => err instanceof ConditionConfigError && err.property === property && re.test(err.message),
        JSON.stringify(config),
      );
    }
  });

  test('an expression that does not compile is an OtterScriptError with its position', () => {
    assert.throws(
      () => compileCondition({ mode: 'expression', expression: '$Compare($x, >=' }),
      (err) => err instanceof OtterScriptError && err.line === 1 && err.column > 1,
    );
  });

  test('labels describe the condition', () => {
    assert.equal(compileCondition({ mode: 'score', minScore: 7.5 }).label, 'score >= 7.5');
    assert.equal(compileCondition({ feeds: 'internal-*' }).label, 'feed internal-*');
    assert.equal(compileCondition({ feeds: 'a, b', mode: 'never' }).label, 'feed a, b; never');
    assert.equal(compileCondition({ mode: 'expression', expression: 'true' }).label, 'expression');
    assert.equal(compileCondition({ mode: 'package', packageName: 'MyCorp.*' }).label, 'package MyCorp.*');
    assert.equal(compileCondition({}).label, 'always');
  });

  test('describeEventProblem says what is wrong with msg.event', () => {
    assert.match(describeEventProblem(undefined), /msg\.event is missing/);
    assert.match(describeEventProblem('x'), /must be an object/);
    assert.match(describeEventProblem({ vars: {} }), /msg\.event\.type is missing/);
    assert.match(describeEventProblem({ type: 'package.added', vars: [] }), /vars must be an object/);
    assert.equal(describeEventProblem(pkg()), undefined);
  });
});
