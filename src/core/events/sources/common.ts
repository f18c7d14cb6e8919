/**
 * What every source mapper shares: the request it reads, what it returns, and bounded readers of
 * attacker-controlled values. A mapper reads fixed paths of the body (never walks it), clips every text it
 * keeps and caps every list, so its work is linear in what it keeps, whatever the body holds.
 */
import { z } from 'zod';
import { EventValidationError } from '../normalize';
import type { EventIssue } from '../normalize';
import { SOURCE_LABELS } from '../catalog';
import type { Severity } from '../schemas';
import type { SourceSystem, Value } from '../types';

export interface SourceRequest {
  /** request headers, names in lowercase (Node's IncomingMessage.headers); empty for input messages without them */
  headers: Record<string, string | string[] | undefined>;
  /** the parsed JSON body */
  body: unknown;
}

/** What a mapper makes of one delivery: an event type (one of the ten, or `<source>.<event>`) and its variables. */
export interface MappedEvent {
  type: string;
  vars: Record<string, Value>;
  /** the sender's id of the event, when the body has one */
  id?: string;
  /** when it happened, as an ISO 8601 date */
  occurredAt?: string;
}

export interface SourceMapper {
  readonly name: SourceSystem;
  /** Whether the body's shape is this source's (fields no other source and no ProGet body has). */
  matchesShape(body: Record<string, unknown>): boolean;
  /** Whether a header only this source sends is present. */
  matchesHeaders(headers: SourceRequest['headers']): boolean;
  /** Maps one delivery; throws EventValidationError naming what is missing or wrong, with its path. */
  map(req: SourceRequest): MappedEvent;
}

/** Longest text kept from a source's field (a longer one is cut, with an ellipsis). */
export const MAX_TEXT = 8 * 1024;
/** Most items kept of a source's list (affected projects, vulnerabilities, resources, tags…). */
export const MAX_ITEMS = 100;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Control characters other than tab, newline and carriage return. */
// eslint-disable-next-line no-control-regex -- removing them is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/**
 * A text value clipped to `max` characters, without control characters (tab and newlines stay); numbers and
 * booleans as their text; anything else ''.
 */
export function text(v: unknown, max = MAX_TEXT): string {
  const s = typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'boolean' ? String(v) : '';
  const clipped = s.length > max ? s.slice(0, max - 1) + '…' : s;
  return clipped.replace(CONTROL, '');
}

/** The object at `key` of `o`, or an empty object. */
export function obj(o: unknown, key: string): Record<string, unknown> {
  const v = isRecord(o) ? o[key] : undefined;
  return isRecord(v) ? v : {};
}

/** The list at `key` of `o` (at most MAX_ITEMS items), or an empty list. */
export function list(o: unknown, key: string): unknown[] {
  const v = isRecord(o) ? o[key] : undefined;
  return Array.isArray(v) ? v.slice(0, MAX_ITEMS) : [];
}

/** The first value of a header, clipped (header names in lowercase). */
export function header(headers: SourceRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? text(first, 200) : undefined;
}

/** A source's own event name as part of an event code: lowercase letters, digits and `_ . -`, at most 60 characters. */
export function token(s: string): string {
  const t = s
    .toLowerCase()
    .slice(0, 60)
    .replace(/[^a-z0-9_.-]/g, '_')
    .replace(/^[^a-z0-9]+/, '');
  return t || 'unknown';
}

/** `<source>.<part>.<part>` from a source's own names, sanitized. */
export function sourceCode(source: SourceSystem, ...parts: string[]): string {
  return [source, ...parts.filter((p) => p !== '').map(token)].join('.');
}

const SEVERITY_WORDS: Record<string, Severity> = {
  none: 'None',
  info: 'None',
  informational: 'None',
  negligible: 'Low',
  low: 'Low',
  medium: 'Medium',
  moderate: 'Medium',
  high: 'High',
  critical: 'Critical',
};

/** A source's severity word as ProGet's (None, Low, Medium, High, Critical); '' when unknown or unassigned. */
export function severityOf(v: unknown): Severity | '' {
  return SEVERITY_WORDS[text(v, 40).trim().toLowerCase()] ?? '';
}

/** A CVSS score (0 to 10) as text, or '' when there is none. */
export function scoreOf(...candidates: unknown[]): string {
  for (const c of candidates) {
    const n = typeof c === 'number' ? c : typeof c === 'string' && /^\d{1,2}(\.\d{1,3})?$/.test(c.trim()) ? Number(c) : NaN;
    if (Number.isFinite(n) && n > 0 && n <= 10) return String(n);
  }
  return '';
}

/** The higher of two severities. */
export function maxSeverity(a: Severity | '', b: Severity | ''): Severity | '' {
  const order = ['', 'None', 'Low', 'Medium', 'High', 'Critical'];
  return order.indexOf(b) > order.indexOf(a) ? b : a;
}

/** A date the source gives (ISO 8601, `+0000` offsets, Unix seconds) as ISO 8601; undefined when it is not one. */
export function isoDate(v: unknown): string | undefined {
  let d: Date;
  if (typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1e11) d = new Date(v * 1000);
  else if (typeof v === 'string' && v.length <= 40 && /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})?$/.test(v)) {
    d = new Date(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  } else return undefined;
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Checks the parts of a body a mapper relies on; throws EventValidationError with each problem's path. */
export function check<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issues: EventIssue[] = r.error.issues.slice(0, 10).map((i) => ({
    path: i.path.map(String).reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), ''),
    message: `${i.message} (expected ${what})`,
  }));
  throw new EventValidationError(issues);
}

/** Refuses a delivery, saying what is wrong and where. */
export function refuse(path: string, message: string): never {
  throw new EventValidationError([{ path, message }]);
}

/** A required text field of a source's payload. */
export const requiredText = z.union([z.string(), z.number()]).transform((v) => text(v));
/** An object whose other fields are not checked. */
export const record = z.record(z.string(), z.unknown());

/** The variables every mapped event has, whatever its type: which system, its own event name, and a one-line summary. */
export function sourceVars(source: SourceSystem, sourceEvent: string, vars: Record<string, Value>): Record<string, Value> {
  const out: Record<string, Value> = { SourceName: SOURCE_LABELS[source], SourceEvent: text(sourceEvent, 200), Url: '', ...vars };
  if (out.Summary === undefined) out.Summary = summary(out);
  return out;
}

function summary(v: Record<string, Value>): string {
  const s = (k: string): string => {
    const x = v[k];
    return typeof x === 'string' ? x : '';
  };
  const what = s('VulnerabilityId') || [s('PackageId'), s('PackageVersion')].filter(Boolean).join(' ');
  const parts = [s('SourceEvent')];
  if (what) parts.push(what);
  if (s('FeedName')) parts.push(`on ${s('FeedName')}`);
  if (s('UserName')) parts.push(`by ${s('UserName')}`);
  return text(parts.join(' '), 1000);
}
