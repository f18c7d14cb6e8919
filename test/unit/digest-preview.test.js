'use strict';
// The editor's preview of digest templates (src/nodes/shared/preview-route.ts, eventType "digest"): a sample digest
// made by buildDigestEvent with fixed ids and times, its variables for templates and conditions, the defaults being
// what each channel really sends for a digest with no template, and the groupBy key a digest node gives an event.
const test = require('node:test');
const assert = require('node:assert/strict');
const { preview, slackPayloadText, PREVIEW_EVENT_TYPES } = require('../../dist/nodes/shared/preview-route');
const { compileTemplate, defaultTemplates } = require('../../dist/core/otterscript');
const { createSlackChannel, createTeamsChannel, createWebhookChannel } = require('../../dist/core/channels');
const { createEmailChannel } = require('../../dist/core/channels/email');
const { smtpSettings } = require('../../dist/core/channels/smtp');
const { EVENT_CODES } = require('../../dist/core/events');
const {
  buildDigestEvent,
  countEvent,
  emptySummary,
  digestGroupKey,
  sampleDigestEvent,
  sampleDigestSources,
  DEFAULT_GROUP_BY,
} = require('../../dist/core/digest');

const kit = { compile: compileTemplate, defaults: defaultTemplates };
const ok = (body) => {
  const answer = preview(body);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.error, undefined, JSON.stringify(answer.body.error));
  return answer.body;
};
const render = (source, extra = {}) => ok({ kind: 'template', source, eventType: 'digest', ...extra }).result;

test('the sample digest: 12 promoted packages of one feed, 10 listed, fixed ids and times, the same every call', () => {
  const d = sampleDigestEvent();
  assert.equal(d.type, 'digest');
  assert.equal(d.id, 'sample-digest');
  assert.equal(d.occurredAt, '2026-01-15T09:31:25.000Z');
  assert.equal(d.feed, 'internal-utils');
  assert.equal(d.vars.GroupKey, 'internal-utils/Promoted');
  assert.equal(d.vars.EventCount, '12');
  assert.equal(d.vars.OmittedCount, '2');
  assert.equal(d.vars.Events.length, 10);
  assert.deepEqual(d.vars.CountsByType, { 'Package Promoted': '12' });
  assert.equal(d.vars.FirstOccurredAt, '2026-01-15T09:30:00.000Z');
  assert.equal(d.vars.LastOccurredAt, '2026-01-15T09:30:55.000Z');
  assert.equal(new Set(d.vars.Events.map((e) => e.PackageId)).size, 10, 'each listed event is its own package');
  assert.strictEqual(sampleDigestEvent(), d);
  assert.ok(Object.isFrozen(d.vars));
});

test('the sample digest is what buildDigestEvent makes of its source events (grouped by the default groupBy)', () => {
  const sources = sampleDigestSources();
  assert.equal(sources.length, 12);
  assert.ok(sources.every((e) => e.type === 'package.promoted' && e.feed === 'internal-utils'));
  const summary = emptySummary();
  for (const e of sources) countEvent(summary, e);
  const key = digestGroupKey(compileTemplate(DEFAULT_GROUP_BY), sources[0]);
  const again = buildDigestEvent(key, sources, summary, { maxEvents: 10, now: new Date('2026-01-15T09:31:25.000Z'), id: 'sample-digest' });
  assert.deepEqual(JSON.parse(JSON.stringify(again)), JSON.parse(JSON.stringify(sampleDigestEvent())));
});

test('preview eventType digest: every digest variable is there', () => {
  assert.deepEqual(PREVIEW_EVENT_TYPES, [...EVENT_CODES, 'digest']);
  assert.equal(
    render('$GroupKey|$EventCount|$OmittedCount|$FeedName|$FirstOccurredAt|$LastOccurredAt|$EventName|$ToJson(%CountsByType)|$ListCount(@Events)'),
    'internal-utils/Promoted|12|2|internal-utils|2026-01-15T09:30:00.000Z|2026-01-15T09:30:55.000Z|Digest|{"Package Promoted":"12"}|10',
  );
});

test('preview eventType digest: foreach over @Events gives each listed event its own variables and the digest ones', () => {
  const out = render('<% foreach %e in @Events { %>$(%e.PackageId) $(%e.PackageVersion) [$(%e.Label)] $(%e.Url)\n<% } %>');
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 10);
  assert.equal(lines[0], 'MyCorp.CoolUtils 3.0.0 [Package Promoted] https://proget.example.com/feeds/internal-utils/MyCorp.CoolUtils/3.0.0');
  assert.equal(lines[9], 'MyCorp.Queue 3.9.0 [Package Promoted] https://proget.example.com/feeds/internal-utils/MyCorp.Queue/3.9.0');
  assert.equal(render('<% foreach %e in @Events { %>$(%e.Summary)|<% } %>').split('|')[1], 'MyCorp.Logging 3.1.0 Promoted on internal-utils by API');
  // deterministic: the same text on every request
  assert.equal(render('$ToJson(@Events)'), render('$ToJson(@Events)'));
});

test('preview eventType digest: an empty Slack text previews the digest message the Slack channel sends', () => {
  const body = ok({ kind: 'template', source: '', eventType: 'digest', defaultTemplate: 'slack' });
  assert.equal(body.usedDefault, true);
  const { driver } = createSlackChannel({}, { url: 'https://hooks.slack.com/services/T1/B1/xyz' }, kit);
  const sent = JSON.parse(driver.prepare(sampleDigestEvent(), { dispatchId: 'd' }).request.body);
  driver.close();
  assert.equal(body.result, slackPayloadText(sent));
  assert.match(body.result, /^12 events in internal-utils\/Promoted\n/);
  assert.match(
    body.result,
    /^• <https:\/\/proget\.example\.com\/feeds\/internal-utils\/MyCorp\.CoolUtils\/3\.0\.0\|MyCorp\.CoolUtils 3\.0\.0 Promoted/m,
  );
  assert.match(body.result, /… and 2 more$/);
});

test('preview eventType digest: empty Teams title and text preview the digest card the Teams channel sends', () => {
  const { driver } = createTeamsChannel({}, { url: 'https://example.invalid/workflows/x?sig=abc' }, kit);
  const card = JSON.parse(driver.prepare(sampleDigestEvent(), { dispatchId: 'd' }).request.body).attachments[0].content;
  driver.close();
  const title = ok({ kind: 'template', source: ' ', eventType: 'digest', defaultTemplate: 'teamsTitle' });
  const text = ok({ kind: 'template', source: '', eventType: 'digest', defaultTemplate: 'teamsText' });
  assert.equal(title.result, card.body[0].text);
  assert.equal(title.result, '12 events in internal-utils/Promoted');
  assert.ok(
    card.body.some((b) => b.type === 'TextBlock' && b.text === text.result),
    'the previewed text is the card list',
  );
  assert.equal((text.result.match(/^- \[/gm) || []).length, 10);
  assert.match(text.result, /… and 2 more$/);
});

test('preview eventType digest: an empty email subject and body preview what the email channel sends', async () => {
  const settings = smtpSettings({ host: '127.0.0.1', port: 2525, security: 'none', from: 'ProGet <proget@example.com>' });
  let mail;
  const sender = {
    key: 'smtp://x',
    label: 'x',
    settings,
    timeouts: { connectionMs: 1, greetingMs: 1, socketMs: 1 },
    fromMailbox: settings.from,
    send: async (m) => {
      mail = m;
      return { response: '250 OK', accepted: ['dev@corp.local'], rejected: [] };
    },
  };
  const { driver } = createEmailChannel({ to: 'dev@corp.local' }, sender, kit);
  const prepared = driver.prepare(sampleDigestEvent(), { dispatchId: 'd' });
  await prepared.attempt({ signal: new AbortController().signal, attempt: 1 });
  const subject = ok({ kind: 'template', source: '', eventType: 'digest', defaultTemplate: 'emailSubject' });
  const body = ok({ kind: 'template', source: '', eventType: 'digest', defaultTemplate: 'emailBody' });
  assert.equal(subject.result, prepared.request.subject);
  assert.equal(subject.result, '12 events in internal-utils/Promoted');
  assert.equal(body.result, mail.text);
  assert.match(body.result, /^12 events in internal-utils\/Promoted\.\n2026-01-15 09:30:00 UTC to 2026-01-15 09:30:55 UTC\n/);
  assert.match(
    body.result,
    /\* MyCorp\.Queue 3\.9\.0 Promoted on internal-utils by API\n {2}https:\/\/proget\.example\.com\/feeds\/internal-utils\/MyCorp\.Queue\/3\.9\.0/,
  );
  assert.match(body.result, /… and 2 more$/);
});

test('preview eventType digest: an empty webhook content previews the digest body the webhook channel sends', () => {
  const { driver } = createWebhookChannel({ url: 'http://127.0.0.1:9/hook' }, {}, kit);
  const sent = driver.prepare(sampleDigestEvent(), { dispatchId: 'd' }).request.body;
  driver.close?.();
  const body = ok({ kind: 'template', source: '', eventType: 'digest', defaultTemplate: 'webhook' });
  assert.equal(body.usedDefault, true);
  assert.equal(body.result, sent);
  const json = JSON.parse(body.result);
  assert.equal(json.event, 'digest');
  assert.equal(json.eventCount, '12');
  assert.equal(json.omittedCount, '2');
  assert.equal(json.events.length, 10);
});

test('preview eventType digest: a template of its own is rendered, not the default', () => {
  const body = ok({ kind: 'template', source: 'Burst: $EventCount', eventType: 'digest', defaultTemplate: 'slack' });
  assert.equal(body.result, 'Burst: 12');
  assert.equal(body.usedDefault, undefined);
});

test('condition preview on the digest: $EventCount >= 10 passes, >= 100 does not, and the count is shown as checked', () => {
  const ask = (condition) => ok({ kind: 'condition', eventType: 'digest', condition });
  const pass = ask({ mode: 'expression', expression: '$EventCount >= 10' });
  assert.equal(pass.result, true);
  assert.equal(pass.reason, 'matched');
  assert.equal(pass.checked, 'feed: internal-utils; EventCount: 12');
  const block = ask({ mode: 'expression', expression: '$EventCount >= 100' });
  assert.equal(block.result, false);
  assert.equal(block.reason, 'condition');
  assert.equal(ask({ mode: 'expression', expression: '$OmittedCount == 2 && $GroupKey == "internal-utils/Promoted"' }).result, true);
  assert.equal(ask({ mode: 'always', feeds: 'other-feed' }).reason, 'feed');
  assert.equal(ok({ kind: 'predicate', source: '$EventCount >= 10', eventType: 'digest' }).result, true);
});

test('preview eventType digest: an unknown variable is the usual error answer (HTTP 200, line, column, excerpt, phase run)', () => {
  const answer = preview({ kind: 'template', source: 'Hi\n$PackageCount', eventType: 'digest' });
  assert.equal(answer.status, 200);
  assert.match(answer.body.error.message, /Unknown variable \$PackageCount/);
  assert.equal(answer.body.error.line, 2);
  assert.equal(answer.body.error.column, 1);
  assert.equal(answer.body.error.phase, 'run');
  assert.match(answer.body.error.excerpt, /\$PackageCount\n\^/);
  const cond = preview({ kind: 'condition', eventType: 'digest', condition: { mode: 'expression', expression: '$Count >= 10' } });
  assert.equal(cond.status, 200);
  assert.equal(cond.body.error.phase, 'run');
  assert.match(cond.body.error.message, /Unknown variable \$Count/);
});

test('groupKey preview: the key a digest node gives the sample event, as digestGroupKey computes it', () => {
  assert.deepEqual(ok({ kind: 'groupKey', source: '', eventType: 'package.promoted' }), { result: 'internal-utils/Promoted', usedDefault: true });
  assert.deepEqual(ok({ kind: 'groupKey', source: '$FeedName/$WebhookEvent' }), { result: 'internal-utils/Promoted' });
  assert.deepEqual(ok({ kind: 'groupKey', source: '  $FeedName:$PackageId  ', eventType: 'package.added' }), {
    result: 'internal-utils:MyCorp.CoolUtils',
  });
  // a variable the event lacks: the node groups by the type's label, and the preview says why
  const build = ok({ kind: 'groupKey', source: '', eventType: 'sca.build-issues-opened' });
  assert.equal(build.result, 'Issues Opened on Build');
  assert.match(build.fallback, /Unknown variable \$FeedName/);
  assert.equal(ok({ kind: 'groupKey', source: '$VulnerabilitySeverity', eventType: 'sca.new-vulnerability' }).result, 'High');
});

test('groupKey preview: a syntax error is the usual error answer; a digest has no group key (400)', () => {
  const bad = preview({ kind: 'groupKey', source: '$FeedName/$(', eventType: 'package.promoted' });
  assert.equal(bad.status, 200);
  assert.equal(bad.body.error.phase, 'compile');
  assert.equal(bad.body.error.line, 1);
  const digest = preview({ kind: 'groupKey', source: '', eventType: 'digest' });
  assert.equal(digest.status, 400);
  assert.match(digest.body.error.message, /digest/);
  assert.equal(preview({ kind: 'groupKey', source: 1 }).status, 400);
});

test('an unknown eventType names the ten types and digest', () => {
  const answer = preview({ kind: 'template', source: 'x', eventType: 'digests' });
  assert.equal(answer.status, 400);
  assert.match(answer.body.error.message, /eventType must be one of package\.added, .*sca\.build-issues-opened, digest$/);
});
