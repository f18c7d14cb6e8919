'use strict';
// Slack messages: Block Kit defaults, limits, answers, and one message per second per webhook URL.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startSlackReceiver, slackPayloadError, SLACK_LIMITS } = require('../helpers/receivers');
const { sampleEvent, EVENT_TYPES } = require('../../dist/core/events');
const { compileTemplate, defaultTemplates } = require('../../dist/core/otterscript');
const { DeliveryEngine, Dispatcher, ManualClock } = require('../../dist/core/delivery');
const { Redactor } = require('../../dist/core/redact');
const { createSlackChannel, enforceSlackLimits, classifySlackResponse, customSlackMessage } = require('../../dist/core/channels/slack');

const kit = { compile: compileTemplate, defaults: defaultTemplates };

function payloadFor(config, event) {
  const { driver } = createSlackChannel(config, { url: 'https://hooks.slack.com/services/T1/B1/xyzxyzxyz' }, kit);
  try {
    return JSON.parse(driver.prepare(event, { dispatchId: 'd' }).request.body);
  } finally {
    driver.close();
  }
}

test('the default message of every event type is Block Kit (header, facts as fields, context) with a text fallback, valid for Slack', () => {
  for (const { code, label } of EVENT_TYPES) {
    const p = payloadFor({}, sampleEvent(code));
    assert.equal(slackPayloadError(JSON.stringify(p)), undefined, code);
    assert.equal(typeof p.text, 'string');
    assert.ok(p.text.length > 10, `${code} has a fallback text`);
    assert.deepEqual(p.blocks[0], { type: 'header', text: { type: 'plain_text', text: label, emoji: true } });
    const fields = p.blocks.find((b) => b.type === 'section' && b.fields);
    assert.ok(fields.fields.length >= 3, `${code} facts`);
    assert.ok(fields.fields.every((f) => f.type === 'mrkdwn' && /^\*[^*]+\*\n/.test(f.text)));
    assert.equal(p.blocks.at(-1).type, 'context');
  }
  const pkg = payloadFor({}, sampleEvent('package.promoted'));
  assert.equal(
    pkg.text,
    '*MyCorp.CoolUtils* 3.2.0-pre.1 promoted to *internal-utils* by API <https://proget.example.com/feeds/internal-utils/MyCorp.CoolUtils/3.2.0-pre.1|View in ProGet>',
  );
  assert.match(pkg.blocks.at(-1).elements[0].text, /^Feed internal-utils · by API · \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
});

test('a custom text template is sent as mrkdwn text; a JSON object with blocks is sent as the payload', () => {
  assert.deepEqual(payloadFor({ text: 'New: *$PackageId* in $FeedName' }, sampleEvent('package.added')), {
    text: 'New: *MyCorp.CoolUtils* in internal-utils',
  });
  const blocks = payloadFor(
    { text: '{"text":"fallback $PackageId","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}]}' },
    sampleEvent('package.added'),
  );
  assert.deepEqual(blocks, { text: 'fallback MyCorp.CoolUtils', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }] });
  assert.deepEqual(customSlackMessage('{not json'), { text: '{not json' });
});

test("over-long texts stay within Slack's limits, cut visibly", () => {
  const ev = sampleEvent('sca.new-vulnerability');
  ev.vars.VulnerabilitySummary = 'S'.repeat(10_000);
  ev.vars.AffectedPackages = Array.from({ length: 400 }, (_, i) => ({ Name: `npm:pkg-${i}`, AffectedVersions: '< 1.0.0' }));
  const p = payloadFor({}, ev);
  assert.equal(slackPayloadError(JSON.stringify(p)), undefined);
  const section = p.blocks.find((b) => b.type === 'section' && b.text);
  assert.equal(section.text.text.length, SLACK_LIMITS.sectionText);
  assert.match(section.text.text, /… \(truncated\)$/);
  for (const f of p.blocks.find((b) => b.fields).fields) assert.ok(f.text.length <= SLACK_LIMITS.fieldText);
  assert.ok(p.blocks.find((b) => b.fields).fields.some((f) => /… \(truncated\)$/.test(f.text)));

  const long = payloadFor({ text: 'x'.repeat(60_000) }, sampleEvent('package.added'));
  assert.equal(long.text.length, SLACK_LIMITS.text);
  assert.match(long.text, /… \(truncated\)$/);

  const many = enforceSlackLimits({
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'H'.repeat(400) } },
      { type: 'section', fields: Array.from({ length: 14 }, (_, i) => ({ type: 'mrkdwn', text: `f${i}` })) },
      ...Array.from({ length: 70 }, () => ({ type: 'section', text: { type: 'mrkdwn', text: 'y'.repeat(5000) } })),
    ],
  });
  assert.equal(slackPayloadError(JSON.stringify(many)), undefined);
  assert.equal(many.blocks.length, 50);
  assert.equal(many.blocks[0].text.text.length, 150);
  assert.equal(many.blocks[1].fields.length, 10);
  assert.equal(many.blocks[1].fields[9].text, '… (5 more fields truncated)');
  assert.match(many.blocks[49].elements[0].text, /23 more blocks truncated/);
});

test("Slack's answers: ok delivered; permanent error codes fail at once; 429 and 5xx are retried", () => {
  const res = (status, body, headers = {}) => ({ status, statusText: '', headers, body, truncated: false });
  assert.equal(classifySlackResponse(res(200, 'ok'), 0).kind, 'delivered');
  for (const [status, code] of [
    [400, 'invalid_payload'],
    [403, 'invalid_token'],
    [403, 'action_prohibited'],
    [404, 'channel_not_found'],
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ]) {
    const r = classifySlackResponse(res(status, code), 0);
    assert.equal(r.kind, 'permanent', code);
    assert.equal(r.code, `slack_${code}`);
  }
  const limited = classifySlackResponse(res(429, '{"ok":false,"error":"rate_limited","retry_after":3}', { 'retry-after': '3' }), 0);
  assert.equal(limited.kind, 'retryable');
  assert.equal(limited.retryAfterMs, 3000);
  assert.equal(classifySlackResponse(res(500, 'rollup_error'), 0).kind, 'retryable');
  assert.equal(classifySlackResponse(res(503, 'service unavailable, try again'), 0).kind, 'retryable');
});

test('ten messages to one webhook URL are spaced at least one second apart (virtual clock)', async () => {
  const rx = await startSlackReceiver();
  const clock = new ManualClock();
  try {
    const ch = createSlackChannel({}, { url: rx.webhookUrl }, kit);
    const engine = new DeliveryEngine({
      ...ch.engine,
      clock,
      onEvent: (e) => e.type === 'rate-wait' && setImmediate(() => clock.advance(e.delayMs)),
    });
    const d = new Dispatcher({ engine, driver: ch.driver, notifier: 's', notifierId: 's', redactor: new Redactor([rx.webhookUrl]) });
    const recs = await Promise.all(Array.from({ length: 10 }, () => d.dispatch(sampleEvent('package.added'))));
    await d.close();
    assert.deepEqual(
      recs.map((r) => r.outcome),
      Array(10).fill('delivered'),
    );
    const starts = recs.map((r) => Date.parse(r.attemptLog[0].startedAt)).sort((a, b) => a - b);
    for (let i = 1; i < starts.length; i++) assert.ok(starts[i] - starts[i - 1] >= 1000, `gap ${i}: ${starts[i] - starts[i - 1]} ms`);
    assert.equal(rx.requests.length, 10);
    for (const r of recs) assert.equal(r.request.url, rx.base + '/services/T0TESTTEAM/B0TESTBOT/<redacted>');
  } finally {
    await rx.close();
  }
});

test('configuration errors name the field and never echo the URL', () => {
  assert.throws(() => createSlackChannel({}, {}, kit), /Slack webhook URL is required/);
  assert.throws(
    () => createSlackChannel({}, { url: 'hooks.slack.com/services/T/B/S3CR3TTOKEN' }, kit),
    (e) => /not a valid absolute URL/.test(e.message) && !e.message.includes('S3CR3TTOKEN'),
  );
  assert.throws(() => createSlackChannel({ text: '$Join(' }, { url: 'https://hooks.slack.com/services/T/B/x' }, kit), /text: /);
});

test('a value inside a Block Kit template cannot close its JSON string to add blocks or buttons, nor ping or link', () => {
  const { normalizeEvent } = require('../../dist/core/events');
  const attack =
    'x"}},{"type":"actions","elements":[{"type":"button","url":"https://evil.example","text":{"type":"plain_text","text":"go"}}]},{"type":"section","text":{"type":"mrkdwn","text":"<!channel>';
  const event = normalizeEvent({ event: 'package.added', PackageId: attack, PackageVersion: '1', FeedName: 'f' });
  const p = payloadFor({ text: '{"text":"New: $PackageId","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*$PackageId*"}}]}' }, event);
  assert.equal(p.blocks.length, 1);
  assert.equal(p.blocks[0].type, 'section');
  assert.equal(p.blocks[0].text.text, `*${attack.replace(/</g, '&lt;').replace(/>/g, '&gt;')}*`);
  assert.doesNotMatch(JSON.stringify(p), /<!channel>/);
});
