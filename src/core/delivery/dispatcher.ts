/**
 * Turns an event into a dispatch record: the channel renders the event into a prepared request and an
 * attempt function, the engine delivers it under the shared policy, and the result becomes the
 * `DispatchRecord` of `msg.dispatch`, with secrets redacted and bodies cut.
 *
 * How a channel plugs in (webhook, Slack, Teams here; email in channels/email.ts):
 *
 * ```ts
 * const driver: ChannelDriver = {
 *   channel: 'email',
 *   prepare(event, { dispatchId }) {
 *     // render templates (throw OtterScriptError / PrepareError to fail the dispatch at once)
 *     return {
 *       key: 'smtp://mail.example.com:587',              // rate limit + queue per key
 *       request: { from, to, subject, body },            // what the record shows (redacted + cut here)
 *       attempt: async ({ signal, attempt }) => {        // one try; never needs to throw
 *         try { const info = await transport.sendMail(m); return { kind: 'delivered', status: 250, response: { body: info.response } }; }
 *         catch (err) { return classifySmtp(err); }      // { kind: 'retryable' | 'permanent', code: 'smtp_550', message }
 *       },
 *     };
 *   },
 * };
 * const dispatcher = new Dispatcher({ engine, driver, notifier: 'ops mail', notifierId: 'a1b2', redactor });
 * const record = await dispatcher.dispatch(event);          // never rejects
 * ```
 */
import { randomUUID } from 'node:crypto';
import type { Channel, DispatchError, DispatchRecord, DispatchRequest, DispatchResponse } from '../dispatch';
import { summarizeEvent } from '../dispatch';
import type { NotifierEvent } from '../events';
import { MAX_REQUEST_BODY_BYTES, MAX_RESPONSE_BODY_BYTES, Redactor, cutUtf8 } from '../redact';
import type { AttemptFn, AttemptResult, DeliveryEngine, RetryState } from './engine';
import type { RetryPolicy } from './policy';

export interface PreparedDispatch {
  /** destination key: the engine's rate limit, concurrency and queue are per key */
  key: string;
  /** what is sent, as the record shows it (the dispatcher redacts secrets and cuts the body) */
  request: DispatchRequest;
  attempt: AttemptFn;
  policy?: Partial<RetryPolicy>;
  classifyError?: (err: unknown) => AttemptResult;
}

export interface PrepareContext {
  /** the id of this dispatch (stable across its retries) */
  dispatchId: string;
  /** set when this dispatch re-sends a stored record */
  redeliveryOf?: string;
}

export interface ChannelDriver {
  channel: Channel;
  /**
   * Renders the event into a prepared dispatch. Throwing fails the dispatch at once and permanently,
   * with no attempt: a `PrepareError` keeps its code; an `OtterScriptError` becomes `template`.
   */
  prepare(event: NotifierEvent, ctx: PrepareContext): PreparedDispatch;
  /** releases transports (keep-alive sockets, SMTP pools); called once, after the engine closed */
  close?(): void | Promise<void>;
}

/** A dispatch that cannot be prepared: bad rendered header, template error, invalid URL… */
export class PrepareError extends Error {
  readonly code: string;
  readonly permanent: boolean;
  constructor(code: string, message: string, permanent = true) {
    super(message);
    this.name = 'PrepareError';
    this.code = code;
    this.permanent = permanent;
  }
}

export interface DispatcherOptions {
  engine: DeliveryEngine;
  driver: ChannelDriver;
  /** the output node's name, or its id when unnamed */
  notifier: string;
  notifierId: string;
  /** the node's secrets (credentials and derived forms) */
  redactor?: Redactor;
  newId?: () => string;
}

export interface DispatchOptions {
  redeliveryOf?: string;
  /** the dispatch's id when it has one already (an outbox entry): its delivery id for every attempt */
  id?: string;
  /** when the dispatch was accepted (clock ms), if earlier than now */
  startedAt?: number;
  /** attempts already made (an outbox entry resumed after a restart or redeploy) */
  resume?: RetryState;
  /** called when the dispatch starts waiting to retry */
  onRetryWait?: (state: RetryState) => void;
}

/** Maps an error thrown while preparing to the record's error. */
/** Longest error message kept in a record (a template error may quote a long template). */
export const MAX_ERROR_MESSAGE_CHARS = 2000;

function cutMessage(text: string, max = MAX_ERROR_MESSAGE_CHARS): string {
  return text.length <= max ? text : text.slice(0, max - 14) + '… (truncated)';
}

export function prepareErrorOf(err: unknown): DispatchError {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; permanent?: unknown } | undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (err instanceof PrepareError) return { code: err.code, message, permanent: err.permanent };
  if (e?.name === 'OtterScriptError') return { code: 'template', message, permanent: true };
  if (e?.name === 'ConfigError') return { code: 'config', message, permanent: true };
  return { code: typeof e?.code === 'string' ? e.code : 'prepare', message, permanent: true };
}

/** A record of a dispatch that failed before anything was sent (config error, invalid template…). */
export function failedRecord(
  event: NotifierEvent,
  meta: { notifier: string; notifierId: string; channel: Channel; id?: string; redeliveryOf?: string; startedAt?: Date },
  error: DispatchError,
  request: DispatchRequest = {},
  redactor: Redactor = new Redactor(),
): DispatchRecord {
  const record: DispatchRecord = {
    id: meta.id ?? randomUUID(),
    notifier: meta.notifier,
    notifierId: meta.notifierId,
    channel: meta.channel,
    eventId: event.id,
    eventType: event.type,
    ...(event.feed !== undefined ? { feed: event.feed } : {}),
    summary: summarizeEvent(event),
    outcome: 'failed',
    attempts: 0,
    startedAt: (meta.startedAt ?? new Date()).toISOString(),
    durationMs: 0,
    request: redactRequest(request, redactor),
    error: { ...error, message: cutMessage(redactor.text(error.message)) },
    attemptLog: [],
  };
  if (meta.redeliveryOf !== undefined) record.redeliveryOf = meta.redeliveryOf;
  return record;
}

/** Secrets out (URL, headers, known values), body cut at 64 KiB. */
export function redactRequest(request: DispatchRequest, redactor: Redactor): DispatchRequest {
  const out = redactor.deep<DispatchRequest>({ ...request });
  if (typeof request.url === 'string') out.url = redactor.url(request.url);
  if (request.headers) out.headers = redactor.headers(request.headers);
  if (typeof out.body === 'string') out.body = cutUtf8(out.body, MAX_REQUEST_BODY_BYTES);
  return out;
}

/** Secrets out, body cut at 4 KiB. */
export function redactResponse(response: DispatchResponse, redactor: Redactor): DispatchResponse {
  const out = redactor.deep<DispatchResponse>({ ...response });
  if (response.headers) out.headers = redactor.headers(response.headers);
  if (typeof out.body === 'string') out.body = cutUtf8(out.body, MAX_RESPONSE_BODY_BYTES);
  return out;
}

export class Dispatcher {
  readonly engine: DeliveryEngine;
  readonly driver: ChannelDriver;
  readonly notifier: string;
  readonly notifierId: string;
  readonly redactor: Redactor;
  private readonly newId: () => string;

  constructor(options: DispatcherOptions) {
    this.engine = options.engine;
    this.driver = options.driver;
    this.notifier = options.notifier;
    this.notifierId = options.notifierId;
    this.redactor = options.redactor ?? new Redactor();
    this.newId = options.newId ?? randomUUID;
  }

  /** Prepares, delivers and records one dispatch. Never rejects. */
  async dispatch(event: NotifierEvent, options: DispatchOptions = {}): Promise<DispatchRecord> {
    const id = options.id ?? this.newId();
    const startedAt = new Date(options.startedAt ?? this.engine.clock.now());
    const meta = {
      id,
      notifier: this.notifier,
      notifierId: this.notifierId,
      channel: this.driver.channel,
      startedAt,
      ...(options.redeliveryOf !== undefined ? { redeliveryOf: options.redeliveryOf } : {}),
    };
    let prepared: PreparedDispatch;
    try {
      prepared = this.driver.prepare(event, {
        dispatchId: id,
        ...(options.redeliveryOf !== undefined ? { redeliveryOf: options.redeliveryOf } : {}),
      });
    } catch (err) {
      return failedRecord(event, meta, prepareErrorOf(err), {}, this.redactor);
    }
    const outcome = await this.engine.submit({
      key: prepared.key,
      attempt: prepared.attempt,
      ...(prepared.policy ? { policy: prepared.policy } : {}),
      ...(prepared.classifyError ? { classifyError: prepared.classifyError } : {}),
      ...(options.resume ? { resume: options.resume } : {}),
      ...(options.onRetryWait ? { onRetryWait: options.onRetryWait } : {}),
    });
    const r = this.redactor;
    const record: DispatchRecord = {
      id,
      notifier: this.notifier,
      notifierId: this.notifierId,
      channel: this.driver.channel,
      eventId: event.id,
      eventType: event.type,
      ...(event.feed !== undefined ? { feed: event.feed } : {}),
      summary: summarizeEvent(event),
      outcome: outcome.outcome,
      attempts: outcome.attempts,
      startedAt: startedAt.toISOString(),
      durationMs: options.startedAt !== undefined ? Math.max(0, this.engine.clock.now() - startedAt.getTime()) : outcome.durationMs,
      request: redactRequest(prepared.request, r),
      attemptLog: outcome.attemptLog.map((a) => (a.error !== undefined ? { ...a, error: cutMessage(r.text(a.error), 500) } : { ...a })),
    };
    if (outcome.response) record.response = redactResponse(outcome.response, r);
    else if (outcome.status !== undefined) record.response = { status: outcome.status };
    if (outcome.error) record.error = { ...outcome.error, message: cutMessage(r.text(outcome.error.message)) };
    if (options.redeliveryOf !== undefined) record.redeliveryOf = options.redeliveryOf;
    return record;
  }

  /** Stops intake, winds the engine down (see DeliveryEngine.close), then releases the transport. */
  async close(graceMs?: number): Promise<void> {
    await this.engine.close(graceMs);
    try {
      await this.driver.close?.();
    } catch {
      // releasing sockets cannot fail a close
    }
  }
}
