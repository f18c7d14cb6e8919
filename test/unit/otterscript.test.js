'use strict';
// OtterScript engine: ProGet's default contents and conditions against the sample events, the
// grammar (variables, literals, indexing, strings, escapes, tags, predicates), functions with their
// .NET behaviour, and errors with positions.
const test = require('node:test');
const assert = require('node:assert/strict');
const api = require('../../dist/index.js');
const { progetExample } = require('../helpers/seed');
const os = require('../../dist/core/otterscript');
const { sampleEvent } = require('../../dist/core/events');

const { compileTemplate, renderTemplate, compilePredicate, evaluatePredicate, defaultTemplates, OtterScriptError } = api;

const pkg = () => sampleEvent('package.promoted').vars;
const vuln = () => sampleEvent('sca.new-vulnerability').vars;
const nonc = () => sampleEvent('sca.noncompliant-package').vars;
const build = () => sampleEvent('sca.build-issues-opened').vars;

/** Asserts that fn throws an OtterScriptError whose message matches re, at line:column when given. */
function throwsOtter(fn, re, line, column) {
  let caught;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, 'expected an OtterScriptError, nothing was thrown');
  assert.ok(caught instanceof OtterScriptError, `expected an OtterScriptError, got ${caught && caught.name}: ${caught && caught.message}`);
  assert.match(caught.message, re);
  if (line !== undefined) assert.equal(caught.line, line, `line of: ${caught.message}`);
  if (column !== undefined) assert.equal(caught.column, column, `column of: ${caught.message}`);
  return caught;
}

test.describe('default webhook contents render to the seed example outputs', () => {
  test('package event body (with $PackageEvent)', () => {
    const out = renderTemplate(defaultTemplates('package.promoted').webhook, pkg());
    assert.deepEqual(JSON.parse(out), progetExample('package.promoted'));
    assert.match(defaultTemplates('package.deleted').webhook, /event: \$PackageEvent/);
  });

  test('the seed text with $WebhookEvent renders the same', () => {
    const seed =
      '$ToJson(%(\n    package: $PackageId,\n    version: $PackageVersion,\n    event: $WebhookEvent,\n    user: $UserName,\n    feed: $FeedName\n))  ';
    assert.deepEqual(JSON.parse(renderTemplate(seed, pkg())), JSON.parse(renderTemplate(defaultTemplates('package.promoted').webhook, pkg())));
  });

  test('noncompliant package body', () => {
    assert.deepEqual(
      JSON.parse(renderTemplate(defaultTemplates('sca.noncompliant-package').webhook, nonc())),
      progetExample('sca.noncompliant-package'),
    );
  });

  test('new vulnerability body keeps the score a string', () => {
    const out = renderTemplate(defaultTemplates('sca.new-vulnerability').webhook, vuln());
    assert.deepEqual(JSON.parse(out), progetExample('sca.new-vulnerability'));
    assert.match(out, /"score":"7\.5"/);
  });

  test('issues opened on build body', () => {
    assert.deepEqual(
      JSON.parse(renderTemplate(defaultTemplates('sca.build-issues-opened').webhook, build())),
      progetExample('sca.build-issues-opened'),
    );
  });

  test('$ToJson escapes like .NET (non-ASCII and HTML-sensitive characters as \\u escapes)', () => {
    const out = renderTemplate('$ToJson(%(a: $x))', { x: 'é<>&\'+`"\\\n\u0001' });
    assert.equal(out, '{"a":"\\u00E9\\u003C\\u003E\\u0026\\u0027\\u002B\\u0060\\u0022\\\\\\n\\u0001"}');
    assert.deepEqual(JSON.parse(out), { a: 'é<>&\'+`"\\\n\u0001' });
  });
});

test.describe("default email subjects and bodies: ProGet's, reworded to read well (test/unit/default-texts.test.js has every channel and type)", () => {
  const render = (code, which) => renderTemplate(defaultTemplates(code)[which], sampleEvent(code).vars);

  test('package events: the verb and preposition of the event, the user when there is one, a link when there is a base URL', () => {
    for (const [code, verb] of [
      ['package.added', 'added to'],
      ['package.promoted', 'promoted to'],
      ['package.deleted', 'deleted from'],
    ]) {
      const line = `MyCorp.CoolUtils 3.2.0-pre.1 ${verb} internal-utils by API`;
      assert.equal(render(code, 'emailSubject'), line);
      assert.match(render(code, 'emailBody'), new RegExp(`^${line}\n\n(Package|Feed): https://proget\\.example\\.com/feeds/internal-utils`));
    }
    const vars = { ...sampleEvent('package.added').vars, UserName: '', WebBaseUrl: '' };
    assert.equal(renderTemplate(defaultTemplates('package.added').emailBody, vars), 'MyCorp.CoolUtils 3.2.0-pre.1 added to internal-utils');
  });

  test('noncompliant package', () => {
    assert.equal(render('sca.noncompliant-package', 'emailSubject'), 'MyCorp.CoolUtils 3.2.0-pre.1 is Noncompliant in internal-utils');
    assert.equal(
      render('sca.noncompliant-package', 'emailBody'),
      'MyCorp.CoolUtils 3.2.0-pre.1 is Noncompliant in internal-utils.\n\nReason: Vulnerability (PGV-2358804); Package is Unlisted\n\n' +
        'Package: https://proget.example.com/feeds/internal-utils/MyCorp.CoolUtils/3.2.0-pre.1',
    );
  });

  test('new vulnerability: foreach over @AffectedPackages', () => {
    const t = defaultTemplates('sca.new-vulnerability');
    assert.match(t.emailBody, /<% foreach %p in @AffectedPackages \{ %>\n {2}\* \$\(%p\.Name\) \$\(%p\.AffectedVersions\)\n<% \} %>/);
    const vars = { ...vuln(), PackageId: 'Newtonsoft.Json', PackageVersion: '12.0.1' };
    assert.equal(renderTemplate(t.emailSubject, vars), 'Vulnerability PGV-2245804 in Newtonsoft.Json 12.0.1');
    assert.equal(renderTemplate(t.emailSubject, { ...vars, PackageVersion: '' }), 'Vulnerability PGV-2245804 in Newtonsoft.Json');
    vars.AffectedPackages = [
      { Name: 'nuget:Newtonsoft.Json', AffectedVersions: '< 13.0.1.' },
      { Name: 'nuget:Other', AffectedVersions: '[1.0,2.0)' },
    ];
    assert.equal(
      renderTemplate(t.emailBody, vars),
      'A new vulnerability has been published: PGV-2245804, Improper Handling of Exceptional Conditions in Newtonsoft.Json\n\n' +
        'Affected packages:\n\n' +
        '  * nuget:Newtonsoft.Json < 13.0.1.\n' +
        '  * nuget:Other [1.0,2.0)\n',
    );
  });

  test('issues opened on build: foreach over @BuildIssues and the issues link', () => {
    assert.equal(render('sca.build-issues-opened', 'emailSubject'), 'Issues detected in XAPUtil.Web 25.4.2');
    assert.equal(
      render('sca.build-issues-opened', 'emailBody'),
      'Issues were detected in XAPUtil.Web 25.4.2\n\n' +
        ' * 1 Noncompliant package (PGV-892418)\n' +
        ' * 4 Noncompliant package (MIT License)\n\n' +
        'To view issues, see https://proget.example.com/projects/build/issues?projectBuildId=1042&resolved=Unresolved',
    );
  });

  test('the one-line loop of the reference renders each item after the other', () => {
    const src = 'Affected packages:<% foreach %p in @AffectedPackages { %>  * $(%p.Name) $(%p.AffectedVersions)<% } %>';
    assert.equal(renderTemplate(src, vuln()), 'Affected packages:  * nuget:Newtonsoft.Json < 13.0.1.');
  });

  test('slack and teams defaults exist for every event type and render against its sample', () => {
    for (const t of api.EVENT_TYPES) {
      const d = defaultTemplates(t.code);
      const vars = sampleEvent(t.code).vars;
      for (const src of [d.slack, d.teams.title, d.teams.text]) {
        const out = renderTemplate(src, vars);
        assert.ok(out.length > 10, `${t.code}: ${src} rendered "${out}"`);
        assert.doesNotMatch(out, /\$[A-Za-z]/, `${t.code}: unexpanded variable in "${out}"`);
      }
    }
  });

  test('defaultTemplates refuses an unknown event type naming the valid codes', () => {
    assert.throws(() => defaultTemplates('package.exploded'), /Unknown event type "package.exploded".*package\.added/);
  });
});

test.describe('ProGet documented predicates', () => {
  test('$Compare($VulnerabilityScore,>=,7.5) compares as numbers', () => {
    assert.equal(evaluatePredicate('$Compare($VulnerabilityScore,>=,7.5)', vuln()), true);
    assert.equal(evaluatePredicate('$Compare($VulnerabilityScore,>=,7.5)', { ...vuln(), VulnerabilityScore: '7.4' }), false);
    assert.equal(evaluatePredicate('$Compare($VulnerabilityScore,>=,7.5)', { ...vuln(), VulnerabilityScore: '10.0' }), true);
    // Inedo's idiom (BuildMaster/Otter docs): booleans render as `true`/`false`, so `== true` holds
    assert.equal(evaluatePredicate('$Compare($VulnerabilityScore, >=, 7.5) == true', vuln()), true);
    assert.equal(evaluatePredicate('$Compare($VulnerabilityScore, >=, 7.5) == false', vuln()), false);
    assert.equal(evaluatePredicate('$Compare($VulnerabilityScore, >=, 7.5) == True', vuln()), false, '== stays case-sensitive');
    assert.equal(
      evaluatePredicate('$Compare($VulnerabilityScore, <, $x) == true', { ...vuln(), x: '8' }),
      true,
      'the general (not inlined) call too',
    );
    assert.equal(evaluatePredicate('$MatchesRegex($PackageId, ^MyCorp) == true', pkg()), true);
  });

  test('$MatchesRegex(…) && $MatchesRegex(…) as the Conditions tab generates it', () => {
    const src = '$MatchesRegex($PackageName, "^MyPackage\\.*$") && $MatchesRegex($PackageVersion, "^3\\.0\\.*$")';
    assert.equal(evaluatePredicate(src, { PackageName: 'MyPackage', PackageVersion: '3.0' }), true);
    assert.equal(evaluatePredicate(src, { PackageName: 'MyPackage...', PackageVersion: '3.0..' }), true);
    assert.equal(
      evaluatePredicate(src, { PackageName: 'MyPackage', PackageVersion: '3.0.1' }),
      false,
      'the generated \\.* is lossy: 3.0.1 does not match',
    );
    assert.equal(evaluatePredicate(src, { PackageName: 'MyPackage.Core', PackageVersion: '3.0.1' }), false, '\\.* means dots only');
    assert.equal(evaluatePredicate(src, { PackageName: 'mypackage', PackageVersion: '3.0.1' }), false, 'case-sensitive');
    assert.equal(evaluatePredicate(src, { PackageName: 'MyPackage', PackageVersion: '4.0' }), false);
  });

  test('$FeedType == NuGet is true for NuGet and false for nuget', () => {
    assert.equal(evaluatePredicate('$FeedType == NuGet', { FeedType: 'NuGet' }), true);
    assert.equal(evaluatePredicate('$FeedType == NuGet', { FeedType: 'nuget' }), false);
    assert.equal(evaluatePredicate('$FeedType != NuGet', { FeedType: 'nuget' }), true);
  });

  test('true, !true, true && false', () => {
    assert.equal(evaluatePredicate('true', {}), true);
    assert.equal(evaluatePredicate('!true', {}), false);
    assert.equal(evaluatePredicate('true && false', {}), false);
    assert.equal(evaluatePredicate('true || false', {}), true);
    assert.equal(evaluatePredicate('', {}), true, 'an empty expression always runs');
  });

  test('a condition on an undefined variable is an error, not false', () => {
    throwsOtter(() => evaluatePredicate('$CustomVar == true', pkg()), /Unknown variable \$CustomVar/, 1, 1);
    assert.equal(evaluatePredicate('$CustomVar == true', { customvar: 'true' }), true, 'names are case-insensitive');
  });

  test('&& binds tighter than ||, parentheses and ! group', () => {
    assert.equal(evaluatePredicate('true || false && false', {}), true);
    assert.equal(evaluatePredicate('(true || false) && false', {}), false);
    assert.equal(evaluatePredicate('!(true && false)', {}), true);
    assert.equal(evaluatePredicate('!$a == x', { a: 'x' }), false, '! applies to the comparison');
    assert.equal(evaluatePredicate('!!true', {}), true);
  });

  test('< > <= >= compare like $Compare (numbers when both are numbers)', () => {
    assert.equal(evaluatePredicate('$s >= 7.5', { s: '10' }), true, 'numerically 10 >= 7.5');
    assert.equal(evaluatePredicate('$s > 9', { s: '10' }), true);
    assert.equal(evaluatePredicate('$s < 9', { s: '10' }), false);
    assert.equal(evaluatePredicate('$s <= 1,000', { s: '999.99' }), true, 'thousands separators as .NET decimal parses them');
    assert.equal(evaluatePredicate('$s < beta', { s: 'alpha' }), true, 'as strings otherwise');
    assert.equal(evaluatePredicate('$Compare(a, <, B)', {}), true, 'culture-aware: a sorts before B');
    assert.equal(evaluatePredicate('$Compare(10, <, 9, false)', {}), true, 'asNumber=false forces a string comparison');
    throwsOtter(() => evaluatePredicate('$Compare(x, <, 9, true)', {}), /invalid number "x"/);
  });

  test('$Compare parses numbers as .NET decimal.TryParse does', () => {
    const cmp = (a, op, b) => renderTemplate(`$Compare("${a}", ${op}, "${b}")`, {});
    assert.equal(cmp('1.50', '=', '1.5'), 'true');
    assert.equal(cmp(' 007 ', '=', '7'), 'true', 'surrounding spaces and leading zeros');
    assert.equal(cmp('-2', '<', '1'), 'true');
    assert.equal(cmp('-0', '=', '0'), 'true');
    assert.equal(cmp('+1,000.5', '>', '999'), 'true', 'sign and thousands separators');
    assert.equal(cmp('.5', '<', '0.6'), 'true');
    assert.equal(cmp('79228162514264337593543950335', '>', '1'), 'true', 'decimal.MaxValue');
    assert.equal(cmp('79228162514264337593543950336', '<', '8'), 'true', 'beyond decimal: compared as strings');
    assert.equal(cmp('1e5', '>', '2'), 'false', 'no exponents: compared as strings');
    assert.equal(cmp('10', '>', '9'), 'true');
    assert.equal(cmp('10', '>', '9a'), 'false', 'a non-number side: strings');
  });

  test('implicit operands may hold spaces; quoted operands keep them', () => {
    assert.equal(evaluatePredicate('$PackageEvent == Status Changed', sampleEvent('package.status-changed').vars), true);
    assert.equal(evaluatePredicate('$x == " a "', { x: ' a ' }), true);
    assert.equal(evaluatePredicate("$x == 'a, (b)'", { x: 'a, (b)' }), true);
  });

  test('a value that is neither true nor false is an error', () => {
    throwsOtter(() => evaluatePredicate('$x', { x: 'hello' }), /must be true or false.*\$x is "hello"/);
    throwsOtter(() => compilePredicate('hello'), /"hello" is neither/);
    assert.equal(evaluatePredicate('$MatchesRegex($x, ^a)', { x: 'abc' }), true, 'True from a function is true');
    assert.equal(evaluatePredicate('$x', { x: 'FALSE' }), false);
  });

  test('compiled predicates are reusable over many variable sets', () => {
    const p = compilePredicate('$Compare($VulnerabilityScore,>=,7.5) && $FeedName == internal-utils');
    assert.equal(p({ VulnerabilityScore: '9.8', FeedName: 'internal-utils' }), true);
    assert.equal(p({ VulnerabilityScore: '9.8', FeedName: 'public' }), false);
    assert.equal(p({ VulnerabilityScore: '2', FeedName: 'internal-utils' }), false);
    assert.equal(p.source, '$Compare($VulnerabilityScore,>=,7.5) && $FeedName == internal-utils');
  });
});

test.describe('template grammar', () => {
  test('variables are case-insensitive; ${name} delimits; $ not before a letter is text', () => {
    assert.equal(renderTemplate('$packageid/${FEEDNAME}-x', pkg()), 'MyCorp.CoolUtils/internal-utils-x');
    assert.equal(renderTemplate('costs $5, $ and $', {}), 'costs $5, $ and $');
    assert.equal(renderTemplate('${Package Id}', { 'package id': 'spaced' }), 'spaced');
  });

  test('a name runs through letters, digits, - and _ but never ends with them', () => {
    assert.equal(renderTemplate('$FeedName-', pkg()), 'internal-utils-');
    assert.equal(renderTemplate('$FeedName_.', pkg()), 'internal-utils_.');
    throwsOtter(() => renderTemplate('$PackageId-beta', pkg()), /Unknown variable \$PackageId-beta/);
    assert.equal(renderTemplate('$FeedName.', pkg()), 'internal-utils.', 'a dot after a $ variable is text');
  });

  test('hand-written JSON is plain text around the variables', () => {
    const out = renderTemplate('{"text": "$PackageId", "n": 100%, "at": "a@b.c", "o": {"k": [1]}}', pkg());
    assert.deepEqual(JSON.parse(out.replace('100%', '100')), { text: 'MyCorp.CoolUtils', n: 100, at: 'a@b.c', o: { k: [1] } });
    assert.equal(renderTemplate('{"text": "$JSEncode($x)"}', { x: 'say "hi"\n' }), '{"text": "say \\"hi\\"\\n"}');
  });

  test('backtick escapes', () => {
    assert.equal(renderTemplate('`$PackageId `@x `%y ``', {}), '$PackageId @x %y `');
    assert.equal(renderTemplate('a`nb`tc`rd', {}), 'a\nb\tc\rd');
    assert.equal(renderTemplate('<`% not a tag %>', {}), '<% not a tag %>');
    assert.equal(renderTemplate('trailing `', {}), 'trailing `');
  });

  test('$( … ) interpolates list and map expressions mid-text; @ and % mid-text are text', () => {
    const vars = { l: ['a', 'b'], m: { Key: 'v', sub: { deep: 'd' } } };
    assert.equal(renderTemplate('x $(@l[1]) $(%m.key) $(%m[KEY]) $(%m.sub.deep)', vars), 'x b v v d');
    assert.equal(renderTemplate('mail @l[1] and %m.key', vars), 'mail @l[1] and %m.key');
    assert.equal(renderTemplate('$(PackageId)', pkg()), 'MyCorp.CoolUtils');
    assert.equal(renderTemplate('$(@AffectedPackages[0].Name)', vuln()), 'nuget:Newtonsoft.Json');
    assert.equal(renderTemplate('$(@l[$i])', { l: ['a', 'b'], i: '1' }), 'b');
  });

  test('@ and % start an expression at the start of the template', () => {
    assert.equal(renderTemplate('@l[0] rest', { l: ['first'] }), 'first rest');
    throwsOtter(() => renderTemplate('@l', { l: ['a'] }), /@l is a list, not text/);
  });

  test('map and list literals nest; keys keep their order in $ToJson', () => {
    const src = '$ToJson(%(z: 1, a: @(x, %(k: v, e: @()), " q "), m: %()))';
    assert.equal(renderTemplate(src, {}), '{"z":"1","a":["x",{"k":"v","e":[]}," q "],"m":{}}');
    assert.equal(renderTemplate('$ToJson(@(a,b,,))', {}), '["a","b",""]');
    assert.equal(renderTemplate('$ToJson(%("quoted key": v))', {}), '{"quoted key":"v"}');
  });

  test('quoted strings: no backslash escapes, $ expands, no line breaks', () => {
    assert.equal(renderTemplate('$ToLower("A\\n$FeedName, ok")', pkg()), 'a\\ninternal-utils, ok');
    assert.equal(renderTemplate("$ToLower('X )')", {}), 'x )');
    throwsOtter(() => renderTemplate('$ToLower("abc\n")', {}), /not closed/, 1, 10);
  });

  test('swim strings may span lines and hold delimiters', () => {
    assert.equal(renderTemplate('$ToUpper(>>a, b)\nc>>)', {}), 'A, B)\nC');
    assert.equal(renderTemplate('$ToUpper(>==8>x >> y $FeedName>==8>)', pkg()), 'X >> Y INTERNAL-UTILS');
  });

  test('implicit arguments are trimmed and end at , ) or a line break', () => {
    assert.equal(renderTemplate('[$Coalesce(  ,   two words  , c)]', {}), '[two words]');
    assert.equal(renderTemplate('$Expr(($a + 1) * 2)', { a: '3' }), '8');
    assert.equal(renderTemplate('$ToJson(%(\n  a: 1,\n  b: two words\n))', {}), '{"a":"1","b":"two words"}');
  });

  test('foreach and if/else tags; standalone tag lines leave no blank lines', () => {
    const src = [
      'Issues:',
      '<% if $ListCount(@BuildIssues) == 0 { %>',
      'none',
      '<% } else { %>',
      '<% foreach %i in @BuildIssues { %>',
      '- $(%i.Sequence): $(%i.Detail)',
      '<% } %>',
      '<% } %>',
      'end',
    ].join('\n');
    assert.equal(renderTemplate(src, build()), 'Issues:\n- 1: Noncompliant package (PGV-892418)\n- 4: Noncompliant package (MIT License)\nend');
    assert.equal(renderTemplate(src, { BuildIssues: [] }), 'Issues:\nnone\nend');
    assert.equal(renderTemplate('<% foreach $s in @(a,b,c) { %>[$s]<% } %>', {}), '[a][b][c]');
    assert.equal(renderTemplate('<%if true{%>y<%}else{%>n<%}%>', {}), 'y');
  });

  test('standalone tags: indented, with CRLF line ends; tags sharing a line with text are kept inline', () => {
    assert.equal(renderTemplate('a\r\n   <% if true { %>  \r\nb\r\n\t<% } %>\r\nc', {}), 'a\r\nb\r\nc');
    assert.equal(renderTemplate('x <% if true { %>\ny<% } %> z', {}), 'x \ny z');
    assert.equal(renderTemplate('<% if false { %>\nhidden\n<% } %>', {}), '');
  });

  test('loop variables shadow and are restored; the sigil must match the items', () => {
    const out = renderTemplate('<% foreach $x in @(1,2) { %><% foreach $x in @(a) { %>$x<% } %>$x<% } %>', {});
    assert.equal(out, 'a1a2');
    throwsOtter(
      () => renderTemplate('<% foreach $p in @AffectedPackages { %>$p<% } %>', vuln()),
      /Item 0 of @AffectedPackages is a map: the loop variable must be written %p/,
    );
    throwsOtter(() => renderTemplate('<% foreach %p in @AffectedPackages { %>$p<% } %>', vuln()), /Unknown variable \$p/);
  });

  test('tag mistakes are reported at the tag', () => {
    throwsOtter(() => compileTemplate('a\n<% end %>'), /blocks close with "<% } %>"/, 2, 4);
    throwsOtter(() => compileTemplate('<% } %>'), /closes no block/, 1, 1);
    throwsOtter(() => compileTemplate('x <% foreach %p in @l { %>'), /never closed/, 1, 3);
    throwsOtter(() => compileTemplate('<% if true %>'), /must end with "\{"/);
    throwsOtter(() => compileTemplate('<% foreach %p in @l { %><% } else { %><% } %>'), /must follow/);
    throwsOtter(() => compileTemplate('abc <% if true {'), /not closed with "%>"/, 1, 5);
    throwsOtter(() => compileTemplate('<% print $x %>'), /A tag holds/);
  });
});

test.describe('errors: unknown names are errors with line, column and excerpt', () => {
  test('unknown variable with a did-you-mean hint and a caret excerpt', () => {
    const err = throwsOtter(
      () => renderTemplate('Hello\n  to $PackagName!', pkg()),
      /Unknown variable \$PackagName; did you mean \$PackageName\?/,
      2,
      6,
    );
    assert.equal(err.excerpt, '  to $PackagName!\n     ^');
    assert.deepEqual(Object.keys(err.toJSON()).sort(), ['column', 'excerpt', 'line', 'message']);
  });

  test('an unknown $name in a template suggests escaping it (e.g. Adaptive Card "$schema")', () => {
    throwsOtter(
      () => renderTemplate('{"$schema": "x"}', pkg()),
      /Unknown variable \$schema \(for a literal "\$schema", escape the sigil: `\$schema\)/,
      1,
      3,
    );
    assert.equal(renderTemplate('{"`$schema": "x"}', pkg()), '{"$schema": "x"}');
  });

  test('unknown function is a compile error', () => {
    throwsOtter(() => compileTemplate('x $PackageHash(sha1, hex)'), /Unknown function \$PackageHash/, 1, 3);
    throwsOtter(() => compileTemplate('$Eval($x)'), /\$Eval is not supported/);
  });

  test('$Name() with no arguments reads the variable (ProGet: forces the built-in)', () => {
    assert.equal(renderTemplate('$FeedName()', pkg()), 'internal-utils');
  });

  test('wrong sigil, argument count and kinds', () => {
    throwsOtter(() => compileTemplate('@ToJson(x)'), /ToJson returns text: call it as \$ToJson/);
    throwsOtter(() => compileTemplate('$Split(a,b)'), /Split returns a list: call it as @Split/);
    throwsOtter(() => compileTemplate('$ToUpper(a, b)'), /\$ToUpper takes 1 argument \(text\), got 2/);
    throwsOtter(() => compileTemplate('$Compare(1, <)'), /takes 3 to 4 arguments/);
    throwsOtter(() => renderTemplate('$Join(",", $x)', { x: 'a' }), /2nd argument \(values\) must be a list, got text/);
    throwsOtter(() => renderTemplate('$AffectedPackages', vuln()), /\$AffectedPackages is a list, not text: write @AffectedPackages/);
    throwsOtter(() => renderTemplate('$FromJson({"a":1})', {}), /returned a map: call it as %FromJson/);
  });

  test('indexing errors name the index', () => {
    throwsOtter(() => renderTemplate('$(@l[2])', { l: ['a'] }), /Index 2 is out of range: @l has 1 item/);
    throwsOtter(() => renderTemplate('$(@l[x])', { l: ['a'] }), /whole number/);
    throwsOtter(() => renderTemplate('$(%m.nme)', { m: { name: 'a' } }), /%m has no key "nme"; did you mean "name"\?/);
  });

  test('bad input types give clear errors', () => {
    throwsOtter(() => compileTemplate(42), /template must be a string, got number/);
    assert.throws(() => compileTemplate('x')(null), /variables must be an object/);
    throwsOtter(() => compilePredicate(undefined), /condition must be a string/);
  });

  test('deep nesting is an OtterScriptError, never a RangeError', () => {
    throwsOtter(() => compileTemplate('$ToJson(' + '@('.repeat(5000) + ')'.repeat(5001)), /Nesting is deeper than 64 levels/);
    throwsOtter(() => compilePredicate('('.repeat(10000) + 'true' + ')'.repeat(10000)), /Nesting is deeper/);
    throwsOtter(() => compilePredicate('!'.repeat(100000) + 'true'), /Nesting is deeper/);
    let deep = 'x';
    for (let i = 0; i < 100; i++) deep = `<% if true { %>${deep}<% } %>`;
    throwsOtter(() => compileTemplate(deep), /Nesting is deeper/);
    const long = compilePredicate(Array(50000).fill('true').join(' && '));
    assert.equal(long({}), true, 'long flat chains are fine');
  });

  test('event data is never run as template code', () => {
    assert.equal(renderTemplate('$x', { x: '$ToJson(%(a: $FeedName))<% if true { %>' }), '$ToJson(%(a: $FeedName))<% if true { %>');
  });
});

test.describe('functions behave as their .NET implementations', () => {
  const r = (src, vars = {}) => renderTemplate(src, vars);

  test('$FromJson maps, lists and scalars; $ToJson round-trips', () => {
    assert.equal(r('$(%FromJson(>>{"A": {"b": [1, true, null, "x"]}}>>).a.B[0])'), '1');
    assert.equal(r('$ToJson(%FromJson(>>{"a": [1, true, null]}>>))'), '{"a":["1","true",""]}');
    assert.equal(r('$FromJson(>>"text">>)'), 'text');
    throwsOtter(() => r('$ToJson(%FromJson({bad))'), /invalid JSON/);
  });

  test('$Coalesce, $Join, @Split, $Replace, $RegexReplace, @RegexFind', () => {
    assert.equal(r('$Coalesce($a, " ", $b, c)', { a: '', b: 'B' }), 'B');
    assert.equal(r('$Join(", ", @Split(a|b||c, |))'), 'a, b, , c');
    assert.equal(r('$ListCount(@Split(a|b|c, |, 2))'), '2');
    assert.equal(r('$(@Split(a|b|c, |, 2)[1])'), 'b|c');
    assert.equal(r('$Replace(Hello hello, hello, bye)'), 'Hello bye');
    assert.equal(r('$Replace(Hello hello, hello, bye, true)'), 'bye bye');
    assert.equal(r('$RegexReplace(v1.2.3, "(\\d+)\\.(\\d+)", "$2-$1")'), 'v2-1.3');
    assert.equal(r('$RegexReplace(ab, "(?<x>a)", "[${x}]")'.replace('${x}', '`${x}')), '[a]b');
    assert.equal(r('$Join(;, @RegexFind(a1b22c333, "\\d+"))'), '1;22;333');
  });

  test('encoders', () => {
    assert.equal(r('$JSEncode($x)', { x: `a"b'c<d>\\&\n` }), 'a\\"b\\u0027c\\u003cd\\u003e\\\\\\u0026\\n');
    assert.equal(r('$HtmlEncode($x)', { x: `<a href="x">'&'</a> é` }), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; &#233;');
    assert.equal(r('$UrlEncode($x)', { x: "a b/c?d=é&e!*'()" }), 'a%20b%2Fc%3Fd%3D%C3%A9%26e%21%2A%27%28%29');
    assert.equal(r('$XmlEncode($x)', { x: `<a b="c">'&'` }), '&lt;a b=&quot;c&quot;&gt;&apos;&amp;&apos;');
    assert.equal(r('Basic $EncodeBasicAuth(user, p@ss:word)'), 'Basic ' + Buffer.from('user:p@ss:word').toString('base64'));
  });

  test('string helpers', () => {
    assert.equal(r('$Substring(abcdef, 2)|$Substring(abcdef, 2, 2)|$Substring(abc, 5)|$Substring(abc, 1, 99)'), 'cdef|cd||bc');
    throwsOtter(() => r('$Substring(abc, -1)'), /offset cannot be negative/);
    assert.equal(r('$ToLower(AbC)$ToUpper(aBc)'), 'abcABC');
    assert.equal(r('[$Trim("  x  ")][$TrimStart(--x--, -)][$TrimEnd(--x--, -)][$Trim(_-x-_, -, _)]'), '[x][x--][--x][x]');
    assert.equal(r('$PadLeft(7, 3, 0) $PadRight(ab, 4)|'), '007 ab  |');
    throwsOtter(() => r('$PadLeft(7, 3, 00)'), /single character/);
    assert.equal(r('a$NewLine(windows)b$NewLine(linux)c'), 'a\r\nb\nc');
  });

  test('list and map helpers', () => {
    const vars = { l: ['a', 'b', 'c'], m: { One: '1', two: '2' } };
    assert.equal(r('$ListCount(@l) $ListIndexOf(@l, b) $ListIndexOf(@l, z) $ListItem(@l, 2)', vars), '3 1 -1 c');
    throwsOtter(() => r('$ListItem(@l, 3)', vars), /index 3 is out of range \(the list has 3 items\)/);
    assert.equal(r('$Join(",", @ListConcat(@l, @(d), @()))', vars), 'a,b,c,d');
    assert.equal(r('$MapItem(%m, one) $Join(+, @MapKeys(%m))', vars), '1 One+two');
    throwsOtter(() => r('$MapItem(%m, three)', vars), /no key "three"/);
    assert.equal(r('$Join(",", @ListInsert(@l, z, 0)) $Join(",", @ListRemove(@l, -1)) $Join(",", @ListSet(@l, 4, e))', vars), 'z,a,b,c a,b a,b,c,,e');
    assert.equal(r('$ToJson(%MapSet(%m, ONE, x))', vars), '{"two":"2","ONE":"x"}');
    assert.equal(r('$Join(",", @Range(3, 3))'), '3,4,5');
  });

  test('$Expr, $Date, $DateUtc, $IsVariableDefined', () => {
    assert.equal(r('$Expr(1 + 2 * 3) $Expr(7 / 2) $Expr(-(2 - 5) % 2)'), '7 3.5 1');
    throwsOtter(() => r('$Expr(1 / 0)'), /division by zero/);
    const now = () => new Date('2026-03-04T05:06:07.089Z');
    assert.equal(
      renderTemplate('$DateUtc() | $DateUtc(yyyy-MM-dd HH:mm:ss.fff) | $DateUtc(o) | $DateUtc(R)', {}, { now }),
      '2026-03-04T05:06:07 | 2026-03-04 05:06:07.089 | 2026-03-04T05:06:07.0890000Z | Wed, 04 Mar 2026 05:06:07 GMT',
    );
    assert.match(renderTemplate('$Date()', {}, { now }), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    assert.equal(r('$IsVariableDefined(FeedName) $IsVariableDefined(Nope) $IsVariableDefined(FeedName, vector)', pkg()), 'true false false');
    assert.equal(evaluatePredicate('$IsVariableDefined(CustomVar) && $CustomVar == yes', pkg()), false, '&& short-circuits');
    assert.equal(r('<% foreach %p in @AffectedPackages { %>$IsVariableDefined(p, map)<% } %>', vuln()), 'true');
  });

  test('regex limits: long pattern, long text, nested quantifiers, invalid syntax', () => {
    throwsOtter(() => compilePredicate('$MatchesRegex($x, "' + 'a'.repeat(1100) + '")'), /longer than 1024 characters/);
    throwsOtter(() => evaluatePredicate('$MatchesRegex($x, ^a)', { x: 'a'.repeat(70000) }), /longer than 64 KiB/);
    // RE2 runs nested quantifiers in linear time: allowed
    assert.equal(evaluatePredicate('$MatchesRegex($x, "^(a+)+$")', { x: 'a'.repeat(30) + 'b' }), false);
    assert.equal(evaluatePredicate('$MatchesRegex($x, "(\\w*)*")', { x: 'abc' }), true);
    throwsOtter(() => compilePredicate('$MatchesRegex($x, "(a)\\1")'), /backreferences/);
    throwsOtter(() => compilePredicate('$MatchesRegex($x, "a(?=b)")'), /lookahead and lookbehind/);
    throwsOtter(() => compilePredicate('$MatchesRegex($x, "(?<!a)b")'), /lookahead and lookbehind/);
    throwsOtter(() => compilePredicate('$MatchesRegex($x, "(unclosed")'), /invalid regular expression/);
    throwsOtter(() => evaluatePredicate('$MatchesRegex($x, $p)', { x: 'a', p: '(a)\\1' }), /backreferences/, 1, 1);
    assert.equal(evaluatePredicate('$MatchesRegex($x, "(?i)^abc(de)?$")', { x: 'ABCDE' }), true);
  });
});

test.describe('ProGet fidelity: names without parentheses, package properties, build issues', () => {
  const now = () => new Date('2026-03-04T05:06:07.089Z');

  test('a function named without parentheses is the function when no variable has that name', () => {
    assert.equal(renderTemplate('$DateUtc', {}, { now }), '2026-03-04T05:06:07');
    assert.equal(renderTemplate('at $DateUtc.', {}, { now }), 'at 2026-03-04T05:06:07.');
    assert.equal(renderTemplate('$NewLine', {}), renderTemplate('$NewLine()', {}));
    assert.equal(renderTemplate('$DateUtc', { DateUtc: 'a variable wins' }, { now }), 'a variable wins');
    assert.equal(renderTemplate('<% foreach $d in @(x) { %>$DateUtc<% } %>', {}, { now }), '2026-03-04T05:06:07');
    assert.equal(evaluatePredicate('$DateUtc != ""', {}), true);
    // a function that needs arguments is not called without them; an unknown name stays an error
    throwsOtter(() => renderTemplate('$ToJson', {}), /Unknown variable \$ToJson/);
    throwsOtter(() => renderTemplate('$PackagId', pkg()), /Unknown variable \$PackagId; did you mean \$PackageId\?/);
    // the sigil must fit what the function returns
    throwsOtter(() => renderTemplate('@DateUtc', {}), /Unknown variable @DateUtc/);
  });

  test("$PackageProperty(name[, default]) reads the event's PackageProperties, else the default", () => {
    const vars = { ...pkg(), PackageProperties: { _sourceTarget: 'release', Authors: 'MyCorp' } };
    assert.equal(renderTemplate('$PackageProperty(_sourceTarget, unspecified)', vars), 'release');
    assert.equal(renderTemplate('$PackageProperty(authors)', vars), 'MyCorp', 'property names are case-insensitive');
    assert.equal(renderTemplate('$PackageProperty(license, unspecified)', vars), 'unspecified');
    assert.equal(renderTemplate('$PackageProperty(_sourceTarget, unspecified)', pkg()), 'unspecified', 'no PackageProperties: the default');
    assert.equal(renderTemplate('[$PackageProperty(x, "")]', pkg()), '[]');
    throwsOtter(() => renderTemplate('$PackageProperty(license)', vars), /no property "license".*give a default/, 1, 1);
    throwsOtter(() => renderTemplate('$PackageProperty(license)', pkg()), /no property "license" \(the event carries no PackageProperties\)/);
    assert.equal(evaluatePredicate('$PackageProperty(_sourceTarget, none) == release', vars), true);
  });

  test('@BuildIssues(includeClosed): open issues, or all of them', () => {
    const vars = {
      ...build(),
      BuildIssues: [
        { Sequence: '1', Detail: 'open one' },
        { Sequence: '2', Detail: 'closed one', Resolved: 'true' },
        { Sequence: '3', Detail: 'reopened', Resolved: false },
      ],
    };
    const seqs = (src) => renderTemplate(`<% foreach %i in ${src} { %>$(%i.Sequence)<% } %>`, vars);
    assert.equal(seqs('@BuildIssues'), '123', 'the variable: what the event carries');
    assert.equal(seqs('@BuildIssues()'), '13');
    assert.equal(seqs('@BuildIssues(false)'), '13');
    assert.equal(seqs('@BuildIssues(true)'), '123');
    assert.equal(renderTemplate('$ListCount(@BuildIssues(false))', vars), '2');
    throwsOtter(() => renderTemplate('$ListCount(@BuildIssues(maybe))', vars), /includeClosed must be true or false/);
    throwsOtter(() => renderTemplate('$ListCount(@BuildIssues(true))', pkg()), /no build issues/);
    throwsOtter(() => renderTemplate('$BuildIssues(true)', vars), /BuildIssues returns a list: call it as @BuildIssues/);
  });
});

test('compiled templates render many times with different variables (compile once, run many)', () => {
  const t = compileTemplate('$PackageId@$PackageVersion');
  assert.equal(t({ PackageId: 'a', PackageVersion: '1' }), 'a@1');
  assert.equal(t({ packageid: 'b', PACKAGEVERSION: '2' }), 'b@2');
  assert.equal(t.source, '$PackageId@$PackageVersion');
  assert.ok(os.functionNames().includes('ToJson'));
});
