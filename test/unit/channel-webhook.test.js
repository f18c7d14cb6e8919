'use strict';
// The webhook channel + delivery engine against real peers on 127.0.0.1: every status and network
// failure retried or not as the policy says, attempts and delays recorded; signing; headers.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Webhook } = require('standardwebhooks');
const { startReceiver, refusedUrl } = require('../helpers/receivers');
const { sampleEvent } = require('../../dist/core/events');
const { compileTemplate, defaultTemplates } = require('../../dist/core/otterscript');
const { DeliveryEngine, Dispatcher, ManualClock, systemClock } = require('../../dist/core/delivery');
const { Redactor } = require('../../dist/core/redact');
const { createWebhookChannel, githubSignature, parseHeaderLines } = require('../../dist/core/channels');

const kit = { compile: compileTemplate, defaults: defaultTemplates };

/**
 * A webhook dispatcher. On the virtual clock, waits (backoff, Retry-After, rate) pass at once: the
 * engine reports each wait and the clock jumps over it.
 */
function makeDispatcher(config, credentials = {}, { clock = 'manual', policy = {} } = {}) {
  const channel = createWebhookChannel(config, credentials, kit);
  const manual = clock === 'manual' ? new ManualClock({ random: 0.5 }) : undefined;
  const engine = new DeliveryEngine({
    ...channel.engine,
    policy: { ...channel.engine.policy, ...policy },
    clock: manual ?? systemClock,
    onEvent: (e) => {
      if (manual && (e.type === 'retry-wait' || e.type === 'rate-wait')) setImmediate(() => manual.advance(e.delayMs));
    },
  });
  const redactor = new Redactor(Object.values(credentials));
  for (const s of channel.secrets) redactor.add(s);
  return new Dispatcher({ engine, driver: channel.driver, notifier: 'hook', notifierId: 'n1', redactor });
}

const retried = (n) => ({ retried: true, attempts: n });
const once = { retried: false, attempts: 1 };

test('status and failure table: retried or not as the policy says, with attempts and delays recorded', async (t) => {
  const rx = await startReceiver();
  const MAX = 3;
  const rows = [
    [200, 'delivered', once],
    [201, 'delivered', once],
    [202, 'delivered', once],
    [204, 'delivered', once],
    [301, 'failed', once],
    [302, 'failed', once],
    [400, 'failed', once],
    [401, 'failed', once],
    [403, 'failed', once],
    [404, 'failed', once],
    [408, 'failed', retried(MAX)],
    [410, 'failed', once],
    [413, 'failed', once],
    [425, 'failed', retried(MAX)],
    [429, 'failed', retried(MAX)],
    [500, 'failed', retried(MAX)],
    [501, 'failed', once],
    [502, 'failed', retried(MAX)],
    [503, 'failed', retried(MAX)],
    [504, 'failed', retried(MAX)],
  ];
  try {
    for (const [status, outcome, expect] of rows) {
      await t.test(`HTTP ${status}: ${outcome}${expect.retried ? `, retried to ${MAX} attempts` : ', not retried'}`, async () => {
        const before = rx.requests.length;
        rx.answer({ status, headers: status >= 300 && status < 400 ? { Location: 'https://elsewhere.example/' } : {} });
        const d = makeDispatcher({ url: rx.url(`/s${status}`), retries: MAX - 1 });
        const rec = await d.dispatch(sampleEvent('package.added'));
        await d.close();
        assert.equal(rec.outcome, outcome);
        assert.equal(rec.attempts, expect.attempts);
        assert.equal(rx.requests.length - before, expect.attempts, 'requests that reached the receiver');
        assert.equal(rec.attemptLog.length, expect.attempts);
        assert.deepEqual(
          rec.attemptLog.map((a) => a.status),
          Array(expect.attempts).fill(status),
        );
        assert.equal(rec.response.status, status);
        if (expect.retried) {
          // full jitter with random 0.5 and a 1 s base: 500 ms, then 1000 ms
          assert.deepEqual(
            rec.attemptLog.map((a) => a.delayMs),
            [500, 1000, undefined],
          );
          assert.equal(rec.error.permanent, false);
          assert.equal(rec.error.code, `http_${status}`);
          assert.match(rec.error.message, /gave up after 3 attempts/);
        } else if (outcome === 'failed') {
          assert.equal(rec.error.permanent, true);
          assert.equal(rec.attemptLog[0].delayMs, undefined);
          if (status < 400) assert.match(rec.error.message, /redirects are not followed \(to https:\/\/elsewhere\.example\/\)/);
        } else {
          assert.equal(rec.error, undefined);
        }
      });
    }

    const failures = [
      ['connection refused', async () => refusedUrl(), 'ECONNREFUSED', {}],
      ['connection reset', async () => (rx.answer({ action: 'reset' }), rx.url('/reset')), 'ECONNRESET', {}],
      ['DNS failure (.invalid host)', async () => 'http://no-such-host.invalid/hook', 'ENOTFOUND', {}],
      [
        'timeout (the peer never answers)',
        async () => (rx.answer({ action: 'hang' }), rx.url('/hang')),
        'timeout',
        { clock: 'real', policy: { timeoutMs: 200, baseDelayMs: 5 } },
      ],
    ];
    for (const [name, makeUrl, code, opts] of failures) {
      await t.test(`${name}: retried to ${MAX} attempts, recorded as ${code}`, async () => {
        const url = await makeUrl();
        const d = makeDispatcher({ url, retries: MAX - 1 }, {}, opts);
        const rec = await d.dispatch(sampleEvent('package.added'));
        await d.close();
        assert.equal(rec.outcome, 'failed');
        assert.equal(rec.attempts, MAX);
        assert.equal(rec.error.code, code);
        assert.equal(rec.error.permanent, false);
        assert.equal(rec.response, undefined, 'no answer came back');
        for (const a of rec.attemptLog) assert.match(a.error, new RegExp(`^${code}`));
        assert.equal(rec.attemptLog.filter((a) => a.delayMs !== undefined).length, MAX - 1, 'a delay before each retry');
        if (code === 'timeout') for (const a of rec.attemptLog) assert.ok(a.durationMs >= 190, `timed out after ${a.durationMs} ms`);
      });
    }
  } finally {
    await rx.close();
  }
});

test('a retry that succeeds: 503, 503, 200 is delivered on the third attempt', async () => {
  const rx = await startReceiver();
  try {
    rx.queue({ status: 503 }, { action: 'reset' }, { status: 200, body: 'fine' });
    const d = makeDispatcher({ url: rx.url() });
    const rec = await d.dispatch(sampleEvent('package.added'));
    await d.close();
    assert.equal(rec.outcome, 'delivered');
    assert.equal(rec.attempts, 3);
    assert.deepEqual(
      rec.attemptLog.map((a) => a.status ?? a.error.split(':')[0]),
      [503, 'ECONNRESET', 200],
    );
    assert.equal(rec.response.body, 'fine');
  } finally {
    await rx.close();
  }
});

test('Retry-After in seconds and as an HTTP date is honoured (and capped)', async () => {
  const rx = await startReceiver();
  try {
    rx.queue({ status: 429, headers: { 'Retry-After': '7' } }, { status: 200 });
    const d1 = makeDispatcher({ url: rx.url() });
    const r1 = await d1.dispatch(sampleEvent('package.added'));
    await d1.close();
    assert.equal(r1.outcome, 'delivered');
    assert.equal(r1.attemptLog[0].delayMs, 7000);

    rx.queue({ status: 503, headers: { 'Retry-After': new Date(Date.now() + 30_000).toUTCString() } }, { status: 200 });
    const d2 = makeDispatcher({ url: rx.url() });
    const r2 = await d2.dispatch(sampleEvent('package.added'));
    await d2.close();
    assert.equal(r2.outcome, 'delivered');
    assert.ok(r2.attemptLog[0].delayMs > 27_000 && r2.attemptLog[0].delayMs <= 30_000, `date honoured: ${r2.attemptLog[0].delayMs} ms`);

    rx.queue({ status: 503, headers: { 'Retry-After': '86400' } }, { status: 200 });
    const d3 = makeDispatcher({ url: rx.url() }, {}, { policy: { maxRetryAfterMs: 60_000 } });
    const r3 = await d3.dispatch(sampleEvent('package.added'));
    await d3.close();
    assert.equal(r3.attemptLog[0].delayMs, 60_000, 'a day is cut to the cap');
  } finally {
    await rx.close();
  }
});

test('Standard Webhooks signing verifies with the standardwebhooks library; webhook-id is stable across retries', async () => {
  const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
  const rx = await startReceiver();
  try {
    rx.queue({ status: 500 }, { status: 200 });
    const d = makeDispatcher({ url: rx.url(), signing: 'standard' }, { secret }, { clock: 'real', policy: { baseDelayMs: 5 } });
    const event = sampleEvent('sca.new-vulnerability');
    const rec = await d.dispatch(event);
    await d.close();
    assert.equal(rec.outcome, 'delivered');
    const [a, b] = rx.requests;
    const wh = new Webhook(secret);
    for (const req of [a, b]) {
      const payload = wh.verify(req.body, req.headers);
      assert.equal(payload.vulnerabilityId, 'PGV-2245804');
      assert.match(req.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/);
      assert.match(req.headers['webhook-timestamp'], /^\d+$/);
    }
    assert.equal(a.headers['webhook-id'], b.headers['webhook-id'], 'same webhook-id on the retry');
    assert.equal(a.headers['webhook-id'], rec.id, 'the webhook-id is the dispatch id (its delivery id)');
    assert.equal(a.headers['x-notifier-delivery'], rec.id, 'X-Notifier-Delivery carries the same id');
    assert.equal(b.headers['x-notifier-delivery'], rec.id);
    assert.throws(() => wh.verify(a.body + ' ', a.headers), 'a changed body does not verify');
    assert.equal(rec.request.headers['webhook-signature'], '<redacted>');
    assert.ok(!JSON.stringify(rec).includes(secret.slice(6)));
  } finally {
    await rx.close();
  }
});

test("GitHub signing reproduces GitHub's published test vector and signs the exact body sent", async () => {
  assert.equal(
    githubSignature("It's a Secret to Everybody", 'Hello, World!'),
    'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
  );
  const rx = await startReceiver();
  try {
    const d = makeDispatcher(
      { url: rx.url(), signing: 'github', content: 'Hello, World!', headers: 'Content-Type: text/plain' },
      { secret: "It's a Secret to Everybody" },
    );
    await d.dispatch(sampleEvent('package.added'));
    await d.close();
    const req = await rx.next();
    assert.equal(req.body, 'Hello, World!');
    assert.equal(req.headers['x-hub-signature-256'], 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
  } finally {
    await rx.close();
  }
});

test('custom method, URL, header and content templates reach the receiver as written', async () => {
  const rx = await startReceiver();
  try {
    const d = makeDispatcher({
      url: rx.url('/feeds/$FeedName/packages?id=$UrlEncode($PackageId)'),
      method: 'PUT',
      headers: 'X-Feed: $FeedName\nX-Legacy=$PackageVersion\nContent-Type: text/plain; charset=utf-8\nAuthorization: Basic $EncodeBasicAuth(u,p)',
      content: '$PackageId@$PackageVersion was $PackageEvent by $UserName',
    });
    const rec = await d.dispatch(sampleEvent('package.promoted'));
    await d.close();
    const req = await rx.next();
    assert.equal(req.method, 'PUT');
    assert.equal(req.url, '/feeds/internal-utils/packages?id=MyCorp.CoolUtils');
    assert.equal(req.headers['x-feed'], 'internal-utils');
    assert.equal(req.headers['x-legacy'], '3.2.0-pre.1');
    assert.equal(req.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(req.headers.authorization, 'Basic ' + Buffer.from('u:p').toString('base64'));
    assert.equal(req.body, 'MyCorp.CoolUtils@3.2.0-pre.1 was Promoted by API');
    assert.equal(rec.request.headers.Authorization, '<redacted>');
    assert.equal(rec.request.headers['X-Feed'], 'internal-utils');

    for (const method of ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH']) {
      const dm = makeDispatcher({ url: rx.url('/m'), method });
      const r = await dm.dispatch(sampleEvent('package.added'));
      await dm.close();
      const got = await rx.next();
      assert.equal(got.method, method);
      assert.equal(r.outcome, 'delivered', method);
      if (method === 'GET' || method === 'HEAD') assert.equal(got.body, '', `${method} sends no default body`);
      else assert.equal(JSON.parse(got.body).package, 'MyCorp.CoolUtils', `${method} sends the default body`);
    }
  } finally {
    await rx.close();
  }
});

test('basic and bearer auth from the credentials; values never in the record', async () => {
  const rx = await startReceiver({ answer: (req) => ({ status: 200, body: `you sent ${req.headers.authorization}` }) });
  try {
    const basic = makeDispatcher({ url: rx.url(), auth: 'basic' }, { username: 'robot', password: 'pa55-w0rd!' });
    const r1 = await basic.dispatch(sampleEvent('package.added'));
    await basic.close();
    assert.equal((await rx.next()).headers.authorization, 'Basic ' + Buffer.from('robot:pa55-w0rd!').toString('base64'));
    const bearer = makeDispatcher({ url: rx.url() }, { token: 'tok-123456789' });
    const r2 = await bearer.dispatch(sampleEvent('package.added'));
    await bearer.close();
    assert.equal((await rx.next()).headers.authorization, 'Bearer tok-123456789');
    for (const [rec, secrets] of [
      [r1, ['pa55-w0rd!', Buffer.from('robot:pa55-w0rd!').toString('base64')]],
      [r2, ['tok-123456789']],
    ]) {
      const text = JSON.stringify(rec);
      for (const s of secrets) assert.ok(!text.includes(s), `record leaks ${s}`);
      assert.match(rec.response.body, /you sent <redacted>|you sent Basic <redacted>|you sent Bearer <redacted>/);
    }
  } finally {
    await rx.close();
  }
});

test('header lines: Name: value and legacy Name=value; injection and bad names refused at deploy with the line', () => {
  assert.deepEqual(parseHeaderLines('A: 1\r\nB=x:y\n\nC: a=b'), [
    { line: 1, name: 'A', value: '1' },
    { line: 2, name: 'B', value: 'x:y' },
    { line: 4, name: 'C', value: 'a=b' },
  ]);
  const refused = [
    ['X-A: b\rX-Injected: c', /line 1: a carriage return \(CR\)/],
    ['X-A: ok\nX-B: a`r`nX-Injected: c', /line 2: the escapes `r and `n/],
    ['X A: b', /line 1: "X A" is not a valid header name/],
    ['X-A b', /line 1: expected "Name: value"/],
    ['X-$FeedName: b', /header names are literal/],
    ['Content-Length: 5', /set by the transport/],
    ['X-A: 1\nx-a: 2', /line 2: header x-a is already given on line 1/],
    ['X-A: a\u0000b', /control characters/],
  ];
  for (const [text, re] of refused) {
    assert.throws(() => createWebhookChannel({ url: 'http://127.0.0.1/', headers: text }, {}, kit), re, JSON.stringify(text));
  }
});

test('a variable that renders a line break into a header fails that dispatch; nothing is sent', async () => {
  const rx = await startReceiver();
  try {
    const d = makeDispatcher({ url: rx.url(), headers: 'X-User: $UserName' });
    const ev = sampleEvent('package.added');
    ev.vars.UserName = 'api\r\nX-Injected: yes';
    const rec = await d.dispatch(ev);
    await d.close();
    assert.equal(rec.outcome, 'failed');
    assert.equal(rec.attempts, 0);
    assert.equal(rec.error.code, 'header_invalid');
    assert.equal(rec.error.permanent, true);
    assert.equal(rx.requests.length, 0);
  } finally {
    await rx.close();
  }
});

test('configuration errors are clear and name the property', () => {
  const bad = [
    [{}, /url is required/],
    [{ url: 'ftp://x/' }, /url must use http or https/],
    [{ url: 'http://x/', method: 'FETCH' }, /method must be one of POST, GET, PUT, PATCH, DELETE, HEAD, OPTIONS/],
    [{ url: 'http://x/', signing: 'standard' }, /signing "standard" needs a secret/],
    [{ url: 'http://x/', timeout: '0' }, /timeout must be a number from 1 to 300 seconds/],
    [{ url: 'http://x/', retries: 'lots' }, /retries must be a whole number from 0 to 10/],
    [{ url: 'http://x/', content: '$ToJson(' }, /content: Expected/],
    [{ url: 'http://x/', auth: 'basic' }, /basic auth needs a username/],
  ];
  for (const [config, re] of bad) assert.throws(() => createWebhookChannel(config, {}, kit), re, JSON.stringify(config));
  assert.throws(() => createWebhookChannel({ url: 'http://x/', signing: 'standard' }, { secret: 'not base64!' }, kit), /Standard Webhooks secret/);
  assert.throws(
    () => createWebhookChannel({ url: 'http://x/', headers: 'Authorization: x', auth: 'bearer' }, { token: 'abcdef' }, kit),
    /use one or the other/,
  );
});

test('the request body in the record is cut at 64 KiB and the response body at 4 KiB', async () => {
  const rx = await startReceiver({ answer: { status: 200, body: 'r'.repeat(100_000) } });
  try {
    const d = makeDispatcher({ url: rx.url(), content: '$PackageId ' + 'b'.repeat(100_000) });
    const rec = await d.dispatch(sampleEvent('package.added'));
    await d.close();
    const req = await rx.next();
    assert.equal(req.body.length, 'MyCorp.CoolUtils '.length + 100_000, 'the receiver got it all');
    assert.ok(Buffer.byteLength(rec.request.body) <= 64 * 1024);
    assert.match(rec.request.body, /truncated/);
    assert.ok(Buffer.byteLength(rec.response.body) <= 4 * 1024);
    assert.match(rec.response.body, /truncated/);
  } finally {
    await rx.close();
  }
});

test('sockets are kept alive and reused between dispatches (HEAD and 204 answers included)', async () => {
  const rx = await startReceiver({ answer: { status: 204 } });
  try {
    for (const method of ['POST', 'HEAD']) {
      const d = makeDispatcher({ url: rx.url(), method });
      for (let i = 0; i < 5; i++) assert.equal((await d.dispatch(sampleEvent('package.added'))).outcome, 'delivered');
      await d.close();
    }
    assert.equal(rx.requests.length, 10);
    assert.equal(rx.connections, 2, 'one connection per dispatcher, reused');
  } finally {
    await rx.close();
  }
});
