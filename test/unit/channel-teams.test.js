'use strict';
// Teams messages: the default Adaptive Card of every event type, the 28 KB limit, MessageCard, answers.
const test = require('node:test');
const assert = require('node:assert/strict');
const { sampleEvent, EVENT_TYPES } = require('../../dist/core/events');
const { compileTemplate, defaultTemplates } = require('../../dist/core/otterscript');
const { createTeamsChannel, buildTeamsMessage, teamsParts, classifyTeamsResponse, TEAMS_MAX_BYTES } = require('../../dist/core/channels/teams');
const { cardProblems } = require('../helpers/receivers');

const kit = { compile: compileTemplate, defaults: defaultTemplates };

function prepared(config, event) {
  const { driver } = createTeamsChannel(config, { url: 'https://example.invalid/workflows/x?sig=abc' }, kit);
  try {
    return driver.prepare(event, { dispatchId: 'd1' });
  } finally {
    driver.close();
  }
}

test('the default card of every event type is an Adaptive Card 1.4 in the Workflows envelope and parses without a single warning', () => {
  for (const { code } of EVENT_TYPES) {
    const p = prepared({}, sampleEvent(code));
    const msg = JSON.parse(p.request.body);
    assert.equal(msg.type, 'message', code);
    assert.equal(msg.attachments.length, 1);
    assert.equal(msg.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');
    const card = msg.attachments[0].content;
    assert.equal(card.type, 'AdaptiveCard');
    assert.equal(card.version, '1.4');
    assert.deepEqual(cardProblems(card), [], code);
    assert.equal(card.body[0].type, 'TextBlock');
    assert.equal(card.body[0].weight, 'Bolder');
    assert.ok(
      card.body.some((b) => b.type === 'FactSet' && b.facts.length >= 3),
      `${code} has facts`,
    );
  }
});

test('the title and text come from the default templates, or from the node templates', () => {
  const ev = sampleEvent('sca.new-vulnerability');
  const def = JSON.parse(prepared({}, ev).request.body).attachments[0].content;
  assert.equal(def.body[0].text, 'New vulnerability PGV-2245804 (High, score 7.5)');
  assert.match(def.body[2].text, /Improper Handling of Exceptional Conditions/);
  const custom = JSON.parse(prepared({ title: 'Vuln $VulnerabilityId', text: 'Score **$VulnerabilityScore**' }, ev).request.body).attachments[0]
    .content;
  assert.equal(custom.body[0].text, 'Vuln PGV-2245804');
  assert.equal(custom.body[2].text, 'Score **7.5**');
});

test('a 40 KB message is cut to 28 KB or less, visibly, and still parses cleanly', () => {
  const ev = sampleEvent('sca.build-issues-opened');
  ev.vars.BuildIssues = Array.from({ length: 300 }, (_, i) => ({
    Sequence: String(i + 1),
    Detail: `Noncompliant package (PGV-${100000 + i}) ${'x'.repeat(100)}`,
  }));
  const parts = teamsParts(ev, 'Issues', 'y'.repeat(8000));
  const uncut = buildTeamsMessage('adaptive', parts, Infinity);
  assert.ok(Buffer.byteLength(JSON.stringify(uncut)) >= 40 * 1024, 'the input really is over 40 KB');
  const cut = buildTeamsMessage('adaptive', parts);
  const size = Buffer.byteLength(JSON.stringify(cut));
  assert.ok(size <= TEAMS_MAX_BYTES, `${size} bytes`);
  assert.ok(size > 26 * 1024, `cut no more than needed (${size} bytes kept)`);
  const card = cut.attachments[0].content;
  assert.match(JSON.stringify(card), /truncated|cut \(Teams allows 28 KB\)/);
  assert.deepEqual(cardProblems(card), []);
  // a huge text alone is cut to fit, keeping the facts
  const textOnly = buildTeamsMessage('adaptive', teamsParts(sampleEvent('package.added'), 'T', 'z'.repeat(40 * 1024)));
  assert.ok(Buffer.byteLength(JSON.stringify(textOnly)) <= TEAMS_MAX_BYTES);
  const body = textOnly.attachments[0].content.body;
  assert.ok(body.find((b) => b.type === 'FactSet').facts.length >= 4);
  assert.match(body[2].text, /… \(truncated\)$/);
  // multi-byte and JSON-escaped characters count as what they weigh on the wire
  const heavy = buildTeamsMessage('adaptive', teamsParts(sampleEvent('package.added'), 'T', '"😀\n'.repeat(12000)));
  assert.ok(Buffer.byteLength(JSON.stringify(heavy)) <= TEAMS_MAX_BYTES);
});

test('format messagecard sends the legacy MessageCard with title, text and facts', () => {
  const msg = JSON.parse(prepared({ format: 'messagecard' }, sampleEvent('package.deleted')).request.body);
  assert.equal(msg['@type'], 'MessageCard');
  assert.equal(msg['@context'], 'https://schema.org/extensions');
  assert.equal(msg.title, 'MyCorp.CoolUtils 3.2.0-pre.1 deleted from internal-utils');
  assert.ok(msg.sections[0].facts.some((f) => f.name === 'Package' && f.value === 'MyCorp.CoolUtils'));
});

test('answers: 200 and 202 are delivered; legacy 200 bodies that are errors are not', () => {
  const res = (status, body = '') => ({ status, statusText: '', headers: {}, body, truncated: false });
  const adaptive = classifyTeamsResponse('adaptive');
  const legacy = classifyTeamsResponse('messagecard');
  assert.equal(adaptive(res(202), 0).kind, 'delivered');
  assert.equal(adaptive(res(200), 0).kind, 'delivered');
  assert.equal(adaptive(res(413), 0).kind, 'permanent');
  assert.equal(adaptive(res(429), 0).kind, 'retryable');
  assert.equal(legacy(res(200, '1'), 0).kind, 'delivered');
  const throttled = legacy(res(200, 'Microsoft Teams endpoint returned HTTP error 429 with ContextId …'), 0);
  assert.equal(throttled.kind, 'retryable');
  assert.equal(throttled.code, 'teams_429');
  assert.equal(legacy(res(200, 'Webhook Bad Request - Null or empty event'), 0).code, 'teams_error');
});

test('configuration errors name the field and never echo the URL', () => {
  assert.throws(() => createTeamsChannel({}, {}, kit), /Teams Workflows webhook URL is required/);
  assert.throws(
    () => createTeamsChannel({}, { url: 'ftp://secret-host/x?sig=S3CR3T' }, kit),
    (e) => /must use http or https/.test(e.message) && !e.message.includes('S3CR3T'),
  );
  assert.throws(() => createTeamsChannel({ format: 'html' }, { url: 'https://x.invalid/' }, kit), /format must be one of adaptive, messagecard/);
  assert.throws(() => createTeamsChannel({ title: '$Bad(' }, { url: 'https://x.invalid/' }, kit), /^Error: title: |title: /);
});
