'use strict';
// The default digest per channel at 10,000 events (1,000 listed) with hostile values: Slack within Block Kit's
// limits, Teams within 28 KB and parsed by Microsoft's adaptivecards library without a warning, email as text and
// HTML, the webhook as JSON; every value escaped for its channel.
const test = require('node:test');
const assert = require('node:assert/strict');
const { normalizeEvent } = require('../../dist/core/events');
const { compileTemplate, defaultTemplates } = require('../../dist/core/otterscript');
const { createSlackChannel, createTeamsChannel, createWebhookChannel, SLACK_LIMITS, TEAMS_MAX_BYTES } = require('../../dist/core/channels');
const { createEmailChannel } = require('../../dist/core/channels/email');
const { smtpSettings } = require('../../dist/core/channels/smtp');
const { buildDigestEvent, emptySummary, countEvent } = require('../../dist/core/digest');

const { cardProblems } = require('../helpers/receivers');

const kit = { compile: compileTemplate, defaults: defaultTemplates };
const HOSTILE = '<!channel> *bold* [x](javascript:alert(1)) <script>alert(1)</script> & "q"';

function digestOf(n, listed = 1000) {
  const events = [];
  const s = emptySummary();
  for (let i = 0; i < n; i++) {
    const e = normalizeEvent({
      type: 'package.promoted',
      id: `e${i}`,
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)).toISOString(),
      vars: {
        PackageId: i === 0 ? HOSTILE : `Corp.Package${i}`,
        PackageVersion: '1.0.0',
        FeedName: 'internal',
        UserName: i === 1 ? HOSTILE : 'ci',
        WebBaseUrl: 'https://proget.example.com',
      },
    });
    countEvent(s, e);
    if (events.length < listed) events.push(e);
  }
  return buildDigestEvent('internal/Promoted', events, s, { maxEvents: listed, now: new Date(Date.UTC(2026, 0, 1, 0, 5)) });
}

const big = digestOf(10_000);

test('the digest lists 1,000 events of 10,000 and counts the rest', () => {
  assert.equal(big.vars.EventCount, '10000');
  assert.equal(big.vars.Events.length, 1000);
  assert.equal(big.vars.OmittedCount, '9000');
});

test('Slack: a header, counts, 20 linked lines and "… and 9,980 more", within every Block Kit limit; values escaped', () => {
  const { driver } = createSlackChannel({}, { url: 'https://hooks.slack.com/services/T1/B1/xyz' }, kit);
  const payload = JSON.parse(driver.prepare(big, { dispatchId: 'd' }).request.body);
  driver.close();
  assert.ok(payload.blocks.length <= SLACK_LIMITS.blocks);
  assert.ok(payload.text.length <= SLACK_LIMITS.text);
  assert.equal(payload.blocks[0].type, 'header');
  assert.equal(payload.blocks[0].text.text, '10,000 events in internal/Promoted');
  assert.ok(payload.blocks[0].text.text.length <= SLACK_LIMITS.headerText);
  for (const b of payload.blocks) {
    if (b.type === 'section' && b.text) assert.ok(b.text.text.length <= SLACK_LIMITS.sectionText);
    if (b.fields) assert.ok(b.fields.length <= SLACK_LIMITS.fields);
  }
  const all = payload.blocks.map((b) => JSON.stringify(b)).join('\n');
  const lines = all.match(/• /g) || [];
  assert.equal(lines.length, 20);
  assert.match(all, /… and 9,980 more/);
  assert.match(all, /Package Promoted\*\\n10000/);
  assert.match(all, /<https:\/\/proget\.example\.com\/feeds\/internal\/Corp\.Package2\/1\.0\.0\|Corp\.Package2 1\.0\.0 Promoted on internal by ci>/);
  // the hostile package name: no mention, no link, no markup of its own
  assert.doesNotMatch(all, /<!channel>/);
  assert.match(all, /&lt;!channel&gt;/);
  assert.doesNotMatch(all, /<script>/);
});

test('Teams: an Adaptive Card 1.4 with a FactSet and a linked list, within 28 KB, parsed without a single warning', () => {
  const { driver } = createTeamsChannel({}, { url: 'https://example.invalid/workflows/x?sig=abc' }, kit);
  const body = driver.prepare(big, { dispatchId: 'd' }).request.body;
  driver.close();
  assert.ok(Buffer.byteLength(body) <= TEAMS_MAX_BYTES, `${Buffer.byteLength(body)} bytes`);
  const card = JSON.parse(body).attachments[0].content;
  assert.equal(card.version, '1.4');
  assert.deepEqual(cardProblems(card), []);
  assert.equal(card.body[0].text, '10,000 events in internal/Promoted');
  const facts = card.body.find((b) => b.type === 'FactSet').facts;
  assert.deepEqual(facts[0], { title: 'Package Promoted', value: '10000' });
  const list = card.body.find((b, i) => i > 0 && b.type === 'TextBlock' && /^- /.test(b.text)).text;
  assert.equal((list.match(/^- /gm) || []).length, 25);
  assert.match(list, /… and 9,975 more/);
  assert.match(
    list,
    /^- \[Corp\.Package2 1\.0\.0 Promoted on internal by ci\]\(https:\/\/proget\.example\.com\/feeds\/internal\/Corp\.Package2\/1\.0\.0\)$/m,
  );
  // the hostile name is markdown-escaped: its brackets and parentheses do not make a link
  assert.match(list, /\\\[x\\\]\\\(javascript:alert\\\(1\\\)\\\)/);
  // a custom title still applies
  const custom = createTeamsChannel({ title: 'Burst: $EventCount' }, { url: 'https://example.invalid/w' }, kit).driver;
  assert.equal(JSON.parse(custom.prepare(big, { dispatchId: 'd' }).request.body).attachments[0].content.body[0].text, 'Burst: 10000');
  custom.close();
});

test('email: subject with count and group; a text list and an HTML table with links; HTML escaped', () => {
  const settings = smtpSettings({ host: '127.0.0.1', port: 2525, security: 'none', from: 'ProGet <proget@example.com>' });
  const sender = {
    key: 'smtp://x',
    label: 'x',
    settings,
    timeouts: { connectionMs: 1, greetingMs: 1, socketMs: 1 },
    fromMailbox: settings.from,
    send: async () => ({}),
  };
  const { driver } = createEmailChannel({ to: 'dev@corp.local' }, sender, kit);
  const req = driver.prepare(big, { dispatchId: 'd' }).request;
  assert.equal(req.subject, '10000 events in internal/Promoted');
  assert.equal(req.contentType, 'text/html');
  const html = req.body;
  assert.equal((html.match(/<tr>/g) || []).length, 1001, 'a header row and 1,000 events');
  assert.match(
    html,
    /<a href="https:\/\/proget\.example\.com\/feeds\/internal\/Corp\.Package5\/1\.0\.0">Corp\.Package5 1\.0\.0 Promoted on internal by ci<\/a>/,
  );
  assert.match(html, /… and 9,000 more/);
  assert.doesNotMatch(html, /<script>/);
  assert.match(html, /&lt;script&gt;/);
});

test('webhook: the digest as JSON', () => {
  const { driver } = createWebhookChannel({ url: 'http://127.0.0.1:9/hook' }, {}, kit);
  const body = JSON.parse(driver.prepare(digestOf(5), { dispatchId: 'd' }).request.body);
  driver.close?.();
  assert.equal(body.event, 'digest');
  assert.equal(body.groupKey, 'internal/Promoted');
  assert.equal(body.eventCount, '5');
  assert.equal(body.events.length, 5);
  assert.equal(body.events[0].PackageId, HOSTILE, 'JSON carries the value as it is');
  assert.deepEqual(body.countsByType, { 'Package Promoted': '5' });
});
