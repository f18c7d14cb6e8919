'use strict';
// What a reader sees from every default: 4 channels (email, Slack, Teams, webhook) x 10 event types, through
// the real channel drivers, with the sample event and with the same event missing its user name and base URL.
// The webhook bodies stay exactly ProGet's; the human-readable texts read as a person writes them: the verb and
// preposition of the event, no dangling "by", no space before a colon in a subject, absolute links from
// $WebBaseUrl that are left out when it is missing, never a relative or empty link in Slack or Teams.
const test = require('node:test');
const assert = require('node:assert/strict');
const { EVENT_CODES, normalizeEvent, sampleEvent } = require('../../dist/core/events');
const { compileTemplate, defaultTemplates } = require('../../dist/core/otterscript');
const { createSlackChannel, createTeamsChannel, createWebhookChannel } = require('../../dist/core/channels');
const { createEmailChannel } = require('../../dist/core/channels/email');
const { progetExample } = require('../helpers/seed');

const kit = { compile: compileTemplate, defaults: defaultTemplates };
const sender = {
  send: async () => ({}),
  key: 'smtp://127.0.0.1:2525',
  label: 'test',
  fromMailbox: { address: 'proget@example.com' },
  settings: {},
  timeouts: { connectionMs: 1000, greetingMs: 1000, socketMs: 1000 },
};
const drivers = {
  email: createEmailChannel({ to: 'dev@corp.local' }, sender, kit).driver,
  slack: createSlackChannel({}, { url: 'http://127.0.0.1:9/slack' }, kit).driver,
  teams: createTeamsChannel({}, { url: 'http://127.0.0.1:9/teams' }, kit).driver,
  webhook: createWebhookChannel({ url: 'http://127.0.0.1:9/hook' }, {}, kit).driver,
};

/** What a reader sees per channel: the subject and body, the Slack text, the Teams title and text, the webhook body. */
function seen(event) {
  const req = (ch) => drivers[ch].prepare(event, { dispatchId: 'd' }).request;
  const email = req('email');
  const slack = JSON.parse(req('slack').body);
  const card = JSON.parse(req('teams').body).attachments[0].content;
  return {
    subject: email.subject,
    body: email.body,
    slack: slack.blocks.find((b) => b.type === 'section' && b.text).text.text,
    slackFallback: slack.text,
    teamsTitle: card.body[0].text,
    teamsText: card.body.filter((b) => b.type === 'TextBlock')[1].text,
    webhook: req('webhook').body,
  };
}

/** The sample event without a user name and a base URL. */
function bare(code) {
  const vars = { ...sampleEvent(code).vars };
  delete vars.UserName;
  vars.WebBaseUrl = '';
  if (code === 'sca.build-issues-opened') vars.BuildId = '';
  return normalizeEvent({ type: code, vars }, { source: 'test' });
}

// The email subject and Slack text of the sample event of each type, as a reader reads them.
const SAMPLE = 'MyCorp.CoolUtils 3.2.0-pre.1';
const PKG = 'https://proget.example.com/feeds/internal-utils/MyCorp.CoolUtils/3.2.0-pre.1';
const FEED = 'https://proget.example.com/feeds/internal-utils';
const TABLE = {
  'package.added': [
    `${SAMPLE} added to internal-utils by API`,
    `*MyCorp.CoolUtils* 3.2.0-pre.1 added to *internal-utils* by API <${PKG}|View in ProGet>`,
  ],
  'package.overwritten': [
    `${SAMPLE} overwritten in internal-utils by API`,
    `*MyCorp.CoolUtils* 3.2.0-pre.1 overwritten in *internal-utils* by API <${PKG}|View in ProGet>`,
  ],
  'package.promoted': [
    `${SAMPLE} promoted to internal-utils by API`,
    `*MyCorp.CoolUtils* 3.2.0-pre.1 promoted to *internal-utils* by API <${PKG}|View in ProGet>`,
  ],
  'package.deployed': [
    `${SAMPLE} deployed from internal-utils by API`,
    `*MyCorp.CoolUtils* 3.2.0-pre.1 deployed from *internal-utils* by API <${PKG}|View in ProGet>`,
  ],
  'package.deleted': [
    `${SAMPLE} deleted from internal-utils by API`,
    `*MyCorp.CoolUtils* 3.2.0-pre.1 deleted from *internal-utils* by API <${FEED}|View the feed>`,
  ],
  'package.purged': [
    `${SAMPLE} purged from internal-utils by API`,
    `*MyCorp.CoolUtils* 3.2.0-pre.1 purged from *internal-utils* by API <${FEED}|View the feed>`,
  ],
  'package.status-changed': [
    `${SAMPLE} changed status in internal-utils by API`,
    `*MyCorp.CoolUtils* 3.2.0-pre.1 changed status in *internal-utils* by API <${PKG}|View in ProGet>`,
  ],
  'sca.noncompliant-package': [
    `${SAMPLE} is Noncompliant in internal-utils`,
    `:warning: *MyCorp.CoolUtils* 3.2.0-pre.1 is Noncompliant in *internal-utils*: Vulnerability (PGV-2358804); Package is Unlisted <${PKG}|View in ProGet>`,
  ],
  'sca.new-vulnerability': [
    'Vulnerability PGV-2245804 in Newtonsoft.Json',
    ':rotating_light: New vulnerability *PGV-2245804* (High, score 7.5): Improper Handling of Exceptional Conditions in Newtonsoft.Json\nAffected packages:\n• nuget:Newtonsoft.Json &lt; 13.0.1.',
  ],
  'sca.build-issues-opened': [
    'Issues detected in XAPUtil.Web 25.4.2',
    ':construction: Issues opened on build *XAPUtil.Web 25.4.2*:\n• #1 Noncompliant package (PGV-892418)\n• #4 Noncompliant package (MIT License)\n' +
      '<https://proget.example.com/projects/build/issues?projectBuildId=1042&resolved=Unresolved|View issues>',
  ],
};

test('the table covers every event type', () => {
  assert.deepEqual(Object.keys(TABLE).sort(), [...EVENT_CODES].sort());
});

for (const code of EVENT_CODES) {
  test(`${code}: what a reader sees in email, Slack, Teams and the webhook`, () => {
    const s = seen(sampleEvent(code));
    assert.equal(s.subject, TABLE[code][0], 'email subject');
    assert.equal(s.slack, TABLE[code][1], 'Slack text');
    assert.deepEqual(JSON.parse(s.webhook), progetExample(code), "the webhook body is exactly ProGet's");
    assert.equal(s.slackFallback, s.slack, 'the notification text is the message text');

    for (const [label, event] of [
      ['sample', sampleEvent(code)],
      ['no user, no base URL', bare(code)],
    ]) {
      const v = label === 'sample' ? s : seen(event);
      const human = [v.subject, v.body, v.slack, v.teamsTitle, v.teamsText];
      for (const text of human) {
        assert.doesNotMatch(text, /\bby\s*($|[.·\n<[])/, `${code} (${label}): dangling "by" in ${JSON.stringify(text)}`);
        assert.doesNotMatch(text, /\$[A-Za-z]/, `${code} (${label}): unexpanded variable in ${JSON.stringify(text)}`);
        assert.doesNotMatch(text, /\s{2,}$|^\s/, `${code} (${label}): stray space in ${JSON.stringify(text)}`);
      }
      assert.doesNotMatch(v.subject, / :/, `${code} (${label}): space before a colon in the subject`);
      // links: absolute http(s) in Slack (<url|label>) and Teams ([label](url)), never relative or empty
      for (const [, url] of v.slack.matchAll(/<([^>|]*)\|[^>]*>/g))
        assert.match(url, /^https:\/\/proget\.example\.com\//, `${code} (${label}): Slack link ${url}`);
      for (const [, url] of v.teamsText.matchAll(/\]\(([^)]*)\)/g))
        assert.match(url, /^https:\/\/proget\.example\.com\//, `${code} (${label}): Teams link ${url}`);
      assert.doesNotMatch(v.slack, /<\||<>|<\/|\|>/, `${code} (${label}): an empty or relative Slack link`);
      if (label !== 'sample') {
        for (const text of human)
          assert.doesNotMatch(text, /https?:|\/feeds\/|\/projects\//, `${code} (${label}): a link without a base URL in ${JSON.stringify(text)}`);
      }
    }
  });
}

test('a base URL that is not a web address gives no link, in any channel', () => {
  const event = normalizeEvent(
    { type: 'package.promoted', vars: { ...sampleEvent('package.promoted').vars, WebBaseUrl: 'javascript:alert(1)' } },
    { source: 'test' },
  );
  const v = seen(event);
  for (const text of [v.body, v.slack, v.teamsText]) assert.doesNotMatch(text, /javascript|View in ProGet|Package:/);
});
