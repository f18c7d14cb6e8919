'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Webhook } = require('standardwebhooks');
const { handleIntake, DeliveryIdCache, signGithub, safeEqual } = require('../../dist/core/intake');

const body = Buffer.from(JSON.stringify({ package: 'A', version: '1', event: 'Promoted', user: 'API', feed: 'f' }));
const json = { 'content-type': 'application/json' };
function cfg(auth = { mode: 'none' }, extra = {}) {
  return { auth, events: [], maxBytes: 1024 * 1024, dedupe: new DeliveryIdCache(), ...extra };
}
function req(headers = json, raw = body, query = {}) {
  return { method: 'POST', headers, query, rawBody: raw };
}

test('GitHub signature reproduces the published test vector', () => {
  assert.equal(signGithub("It's a Secret to Everybody", 'Hello, World!'), 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
});

test('safeEqual compares strings of different lengths without throwing', () => {
  assert.equal(safeEqual('abc', 'abc'), true);
  assert.equal(safeEqual('abc', 'abcd'), false);
});

test('a valid body is accepted with 202 and its id', () => {
  const r = handleIntake(req(), cfg());
  assert.equal(r.status, 202);
  assert.equal(r.event.type, 'package.promoted');
  assert.equal(r.body.id, r.event.id);
});

test('a Standard Webhooks signature made by the standardwebhooks library verifies', () => {
  const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
  const wh = new Webhook(secret);
  const now = new Date();
  const sig = wh.sign('msg_1', now, body.toString());
  const headers = { ...json, 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now / 1000)), 'webhook-signature': sig };
  const r = handleIntake(req(headers), cfg({ mode: 'hmac', secret }));
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal(r.event.id, 'msg_1', 'the delivery id becomes the event id');
});

test('a repeated webhook-id is answered but not emitted twice', () => {
  const secret = 'whsec_' + Buffer.from('k'.repeat(32)).toString('base64');
  const wh = new Webhook(secret);
  const now = new Date();
  const headers = {
    ...json,
    'webhook-id': 'msg_2',
    'webhook-timestamp': String(Math.floor(now / 1000)),
    'webhook-signature': wh.sign('msg_2', now, body.toString()),
  };
  const c = cfg({ mode: 'hmac', secret });
  const first = handleIntake(req(headers), c);
  assert.ok(first.event);
  assert.equal(first.dedupId, 'msg_2', 'the webhook-id is the id to remember');
  // the caller records the id once the event is stored
  c.dedupe.add(first.dedupId);
  const second = handleIntake(req(headers), c);
  assert.equal(second.status, 202);
  assert.equal(second.event, undefined);
  assert.equal(second.body.duplicate, true);
});

test('a stale timestamp, a bad signature and a missing signature are 401 with reasons', () => {
  const secret = 'whsec_' + Buffer.from('s'.repeat(32)).toString('base64');
  const wh = new Webhook(secret);
  const old = new Date(Date.now() - 10 * 60 * 1000);
  const stale = {
    ...json,
    'webhook-id': 'm',
    'webhook-timestamp': String(Math.floor(old / 1000)),
    'webhook-signature': wh.sign('m', old, body.toString()),
  };
  const r1 = handleIntake(req(stale), cfg({ mode: 'hmac', secret }));
  assert.equal(r1.status, 401);
  assert.match(r1.body.error, /tolerance/);
  const bad = { ...stale, 'webhook-timestamp': String(Math.floor(Date.now() / 1000)) };
  const r2 = handleIntake(req(bad), cfg({ mode: 'hmac', secret }));
  assert.equal(r2.status, 401);
  assert.equal(r2.body.error, 'bad signature');
  const r3 = handleIntake(req(json), cfg({ mode: 'hmac', secret }));
  assert.equal(r3.body.error, 'missing signature');
});

test('HMAC over a body that was already parsed cannot be verified and says why', () => {
  const r = handleIntake({ method: 'POST', headers: json, query: {}, parsedBody: JSON.parse(body) }, cfg({ mode: 'hmac', secret: 'x' }));
  assert.equal(r.status, 401);
  assert.match(r.body.details, /own port/);
});

test('shared secret auth compares the header value', () => {
  const c = cfg({ mode: 'secret', secret: 's3cret' });
  assert.equal(handleIntake(req({ ...json, 'x-notifier-secret': 's3cret' }), c).status, 202);
  assert.equal(handleIntake(req({ ...json, authorization: 'Bearer s3cret' }), c).status, 202);
  assert.equal(handleIntake(req({ ...json, 'x-notifier-secret': 'nope' }), c).status, 401);
  assert.equal(handleIntake(req(json), c).body.error, 'missing secret');
});

test('content type, size, encoding and JSON errors get their status', () => {
  assert.equal(handleIntake(req({ 'content-type': 'text/plain' }), cfg()).status, 415);
  assert.equal(handleIntake(req({}), cfg()).status, 415);
  assert.equal(handleIntake(req({ 'content-type': 'application/json; charset=latin1' }), cfg()).status, 415);
  assert.equal(handleIntake(req(json, Buffer.alloc(2000, 32)), cfg(undefined, { maxBytes: 1000 })).status, 413);
  assert.equal(handleIntake(req(json, Buffer.from('{"a":')), cfg()).body.error, 'malformed JSON');
  assert.equal(handleIntake(req(json, Buffer.from([0x7b, 0xff, 0x7d])), cfg()).body.error, 'body is not valid UTF-8');
  assert.equal(handleIntake(req(json, Buffer.alloc(0)), cfg()).body.error, 'empty body');
  assert.equal(handleIntake({ method: 'GET', headers: json, query: {} }, cfg()).status, 405);
});

test('?event= names the type explicitly and unselected types are ignored, not emitted', () => {
  const r = handleIntake(req(json, body, { event: 'Deleted' }), cfg());
  assert.equal(r.event.type, 'package.deleted');
  const ignored = handleIntake(req(), cfg(undefined, { events: ['sca.new-vulnerability'] }));
  assert.equal(ignored.status, 202);
  assert.equal(ignored.event, undefined);
  assert.match(ignored.body.ignored, /not selected/);
});

test('the delivery id cache forgets ids after its TTL and stays bounded', () => {
  const c = new DeliveryIdCache(1000, 10);
  assert.equal(c.checkAndAdd('a', 0), false);
  assert.equal(c.checkAndAdd('a', 500), true);
  assert.equal(c.checkAndAdd('a', 2000), false);
  for (let i = 0; i < 100; i++) c.checkAndAdd(`id${i}`, 3000 + i * 1000);
  assert.ok(c.size <= 11, `size ${c.size}`);
});
