import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { EventLimitError, EventValidationError } from '../events';
import type { NotifierEvent } from '../events';
import { eventFromBody, UnknownSourceError } from '../events/sources';
import type { SourceSetting } from '../events/sources';

/**
 * Whether an event type is among the selected ones (none = all). `github.*` selects every `github.<event>`
 * (the events of a source with no ProGet equivalent).
 */
export function eventSelected(selected: readonly string[], type: string): boolean {
  if (selected.length === 0) return true;
  return selected.some((s) => s === type || (s.endsWith('.*') && type.startsWith(s.slice(0, -1))));
}

/** Everything about an HTTP request that intake needs, independent of the server that got it. */
export interface IntakeRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  /** the exact bytes received, when the server still has them */
  rawBody?: Buffer;
  /** a body some earlier middleware parsed already (Node-RED's admin bodyParser); raw bytes are gone then */
  parsedBody?: unknown;
}

export type IntakeAuth = { mode: 'none' } | { mode: 'secret'; secret: string } | { mode: 'hmac'; secret: string; toleranceSeconds?: number };

export interface IntakeConfig {
  auth: IntakeAuth;
  /** event codes to emit (`github.*` selects every github.<event>); empty = all */
  events: readonly string[];
  /** who sends: `auto` (recognized by headers and shape, the default), `proget`, `github`, … */
  source?: SourceSetting;
  maxBytes: number;
  /** the event ids accepted before (a repeat is answered 202 `duplicate` and not emitted) */
  dedupe?: SeenCheck;
  now?: () => number;
}

/** What intake asks of the accepted ids: the caller adds an id once the event is safe (stored). */
export interface SeenCheck {
  has(id: string): boolean;
}

export interface IntakeResponse {
  status: number;
  body: Record<string, unknown>;
  /** the accepted event, to emit; absent for errors, ignored types and duplicates */
  event?: NotifierEvent;
  /**
   * The sender's id of this delivery (Standard Webhooks `webhook-id`, GitHub's `X-GitHub-Delivery`, an `id` in the
   * body): record it as seen once the event is stored, so that a repeat is not emitted again.
   */
  dedupId?: string;
}

export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function header(req: IntakeRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function fail(status: number, error: string, details?: unknown): IntakeResponse {
  return { status, body: details === undefined ? { error } : { error, details } };
}

/** Remembers delivery ids for a while, in memory, so a re-sent delivery is not emitted twice. Bounded. */
export class DeliveryIdCache implements SeenCheck {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly ttlMs = 10 * 60 * 1000,
    private readonly max = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}
  has(id: string): boolean {
    const at = this.seen.get(id);
    return at !== undefined && this.clock() - at < this.ttlMs;
  }
  add(id: string): void {
    this.checkAndAdd(id, this.clock());
  }
  /** true when the id was seen within the TTL; records it otherwise */
  checkAndAdd(id: string, now: number): boolean {
    const at = this.seen.get(id);
    if (at !== undefined && now - at < this.ttlMs) return true;
    this.seen.delete(id);
    this.seen.set(id, now);
    if (this.seen.size > this.max) {
      for (const [k, t] of this.seen) {
        if (this.seen.size <= this.max && now - t < this.ttlMs) break;
        this.seen.delete(k);
      }
    }
    return false;
  }
  get size(): number {
    return this.seen.size;
  }
}

/** Constant-time comparison of two strings of any length. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** The key bytes of a Standard Webhooks secret (`whsec_<base64>`), or the text itself otherwise. */
export function standardWebhooksKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

export function signStandard(secret: string, id: string, timestamp: number | string, body: Buffer | string): string {
  const mac = createHmac('sha256', standardWebhooksKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

export function signGithub(secret: string, body: Buffer | string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

function verifyAuth(req: IntakeRequest, cfg: IntakeConfig, now: number): IntakeResponse | { deliveryId?: string } {
  const { auth } = cfg;
  if (auth.mode === 'none') return {};
  if (auth.mode === 'secret') {
    const authorization = header(req, 'authorization');
    // X-Notifier-Secret; Authorization as `Bearer <secret>` or the secret alone (Harbor's auth header, Dependency-Track's
    // auth header); Artifactory's X-JFrog-Event-Auth (its webhook secret, sent as it is)
    const given =
      header(req, 'x-notifier-secret') ??
      (authorization !== undefined ? authorization.match(/^Bearer\s+(.+)$/i)?.[1] || authorization : undefined) ??
      header(req, 'x-jfrog-event-auth');
    if (given === undefined) {
      return fail(
        401,
        'missing secret',
        'send the shared secret in an X-Notifier-Secret header, as Authorization: Bearer <secret> or Authorization: <secret>, or as X-JFrog-Event-Auth',
      );
    }
    if (!safeEqual(given.trim(), auth.secret)) return fail(401, 'wrong secret');
    return {};
  }
  // hmac
  if (!req.rawBody) {
    return fail(
      401,
      'signature cannot be verified on this endpoint',
      "Node-RED's admin API parsed the body before this node saw its raw bytes (httpAdminRoot covers httpNodeRoot). Give the event node its own port for signed intake.",
    );
  }
  const tolerance = auth.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const sig = header(req, 'webhook-signature');
  if (sig !== undefined) {
    const id = header(req, 'webhook-id');
    const ts = header(req, 'webhook-timestamp');
    if (!id || !ts)
      return fail(
        401,
        'missing webhook-id or webhook-timestamp header',
        'Standard Webhooks signing needs webhook-id, webhook-timestamp and webhook-signature',
      );
    if (!/^\d{1,12}$/.test(ts)) return fail(401, 'bad webhook-timestamp', 'must be Unix seconds');
    const skew = Math.abs(now / 1000 - Number(ts));
    if (skew > tolerance) {
      return fail(
        401,
        'webhook-timestamp outside the tolerance',
        `the timestamp is ${Math.round(skew)} s away from now; at most ${tolerance} s is accepted (a replayed or delayed request)`,
      );
    }
    const expected = signStandard(auth.secret, id, ts, req.rawBody);
    const ok = sig.split(' ').some((s) => s.startsWith('v1,') && safeEqual(s, expected));
    if (!ok)
      return fail(
        401,
        'bad signature',
        'webhook-signature does not match HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}" with the configured secret',
      );
    return { deliveryId: id };
  }
  const gh = header(req, 'x-hub-signature-256');
  if (gh !== undefined) {
    const expected = signGithub(auth.secret, req.rawBody);
    if (!safeEqual(gh.trim(), expected)) return fail(401, 'bad signature', 'X-Hub-Signature-256 does not match sha256=HMAC-SHA256(secret, body)');
    return { deliveryId: header(req, 'x-github-delivery') };
  }
  const nexus = header(req, 'x-nexus-webhook-signature');
  if (nexus !== undefined) {
    const expected = createHmac('sha1', auth.secret).update(req.rawBody).digest('hex');
    if (!safeEqual(nexus.trim().toLowerCase(), expected))
      return fail(401, 'bad signature', 'X-Nexus-Webhook-Signature does not match the hex HMAC-SHA1(secret, body)');
    return { deliveryId: header(req, 'x-nexus-webhook-delivery') };
  }
  const jfrog = header(req, 'x-jfrog-event-auth');
  if (jfrog !== undefined) {
    const expected = createHmac('sha256', auth.secret).update(req.rawBody).digest('hex');
    if (!safeEqual(jfrog.trim().toLowerCase(), expected)) {
      return fail(
        401,
        'bad signature',
        'X-JFrog-Event-Auth does not match the hex HMAC-SHA256(secret, body) (Artifactory\'s "use secret for payload signing"; without it, use the shared secret auth)',
      );
    }
    return {};
  }
  return fail(
    401,
    'missing signature',
    'send webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks), X-Hub-Signature-256 (GitHub), X-Nexus-Webhook-Signature (Nexus) or X-JFrog-Event-Auth (Artifactory, signed)',
  );
}

function decodeBody(req: IntakeRequest, cfg: IntakeConfig): IntakeResponse | { value: unknown } {
  const type = (header(req, 'content-type') ?? '').toLowerCase();
  const mime = type.split(';')[0]!.trim();
  if (!(mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json')))) {
    return fail(415, 'not JSON', `Content-Type must be application/json, got ${mime ? `"${mime.slice(0, 100)}"` : 'none'}`);
  }
  const charset = /charset\s*=\s*"?([^";\s]+)/.exec(type)?.[1];
  if (charset && !/^utf-?8$/i.test(charset)) return fail(415, 'unsupported charset', `send UTF-8 JSON, got charset ${charset.slice(0, 40)}`);
  const declared = Number(header(req, 'content-length'));
  if (Number.isFinite(declared) && declared > cfg.maxBytes) return tooLarge(cfg);
  if (req.rawBody && req.rawBody.length > cfg.maxBytes) return tooLarge(cfg);
  if (!req.rawBody && req.parsedBody !== undefined && !Number.isFinite(declared) && exceedsSize(req.parsedBody, cfg.maxBytes)) {
    return tooLarge(cfg);
  }
  return { value: undefined };
}

function parseBody(req: IntakeRequest): IntakeResponse | { value: unknown } {
  if (req.rawBody) {
    if (req.rawBody.length === 0) return fail(400, 'empty body', 'send a JSON object');
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(req.rawBody);
    } catch {
      return fail(400, 'body is not valid UTF-8');
    }
    try {
      return { value: JSON.parse(text) };
    } catch (err) {
      return fail(400, 'malformed JSON', (err as Error).message);
    }
  }
  return { value: req.parsedBody };
}

/** Whether a parsed JSON value would take more than `max` bytes as JSON (roughly; no recursion). */
function exceedsSize(value: unknown, max: number): boolean {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') size += Buffer.byteLength(v) + 2;
    else if (Array.isArray(v)) {
      size += 2 + v.length;
      for (const x of v) stack.push(x);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        size += Buffer.byteLength(k) + 4;
        stack.push(x);
      }
    } else size += 5;
    if (size > max) return true;
  }
  return false;
}

function tooLarge(cfg: IntakeConfig): IntakeResponse {
  return fail(413, 'body too large', `the limit is ${cfg.maxBytes} bytes`);
}

/**
 * Decides what to answer to one HTTP delivery: checks method, content type, size, auth and the event
 * itself. Pure: the caller sends the answer and emits `event` when there is one.
 */
export function handleIntake(req: IntakeRequest, cfg: IntakeConfig): IntakeResponse {
  const now = (cfg.now ?? Date.now)();
  if (req.method !== 'POST') return fail(405, 'method not allowed', 'POST the event as JSON');
  const envelope = decodeBody(req, cfg);
  if ('status' in envelope) return envelope;
  const auth = verifyAuth(req, cfg, now);
  if ('status' in auth) return auth;
  const decoded = parseBody(req);
  if ('status' in decoded) return decoded;
  const explicit = req.query.event;
  if (explicit !== undefined && typeof explicit !== 'string') return fail(400, 'bad ?event= parameter', 'give it once');
  const deliveryId = auth.deliveryId ?? header(req, 'webhook-id') ?? header(req, 'x-github-delivery') ?? header(req, 'x-nexus-webhook-delivery');
  let event: NotifierEvent;
  try {
    event = eventFromBody(decoded.value, {
      source: cfg.source ?? 'auto',
      headers: req.headers,
      ...(explicit ? { eventType: explicit } : {}),
      ...(deliveryId ? { id: deliveryId } : {}),
      via: 'http',
      now: () => new Date(now),
    });
  } catch (err) {
    if (err instanceof EventLimitError) return fail(413, 'event over a cap', err.issues);
    if (err instanceof UnknownSourceError) return { status: 400, body: { error: 'invalid event', details: err.issues, sources: err.sources } };
    if (err instanceof EventValidationError) return fail(400, 'invalid event', err.issues);
    throw err;
  }
  if (!eventSelected(cfg.events, event.type)) {
    return { status: 202, body: { id: event.id, ignored: `event type ${event.type} is not selected in this node` } };
  }
  // the body's own id of the event: top level (a normalized event, Harbor's CloudEvents), or Artifactory's envelope
  const body = isRecord(decoded.value) ? decoded.value : {};
  const envelopeId = event.source === 'artifactory' && isRecord(body.event) ? body.event.id : undefined;
  const ownId = typeof body.id === 'string' && body.id !== '' ? body.id : envelopeId;
  const bodyId = typeof ownId === 'string' && ownId !== '' ? ownId : undefined;
  const dedupId = deliveryId ?? bodyId;
  if (dedupId && cfg.dedupe?.has(dedupId)) {
    return { status: 202, body: { id: event.id, duplicate: true } };
  }
  return { status: 202, body: { id: event.id }, event, ...(dedupId ? { dedupId } : {}) };
}
