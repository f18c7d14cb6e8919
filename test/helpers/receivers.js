'use strict';
// Real HTTP peers on 127.0.0.1 for delivery tests: a generic recording webhook receiver with scriptable
// answers, a server that answers as Slack's incoming webhooks do, one that answers as a Teams Workflows
// trigger does, and helpers for network failures (refused port, reset, hanging peer).
//
//   const rx = await startReceiver();                 // answers 200 '' by default
//   rx.queue({ status: 503 }, { status: 429, headers: { 'Retry-After': '2' } });   // next answers, in order
//   rx.answer({ status: 204 });                       // the default answer from now on
//   rx.answer((req) => ({ status: 200, body: 'echo ' + req.body }));
//   await rx.next();                                  // the next recorded request (or waits for it)
//   rx.requests                                       // every request: { method, url, path, headers, body, at }
//   rx.connections                                    // TCP connections accepted (keep-alive reuse)
//   await rx.close();
//
// An answer is { status, headers, body, delayMs, action: 'reset' | 'hang' | 'close' } or a function of
// the recorded request returning one (or a promise of one).
const http = require('node:http');

const SLACK_LIMITS = { blocks: 50, sectionText: 3000, headerText: 150, fields: 10, fieldText: 2000, text: 40000 };
const TEAMS_MAX_BYTES = 28 * 1024;

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/**
 * A recording HTTP server with scriptable answers. `options.answer` is the default answer
 * (default `{ status: 200 }`).
 */
async function startReceiver(options = {}) {
  let fallback = options.answer ?? { status: 200, body: '' };
  const scripted = [];
  const requests = [];
  const waiters = [];
  const sockets = new Set();
  const hanging = new Set();

  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const rec = {
      method: req.method,
      url: req.url,
      path: req.url.split('?')[0],
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body,
      at: Date.now(),
    };
    requests.push(rec);
    const w = waiters.shift();
    if (w) w(rec);
    let spec = scripted.length ? scripted.shift() : fallback;
    if (typeof spec === 'function') spec = await spec(rec);
    spec = spec || { status: 200 };
    if (spec.delayMs) await new Promise((r) => setTimeout(r, spec.delayMs));
    if (spec.action === 'reset') {
      req.socket.resetAndDestroy ? req.socket.resetAndDestroy() : req.socket.destroy();
      return;
    }
    if (spec.action === 'close') {
      req.socket.destroy();
      return;
    }
    if (spec.action === 'hang') {
      hanging.add(res);
      return;
    }
    if (res.destroyed) return;
    const headers = { ...(spec.headers || {}) };
    const text = spec.body === undefined ? '' : typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
    res.writeHead(spec.status ?? 200, headers);
    res.end(text);
  });
  let connections = 0;
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  const base = `http://127.0.0.1:${port}`;
  return {
    server,
    port,
    base,
    /** `${base}${path}` */
    url: (path = '/hook') => base + path,
    requests,
    /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests) */
    get connections() {
      return connections;
    },
    /** the next request (already recorded and not yet taken by next(), or the coming one) */
    next(timeoutMs = 5000) {
      const taken = this._taken ?? 0;
      if (requests.length > taken) {
        this._taken = taken + 1;
        return Promise.resolve(requests[taken]);
      }
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no request within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((r) => {
          clearTimeout(t);
          this._taken = (this._taken ?? 0) + 1;
          resolve(r);
        });
      });
    },
    /** answers for the next requests, in order; then the default answer */
    queue(...answers) {
      scripted.push(...answers);
      return this;
    },
    /** the default answer from now on */
    answer(spec) {
      fallback = spec;
      return this;
    },
    /** Ends hanging answers and stops the server (open connections are destroyed). */
    async close() {
      for (const res of hanging) res.destroy();
      await new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

/** Checks a Slack payload as Slack does; returns an error code or undefined. */
function slackPayloadError(body) {
  let p;
  try {
    p = JSON.parse(body);
  } catch {
    return 'invalid_payload';
  }
  if (!p || typeof p !== 'object') return 'invalid_payload';
  if (typeof p.text !== 'string' && !Array.isArray(p.blocks)) return 'no_text';
  if (typeof p.text === 'string' && p.text.length > SLACK_LIMITS.text) return 'invalid_payload';
  if (Array.isArray(p.blocks)) {
    if (p.blocks.length > SLACK_LIMITS.blocks) return 'invalid_blocks';
    for (const b of p.blocks) {
      if (b.type === 'header' && (b.text?.text?.length ?? 0) > SLACK_LIMITS.headerText) return 'invalid_blocks';
      if (b.type === 'section') {
        if ((b.text?.text?.length ?? 0) > SLACK_LIMITS.sectionText) return 'invalid_blocks';
        if (Array.isArray(b.fields)) {
          if (b.fields.length > SLACK_LIMITS.fields) return 'invalid_blocks';
          if (b.fields.some((f) => (f.text?.length ?? 0) > SLACK_LIMITS.fieldText)) return 'invalid_blocks';
        }
        if (!b.text && !b.fields) return 'invalid_blocks';
      }
    }
  }
  return undefined;
}

/**
 * A server answering as Slack's incoming webhooks: 200 `ok` for a valid payload, 400 `invalid_payload`
 * / `invalid_blocks` / `no_text` for bad ones (limits checked as Slack does), and scripted answers:
 * `slack.queue('no_service', 'rate_limited', 'ok', …)` or `slack.mode('channel_is_archived')`.
 * `rate_limited` is 429 with `Retry-After: <retryAfter>` (default 1) and Slack's JSON body.
 */
async function startSlackReceiver(options = {}) {
  const codes = [];
  let mode = options.mode ?? 'ok';
  const retryAfter = options.retryAfter ?? 1;
  const STATUS = {
    invalid_payload: 400,
    no_text: 400,
    invalid_blocks: 400,
    invalid_token: 403,
    action_prohibited: 403,
    channel_not_found: 404,
    no_service: 404,
    channel_is_archived: 410,
    rollup_error: 500,
  };
  const rx = await startReceiver({
    answer: (req) => {
      const code = codes.length ? codes.shift() : mode;
      if (code === 'rate_limited') {
        return {
          status: 429,
          headers: { 'Retry-After': String(retryAfter), 'Content-Type': 'application/json' },
          body: { ok: false, error: 'rate_limited', retry_after: retryAfter },
        };
      }
      if (code !== 'ok') return { status: STATUS[code] ?? 400, headers: { 'Content-Type': 'text/plain' }, body: code };
      const problem = slackPayloadError(req.body);
      if (problem) return { status: 400, headers: { 'Content-Type': 'text/plain' }, body: problem };
      return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'ok' };
    },
  });
  rx.slack = {
    queue: (...c) => codes.push(...c),
    mode: (m) => (mode = m),
  };
  rx.webhookUrl = rx.url('/services/T0TESTTEAM/B0TESTBOT/sl4ckT0kenS3cretValue');
  return rx;
}

/**
 * A server answering as a Teams Workflows trigger: 202 with an empty body for a message with an
 * Adaptive Card attachment, 400 for anything else (as Power Automate's "'attachments' is of type
 * 'Null'"), 413 over 28 KB. `options.status` changes the success status (e.g. 200).
 */
async function startTeamsReceiver(options = {}) {
  return startReceiver({
    answer: (req) => {
      if (Buffer.byteLength(req.body) > TEAMS_MAX_BYTES) return { status: 413, body: 'Request Entity too large' };
      let p;
      try {
        p = JSON.parse(req.body);
      } catch {
        return { status: 400, body: { error: { code: 'InvalidRequestContent', message: 'The request content is not valid JSON.' } } };
      }
      const a = p && p.type === 'message' && Array.isArray(p.attachments) ? p.attachments[0] : undefined;
      const isCard = a && a.contentType === 'application/vnd.microsoft.card.adaptive' && a.content && a.content.type === 'AdaptiveCard';
      const isLegacy = p && p['@type'] === 'MessageCard';
      if (!isCard && !(options.acceptMessageCard && isLegacy)) {
        return { status: 400, body: { error: { code: 'InvalidTemplate', message: "'attachments' is of type 'Null'" } } };
      }
      return { status: options.status ?? 202, body: options.body ?? '' };
    },
  });
}

/** A 127.0.0.1 URL on which nothing listens (connection refused). */
async function refusedUrl(path = '/hook') {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}${path}`;
}

/** Every warning and validation event Microsoft's adaptivecards library reports for a card, targeting version 1.4. */
function cardProblems(card) {
  const AC = require('adaptivecards/dist/adaptivecards.js');
  const ac = new AC.AdaptiveCard();
  const ctx = new AC.SerializationContext(AC.Versions.v1_4);
  ac.parse(card, ctx);
  const problems = [];
  for (let i = 0; i < ctx.eventCount; i++) problems.push(ctx.getEventAt(i).message);
  for (const e of ac.validateProperties().validationEvents) problems.push(e.message);
  return problems;
}

module.exports = {
  cardProblems,
  startReceiver,
  startSlackReceiver,
  startTeamsReceiver,
  refusedUrl,
  slackPayloadError,
  SLACK_LIMITS,
  TEAMS_MAX_BYTES,
};
