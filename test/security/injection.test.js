'use strict';
// Values chosen by whoever publishes a package, through a real runtime to real local receivers (Slack and
// Teams receivers, an SMTP server parsed with mailparser): they come out as text. A package named
// `<!channel> <https://evil.example|click>` pings nobody and links nowhere in Slack; `[md](https://evil.example)`
// is no link in the Teams card (parsed with Microsoft's adaptivecards library); a user name that smuggles
// addresses into `$UserName@corp.local` sends no mail (permanent bad_recipient); `javascript:alert(1)` as
// $WebBaseUrl never reaches an HTML attribute.
const test = require('node:test');
const assert = require('node:assert/strict');
const AC = require('adaptivecards/dist/adaptivecards.js');
const { startRuntime } = require('../helpers/nr');
const { startSlackReceiver, startTeamsReceiver } = require('../helpers/receivers');
const { startSmtpServer } = require('../helpers/smtp');

const ATTACK = {
  event: 'package.promoted',
  PackageId: '<!channel> <https://evil.example|click>',
  PackageVersion: '[md](https://evil.example)',
  FeedName: 'internal',
  UserName: 'attacker@evil.example; "x" <spy@evil.example>, bob',
  WebBaseUrl: 'javascript:alert(1)',
};

let rt;
let slack;
let teams;
let smtp;

test.before(async () => {
  [slack, teams, smtp] = await Promise.all([startSlackReceiver(), startTeamsReceiver(), startSmtpServer({ starttls: false })]);
  rt = await startRuntime({ logLevel: process.env.NR_LOG || 'off' });
  await rt.deploy([
    { id: 't1', type: 'tab', label: 'injection' },
    {
      id: 'ev',
      z: 't1',
      type: 'notifier-event',
      path: '/proget/events',
      events: [],
      auth: 'secret',
      credentials: { secret: 'shh' },
      wires: [['sl', 'tm', 'mailTo', 'mailHtml']],
    },
    { id: 'sl', z: 't1', type: 'notifier-slack', name: 'slack', credentials: { url: slack.webhookUrl }, wires: [['out']] },
    { id: 'tm', z: 't1', type: 'notifier-teams', name: 'teams', credentials: { url: teams.url('/workflows/trigger?sig=s3cret') }, wires: [['out']] },
    { id: 'smtp', type: 'notifier-smtp', host: '127.0.0.1', port: smtp.port, security: 'none', authType: 'none', from: 'ProGet <proget@corp.local>' },
    { id: 'mailTo', z: 't1', type: 'notifier-email', name: 'to-template', smtp: 'smtp', to: '$UserName@corp.local', wires: [['out']] },
    {
      id: 'mailHtml',
      z: 't1',
      type: 'notifier-email',
      name: 'html',
      smtp: 'smtp',
      to: 'dev@corp.local',
      html: true,
      subject: 'New: $PackageId',
      body: '<p><a href="$WebBaseUrl/feeds/$FeedName">$PackageId</a> <img src=\'$WebBaseUrl\'> <a href=$WebBaseUrl title=$PackageId>x</a></p>',
      wires: [['out']],
    },
    { id: 'out', z: 't1', type: 'debug', active: false },
  ]);
});
test.after(async () => {
  if (rt) await rt.stop();
  await Promise.all([slack?.close(), teams?.close(), smtp?.close()]);
});

/** Text with CommonMark's backslash escapes taken out (an escaped character is literal text). */
function literalMarkdown(text) {
  return text.replace(/\\[!-/:-@[-`{-~]/g, '·');
}

test('the attack event reaches every channel and every value comes out inert', async () => {
  // listen before posting: a dispatch that fails at once (bad_recipient) can reach the next node before the 202 does
  const out = rt.inbox('out');
  const res = await fetch(rt.nodeUrl + '/proget/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-notifier-secret': 'shh' },
    body: JSON.stringify(ATTACK),
  });
  assert.equal(res.status, 202);
  const records = {};
  for (const name of ['slack', 'teams', 'to-template', 'html']) {
    records[name] = (await out.until((m) => m.dispatch?.notifier === name, 20000)).dispatch;
  }

  // Slack: delivered (the receiver checks the payload as Slack does), no mention, no link from a value
  assert.equal(records.slack.outcome, 'delivered');
  const payload = JSON.parse((await slack.next()).body);
  const texts = [payload.text];
  for (const b of payload.blocks) {
    if (b.text) texts.push(b.text.text);
    for (const f of b.fields ?? []) texts.push(f.text);
    for (const e of b.elements ?? []) texts.push(e.text);
  }
  assert.ok(texts.length >= 5);
  for (const t of texts) {
    assert.doesNotMatch(t, /<!channel>|<!here>|<https?:\/\/evil|<javascript:/, `Slack text ${JSON.stringify(t)}`);
  }
  assert.match(payload.text, /&lt;!channel&gt; &lt;https:\/\/evil\.example\|click&gt;/, 'the name is shown as text');

  // Teams: a clean Adaptive Card 1.4; no markdown link, bold or autolink from a value in any text
  assert.equal(records.teams.outcome, 'delivered');
  const card = JSON.parse((await teams.next()).body).attachments[0].content;
  const ac = new AC.AdaptiveCard();
  const ctx = new AC.SerializationContext(AC.Versions.v1_4);
  ac.parse(card, ctx);
  assert.equal(ctx.eventCount, 0);
  const cardTexts = [];
  for (const b of card.body) {
    if (b.type === 'TextBlock') cardTexts.push(b.text);
    for (const f of b.facts ?? []) cardTexts.push(f.value);
  }
  for (const t of cardTexts) {
    const literal = literalMarkdown(t);
    assert.doesNotMatch(literal, /\[[^\]]*\]\([^)]*\)/, `Teams text ${JSON.stringify(t)} has a markdown link`);
    assert.doesNotMatch(literal, /<[a-z]+:/i, `Teams text ${JSON.stringify(t)} has an autolink`);
    assert.doesNotMatch(literal, /evil\.example\)/, `Teams text ${JSON.stringify(t)}`);
  }
  assert.ok(
    cardTexts.some((t) => t.includes('\\[md\\]\\(https://evil.example\\)')),
    'the version is shown as text',
  );

  // Email To: a value cannot add recipients: permanent bad_recipient, nothing sent to any of them
  assert.equal(records['to-template'].outcome, 'failed');
  assert.equal(records['to-template'].error.code, 'bad_recipient');
  assert.equal(records['to-template'].error.permanent, true);

  // HTML email: one message, to dev@corp.local only; no javascript: URL, the name escaped
  assert.equal(records.html.outcome, 'delivered');
  const mail = await smtp.message(1);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(smtp.messages.length, 1, 'only the HTML mail was sent');
  assert.deepEqual(mail.envelope.to, ['dev@corp.local']);
  const html = mail.mail.html;
  assert.doesNotMatch(html, /javascript:/i);
  assert.doesNotMatch(html, /<!channel>|<https:\/\/evil/);
  assert.match(html, /href="about:invalid#unsafe-url\/feeds\/internal"/);
  assert.match(html, /&lt;!channel&gt; &lt;https:\/\/evil\.example\|click&gt;<\/a>/);
  assert.match(html, /title=&lt;!channel&gt;&#32;&lt;https:\/\/evil\.example\|click&gt;>/, 'an unquoted attribute cannot be broken out of');
  assert.equal(mail.mail.subject, 'New: <!channel> <https://evil.example|click>', 'a subject is plain text, shown as sent');
});
