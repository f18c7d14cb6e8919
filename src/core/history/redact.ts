import type { DispatchRecord } from '../dispatch';
import { REDACTED, MAX_REQUEST_BODY_BYTES, MAX_RESPONSE_BODY_BYTES, isSensitiveHeader, redactUrl as redactUrlOnly } from '../redact';

// The output nodes redact every record already (src/core/redact.ts); the store applies the same rules again
// before anything reaches the disk, with the same marker, and bounds every field.
export { REDACTED };
export const MAX_REQUEST_BODY = MAX_REQUEST_BODY_BYTES;
export const MAX_RESPONSE_BODY = MAX_RESPONSE_BODY_BYTES;
const MAX_STRING = 16 * 1024;
const MAX_ATTEMPTS_LOGGED = 50;

/** Masks the values of secret headers (names compared case-insensitively). */
export function redactHeaders(headers: unknown): Record<string, string> | undefined {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers as Record<string, string | number | boolean | string[] | null | undefined>)) {
    const text = Array.isArray(value) ? value.map(String).join(', ') : String(value ?? '');
    out[name] = isSensitiveHeader(name) && text !== '' ? REDACTED : cut(text, MAX_STRING);
  }
  return out;
}

/** Masks credentials in a URL (user info, secret query parameters, Slack webhook tokens), bounded in length. */
export function redactUrl(url: string): string {
  return cut(redactUrlOnly(url), 2048);
}

function cut(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) + '…' : text;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Copies the JSON-safe, size-bounded part of an arbitrary value (for fields other than the known ones). */
function boundedCopy(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return cut(value, MAX_STRING);
  if (depth > 6) return undefined;
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => boundedCopy(v, depth + 1));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value).slice(0, 100)) {
      const c = boundedCopy(v, depth + 1);
      if (c !== undefined) out[k] = c;
    }
    return out;
  }
  return undefined;
}

function redactExchange(part: unknown, maxBody: number): Record<string, unknown> | undefined {
  if (!isObject(part)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(part)) {
    if (key === 'headers') {
      const h = redactHeaders(value);
      if (h) out.headers = h;
    } else if (key === 'url' && typeof value === 'string') {
      out.url = redactUrl(value);
    } else if (key === 'body' && typeof value === 'string') {
      out.body = cut(value, maxBody);
    } else if (/password|secret|token|authorization/i.test(key) && value !== undefined && value !== '') {
      out[key] = REDACTED;
    } else {
      const c = boundedCopy(value);
      if (c !== undefined) out[key] = c;
    }
  }
  return out;
}

/**
 * A copy of a dispatch record fit for storage: secret headers, URL credentials and secret-named fields masked
 * (again: the output nodes already redact), bodies cut (request 64 KiB, response 4 KiB), strings bounded.
 */
export function redactRecord(record: DispatchRecord): DispatchRecord {
  const out: DispatchRecord = {
    id: record.id,
    notifier: cut(String(record.notifier), 512),
    notifierId: record.notifierId,
    channel: record.channel,
    eventId: cut(String(record.eventId ?? ''), 512),
    eventType: record.eventType,
    summary: cut(String(record.summary ?? ''), 2048),
    outcome: record.outcome,
    attempts: record.attempts,
    startedAt: record.startedAt,
    durationMs: record.durationMs,
    request: redactExchange(record.request, MAX_REQUEST_BODY) ?? {},
  };
  if (record.feed !== undefined) out.feed = cut(String(record.feed), 512);
  const response = redactExchange(record.response, MAX_RESPONSE_BODY);
  if (response) out.response = response;
  if (isObject(record.error)) {
    out.error = {
      code: cut(String(record.error.code ?? ''), 256),
      message: cut(String(record.error.message ?? ''), 4096),
      permanent: record.error.permanent === true,
    };
  }
  if (Array.isArray(record.attemptLog)) {
    out.attemptLog = record.attemptLog.slice(-MAX_ATTEMPTS_LOGGED).map((a) => boundedCopy(a) as NonNullable<DispatchRecord['attemptLog']>[number]);
  }
  if (typeof record.redeliveryOf === 'string') out.redeliveryOf = record.redeliveryOf;
  return out;
}
