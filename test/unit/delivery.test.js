'use strict';
// The delivery engine and its policy, on a virtual clock (no real waiting).
const test = require('node:test');
const assert = require('node:assert/strict');
const {
  DeliveryEngine,
  ManualClock,
  backoffDelay,
  parseRetryAfter,
  classifyStatus,
  resolvePolicy,
  DEFAULT_POLICY,
  statusText,
  STATUS_MAX_CHARS,
} = require('../../dist/core/delivery');

const tick = () => new Promise((r) => setImmediate(r));

/** Runs the virtual clock (timer by timer) until `promise` settles. */
async function drive(clock, promise, maxSteps = 10_000) {
  let settled = false;
  const p = promise.then((v) => {
    settled = true;
    return v;
  });
  for (let i = 0; i < maxSteps && !settled; i++) {
    await tick();
    if (settled) break;
    if (!clock.runNext()) await tick();
  }
  return p;
}

const ok = () => async () => ({ kind: 'delivered', status: 200 });
const retry = (code = 'http_503', extra = {}) => ({ kind: 'retryable', code, message: code, ...extra });

/** An attempt function answering from a script, one result per attempt (the last repeats). */
function scripted(results) {
  const calls = [];
  const fn = async (ctx) => {
    calls.push(ctx);
    const r = results[Math.min(calls.length - 1, results.length - 1)];
    return typeof r === 'function' ? r(ctx) : r;
  };
  fn.calls = calls;
  return fn;
}

test('backoff: full jitter between 0 and min(cap, base * 2^(n-1))', () => {
  const p = { baseDelayMs: 1000, maxDelayMs: 60_000 };
  assert.equal(backoffDelay(1, p, 0), 0);
  assert.equal(backoffDelay(1, p, 0.5), 500);
  assert.equal(backoffDelay(2, p, 0.5), 1000);
  assert.equal(backoffDelay(3, p, 0.999), 3996);
  assert.equal(backoffDelay(20, p, 0.5), 30_000, 'capped at maxDelayMs');
});

test('Retry-After: seconds, HTTP dates (future, past), junk', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter(['5', '9'], now), 5000);
  assert.equal(parseRetryAfter(undefined, now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter('-1', now), undefined);
  assert.equal(parseRetryAfter('1.5', now), undefined);
});

test('status classes: 2xx delivered, 408/425/429/500/502/503/504 retried, redirects and other codes permanent', () => {
  const expect = {
    200: 'delivered',
    201: 'delivered',
    202: 'delivered',
    204: 'delivered',
    301: 'permanent',
    302: 'permanent',
    304: 'permanent',
    307: 'permanent',
    400: 'permanent',
    401: 'permanent',
    403: 'permanent',
    404: 'permanent',
    410: 'permanent',
    413: 'permanent',
    408: 'retryable',
    425: 'retryable',
    429: 'retryable',
    500: 'retryable',
    501: 'permanent',
    502: 'retryable',
    503: 'retryable',
    504: 'retryable',
    505: 'permanent',
  };
  for (const [status, cls] of Object.entries(expect)) assert.equal(classifyStatus(Number(status)), cls, `HTTP ${status}`);
});

test('policy: defaults are 5 attempts, 10 s timeout; out-of-range values are refused with the field named', () => {
  assert.equal(DEFAULT_POLICY.maxAttempts, 5);
  assert.equal(DEFAULT_POLICY.timeoutMs, 10_000);
  assert.deepEqual(resolvePolicy({ maxAttempts: 3 }).maxAttempts, 3);
  assert.throws(() => resolvePolicy({ maxAttempts: 0 }), /maxAttempts must be a number from 1 to 20/);
  assert.throws(() => resolvePolicy({ timeoutMs: NaN }), /timeoutMs/);
});

test('engine: a first-attempt success is delivered with one logged attempt', async () => {
  const clock = new ManualClock();
  const engine = new DeliveryEngine({ clock });
  const out = await drive(clock, engine.submit({ key: 'a', attempt: ok() }));
  assert.equal(out.outcome, 'delivered');
  assert.equal(out.attempts, 1);
  assert.equal(out.attemptLog.length, 1);
  assert.equal(out.attemptLog[0].status, 200);
  assert.equal(out.attemptLog[0].delayMs, undefined);
  assert.equal(clock.pending(), 0, 'no timer left');
});

test('engine: retryable results are retried with jittered exponential backoff, each delay logged', async () => {
  const clock = new ManualClock({ random: 0.5 });
  const engine = new DeliveryEngine({ clock });
  const attempt = scripted([retry(), retry('ECONNRESET'), { kind: 'delivered', status: 202 }]);
  const out = await drive(clock, engine.submit({ key: 'a', attempt }));
  assert.equal(out.outcome, 'delivered');
  assert.equal(out.attempts, 3);
  assert.deepEqual(
    out.attemptLog.map((a) => a.delayMs),
    [500, 1000, undefined],
  );
  assert.deepEqual(
    out.attemptLog.map((a) => a.error),
    ['http_503', 'ECONNRESET', undefined],
  );
  assert.deepEqual(
    attempt.calls.map((c) => c.attempt),
    [1, 2, 3],
  );
  assert.equal(attempt.calls[1].now - attempt.calls[0].now, 500, 'second attempt starts after the logged delay');
});

test('engine: a permanent result fails at once, marked permanent', async () => {
  const clock = new ManualClock();
  const engine = new DeliveryEngine({ clock });
  const attempt = scripted([{ kind: 'permanent', code: 'http_404', message: 'HTTP 404 Not Found', status: 404 }]);
  const out = await drive(clock, engine.submit({ key: 'a', attempt }));
  assert.equal(out.outcome, 'failed');
  assert.equal(out.attempts, 1);
  assert.deepEqual(out.error, { code: 'http_404', message: 'HTTP 404 Not Found', permanent: true });
});

test('engine: gives up after maxAttempts, not permanent, with the last error', async () => {
  const clock = new ManualClock({ random: 1 });
  const engine = new DeliveryEngine({ clock, policy: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 250 } });
  const attempt = scripted([retry('http_500')]);
  const out = await drive(clock, engine.submit({ key: 'a', attempt }));
  assert.equal(out.outcome, 'failed');
  assert.equal(out.attempts, 5);
  assert.equal(out.error.code, 'http_500');
  assert.equal(out.error.permanent, false);
  assert.match(out.error.message, /gave up after 5 attempts/);
  assert.deepEqual(
    out.attemptLog.map((a) => a.delayMs),
    [100, 200, 250, 250, undefined],
    'capped',
  );
  assert.equal(clock.pending(), 0);
});

test('engine: Retry-After is honoured, capped, and pauses the whole destination', async () => {
  const clock = new ManualClock({ random: 0 });
  const engine = new DeliveryEngine({ clock, policy: { maxRetryAfterMs: 30_000 } });
  const a = scripted([retry('http_429', { retryAfterMs: 7000 }), { kind: 'delivered', status: 200 }]);
  const b = scripted([{ kind: 'delivered', status: 200 }]);
  const pa = engine.submit({ key: 'slack', attempt: a });
  await tick();
  const pb = engine.submit({ key: 'slack', attempt: b });
  const [oa, ob] = await drive(clock, Promise.all([pa, pb]));
  assert.equal(oa.attemptLog[0].delayMs, 7000);
  assert.ok(b.calls[0].now - a.calls[0].now >= 7000, 'the other message also waited for Retry-After');
  assert.equal(ob.outcome, 'delivered');

  const c = scripted([retry('http_503', { retryAfterMs: 3_600_000 }), { kind: 'delivered' }]);
  const oc = await drive(clock, engine.submit({ key: 'x', attempt: c }));
  assert.equal(oc.attemptLog[0].delayMs, 30_000, 'an hour is cut to the cap');
});

test('engine: an attempt with no answer times out (signal aborted) and is retried', async () => {
  const clock = new ManualClock({ random: 0 });
  const engine = new DeliveryEngine({ clock, policy: { timeoutMs: 2000 } });
  let signal;
  const attempt = scripted([(ctx) => ((signal = ctx.signal), new Promise(() => {})), { kind: 'delivered', status: 200 }]);
  const out = await drive(clock, engine.submit({ key: 'a', attempt }));
  assert.equal(out.outcome, 'delivered');
  assert.equal(out.attemptLog[0].error, 'timeout: no answer within 2000 ms');
  assert.equal(out.attemptLog[0].durationMs, 2000);
  assert.equal(signal.aborted, true);
});

test('engine: thrown network errors are retried, other throws fail as internal', async () => {
  const clock = new ManualClock({ random: 0 });
  const engine = new DeliveryEngine({ clock });
  const refused = scripted([() => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), { kind: 'delivered' }]);
  const o1 = await drive(clock, engine.submit({ key: 'a', attempt: refused }));
  assert.equal(o1.outcome, 'delivered');
  assert.equal(o1.attemptLog[0].error, 'ECONNREFUSED: connection refused');
  const bug = scripted([
    () => {
      throw new TypeError('x is not a function');
    },
  ]);
  const o2 = await drive(clock, engine.submit({ key: 'a', attempt: bug }));
  assert.equal(o2.outcome, 'failed');
  assert.deepEqual(o2.error, { code: 'internal', message: 'x is not a function', permanent: true });
});

test('engine: rate limit spaces attempts per destination; other destinations are not held up', async () => {
  const clock = new ManualClock();
  const engine = new DeliveryEngine({ clock, ratePerSecond: 1 });
  const starts = [];
  const attempt = (key) => async (ctx) => (starts.push([key, ctx.now]), { kind: 'delivered', status: 200 });
  const jobs = [];
  for (let i = 0; i < 10; i++) jobs.push(engine.submit({ key: 'hook-1', attempt: attempt('hook-1') }));
  jobs.push(engine.submit({ key: 'hook-2', attempt: attempt('hook-2') }));
  await drive(clock, Promise.all(jobs));
  const t1 = starts.filter(([k]) => k === 'hook-1').map(([, t]) => t);
  assert.equal(t1.length, 10);
  for (let i = 1; i < t1.length; i++) assert.ok(t1[i] - t1[i - 1] >= 1000, `gap ${i}: ${t1[i] - t1[i - 1]} ms`);
  const t2 = starts.find(([k]) => k === 'hook-2')[1];
  assert.equal(t2, t1[0], 'the second destination did not wait behind the first');
});

test('engine: a full queue is a recorded failure (queue_full), never a silent drop', async () => {
  const clock = new ManualClock();
  const engine = new DeliveryEngine({ clock, queueSize: 3, ratePerSecond: 1 });
  const outs = await drive(clock, Promise.all(Array.from({ length: 5 }, () => engine.submit({ key: 'k', attempt: ok() }))));
  assert.deepEqual(
    outs.map((o) => o.outcome),
    ['delivered', 'delivered', 'delivered', 'failed', 'failed'],
  );
  assert.equal(outs[3].error.code, 'queue_full');
  assert.equal(outs[3].attempts, 0);
  assert.match(outs[3].error.message, /queue for this destination is full \(3/);
});

test('engine: close fails queued and retry-waiting jobs at once, gives in-flight attempts a grace period, leaves no timer', async () => {
  const clock = new ManualClock({ random: 0.5 });
  const engine = new DeliveryEngine({ clock, concurrency: 2 });
  let finishSlow;
  const slowOk = async () => new Promise((r) => (finishSlow = () => r({ kind: 'delivered', status: 200 })));
  const never = async (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
  const pSlow = engine.submit({ key: 'a', attempt: slowOk });
  const pNever = engine.submit({ key: 'a', attempt: never });
  const pQueued = engine.submit({ key: 'a', attempt: ok() });
  const pRetry = engine.submit({ key: 'b', attempt: scripted([retry()]) });
  await tick();
  await tick();
  assert.deepEqual(engine.stats(), { queued: 1, inFlight: 2, retrying: 1 });
  const closed = engine.close(1000);
  const late = await engine.submit({ key: 'a', attempt: ok() });
  assert.equal(late.error.code, 'shutdown', 'intake stopped');
  const q = await pQueued;
  assert.equal(q.error.code, 'shutdown');
  assert.equal(q.attempts, 0);
  const r = await pRetry;
  assert.equal(r.error.code, 'shutdown');
  assert.match(r.error.message, /waiting to retry \(last attempt: http_503\)/);
  finishSlow();
  assert.equal((await pSlow).outcome, 'delivered', 'an attempt finishing within the grace period counts');
  clock.advance(1000);
  const n = await pNever;
  assert.equal(n.outcome, 'failed');
  assert.equal(n.error.code, 'shutdown');
  await closed;
  assert.equal(clock.pending(), 0, 'no timer survives close');
  assert.deepEqual(engine.stats(), { queued: 0, inFlight: 0, retrying: 0 });
});

test('engine: a retryable answer during close is not retried and is recorded as shutdown', async () => {
  const clock = new ManualClock();
  const engine = new DeliveryEngine({ clock });
  let answer;
  const p = engine.submit({ key: 'a', attempt: () => new Promise((r) => (answer = r)) });
  await tick();
  const closed = engine.close(5000);
  answer(retry('http_502'));
  const out = await p;
  assert.equal(out.error.code, 'shutdown');
  assert.match(out.error.message, /not retried after http_502/);
  await closed;
  assert.equal(clock.pending(), 0);
});

test('engine: emits events for status and stats; an observer that throws changes nothing', async () => {
  const clock = new ManualClock();
  const seen = [];
  const engine = new DeliveryEngine({
    clock,
    onEvent: (e) => {
      seen.push(e.type);
      throw new Error('observer bug');
    },
  });
  const out = await drive(clock, engine.submit({ key: 'a', attempt: scripted([retry(), { kind: 'delivered' }]) }));
  assert.equal(out.outcome, 'delivered');
  assert.deepEqual(seen, ['queued', 'attempt', 'attempt-done', 'retry-wait', 'attempt', 'attempt-done', 'settled']);
});

test('status text: counts, sending, last result; never 20 characters or more', () => {
  const idle = { queued: 0, inFlight: 0, retrying: 0 };
  assert.deepEqual(statusText(idle), {});
  assert.equal(statusText({ queued: 12, inFlight: 1, retrying: 0 }).text, 'sending, 12 queued');
  assert.equal(statusText({ queued: 5000, inFlight: 1, retrying: 0 }).text, 'sending, 1k+ queued');
  assert.equal(statusText({ queued: 3, inFlight: 0, retrying: 0 }).text, '3 queued');
  assert.equal(statusText(idle, { outcome: 'delivered', status: 202 }).text, 'delivered 202');
  assert.equal(statusText(idle, { outcome: 'failed', errorCode: 'http_404', status: 404 }).text, 'failed: 404');
  assert.equal(statusText(idle, { outcome: 'failed', errorCode: 'ECONNREFUSED' }).text, 'failed: refused');
  assert.equal(statusText(idle, { outcome: 'failed', errorCode: 'slack_channel_is_archived' }).text.length, STATUS_MAX_CHARS);
  for (const s of [
    { queued: 99999, inFlight: 3, retrying: 9 },
    { queued: 0, inFlight: 0, retrying: 99999 },
  ]) {
    assert.ok(statusText(s).text.length < 20);
  }
});
