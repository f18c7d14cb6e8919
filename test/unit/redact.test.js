'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { redactUrl, redactHeaders, isSensitiveHeader, cutUtf8, Redactor, REDACTED } = require('../../dist/core/redact');

test('Slack webhook URLs keep team and bot ids, lose the token', () => {
  assert.equal(
    redactUrl('https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuvwx'),
    'https://hooks.slack.com/services/T0123ABCD/B0456EFGH/<redacted>',
  );
  assert.equal(
    redactUrl('https://hooks.slack.com/triggers/T0123ABCD/123456789/0a1b2c3d4e5f'),
    'https://hooks.slack.com/triggers/T0123ABCD/123456789/<redacted>',
  );
});

test('Slack-style /services/T…/B…/token paths are redacted on any host', () => {
  assert.equal(redactUrl('http://127.0.0.1:9999/services/T0AB/B0CD/tok3n'), 'http://127.0.0.1:9999/services/T0AB/B0CD/<redacted>');
});

test('Teams Workflows / Logic Apps URLs lose the sig parameter, keep the others', () => {
  const url =
    'https://prod-12.westeurope.logic.azure.com:443/workflows/0f1e2d/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=AbC123_secretSIG-xyz';
  const out = redactUrl(url);
  assert.ok(!out.includes('AbC123_secretSIG-xyz'), out);
  assert.match(out, /[?&]sig=<redacted>/);
  assert.match(out, /api-version=2016-06-01/);
  assert.match(out, /sp=%2Ftriggers%2Fmanual%2Frun/);
  const pp = redactUrl(
    'https://default123.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=ZZZsecretZZZ',
  );
  assert.ok(!pp.includes('ZZZsecretZZZ'));
});

test('other URL secrets: user:password, token-like query parameters; ordinary URLs are unchanged', () => {
  assert.equal(redactUrl('https://bob:hunter22@example.com/hook'), 'https://bob:<redacted>@example.com/hook');
  assert.equal(redactUrl('https://example.com/h?token=abc123&x=1'), 'https://example.com/h?token=<redacted>&x=1');
  assert.equal(redactUrl('https://example.com/h?api_key=abc123'), 'https://example.com/h?api_key=<redacted>');
  assert.equal(redactUrl('https://discord.com/api/webhooks/123/secret-token'), 'https://discord.com/api/webhooks/123/<redacted>');
  assert.equal(redactUrl('http://127.0.0.1:8080/hooks/proget?feed=x'), 'http://127.0.0.1:8080/hooks/proget?feed=x');
  assert.equal(redactUrl('not a url'), 'not a url');
});

test('sensitive headers are redacted by name, others kept', () => {
  const h = redactHeaders({
    Authorization: 'Bearer abc',
    'Content-Type': 'application/json',
    'webhook-signature': 'v1,xyz',
    'webhook-id': 'evt_1',
    'X-Hub-Signature-256': 'sha256=00',
    'X-Api-Key': 'k',
    'X-My-Token': 't',
    Cookie: 'a=b',
  });
  assert.deepEqual(h, {
    Authorization: REDACTED,
    'Content-Type': 'application/json',
    'webhook-signature': REDACTED,
    'webhook-id': 'evt_1',
    'X-Hub-Signature-256': REDACTED,
    'X-Api-Key': REDACTED,
    'X-My-Token': REDACTED,
    Cookie: REDACTED,
  });
  assert.equal(isSensitiveHeader('webhook-timestamp'), false);
});

test('Redactor replaces known secrets and their encoded forms anywhere in text', () => {
  const slack = 'https://hooks.slack.com/services/T0AAAA/B0BBBB/s3cr3tT0k3nValue';
  const r = new Redactor(['p@ss word!', slack, undefined, '', 'abc']);
  assert.equal(r.text('login with p@ss word! now'), `login with ${REDACTED} now`);
  assert.equal(r.text('q=p%40ss%20word!'), `q=${REDACTED}`);
  assert.equal(r.text(`failed to post to ${slack}`), 'failed to post to https://hooks.slack.com/services/T0AAAA/B0BBBB/<redacted>');
  assert.equal(r.text('token s3cr3tT0k3nValue seen'), `token ${REDACTED} seen`);
  assert.equal(r.text('abc is too short to be searched'), 'abc is too short to be searched');
  assert.deepEqual(r.deep({ a: ['x p@ss word! y'], n: 1 }), { a: [`x ${REDACTED} y`], n: 1 });
  assert.deepEqual(r.headers({ 'X-Echo': 'p@ss word!', Authorization: 'Basic zzz' }), { 'X-Echo': REDACTED, Authorization: REDACTED });
});

test('cutUtf8 keeps short text, cuts long text at a character boundary within the byte limit, visibly', () => {
  assert.equal(cutUtf8('short', 100), 'short');
  const long = 'é'.repeat(70 * 1024);
  const cut = cutUtf8(long, 64 * 1024);
  assert.ok(Buffer.byteLength(cut) <= 64 * 1024);
  assert.match(cut, /… \[truncated: 143360 bytes in all\]$/);
  assert.ok(!cut.includes('\ufffd'), 'no broken character');
  const emoji = cutUtf8('😀'.repeat(3000), 4096);
  assert.ok(Buffer.byteLength(emoji) <= 4096);
  assert.ok(!emoji.includes('\ufffd'));
});
