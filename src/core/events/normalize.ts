import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { EVENT_TYPES, SOURCE_VARS, eventTypeInfo, resolveEventName } from './catalog';
import { MAX_LIST_ITEMS, MAX_STRING_LENGTH, MAX_TOTAL_VALUES, MAX_VALUE_DEPTH, MAX_VARIABLES, VARS_SCHEMAS, severityOfScore } from './schemas';
import type { EventCode, EventSource, EventVia, NotifierEvent, Value, Vars } from './types';

export interface EventIssue {
  /** Where the problem is, in the input: `vars.PackageId`, `packages[0].Name`, `event`, or `` for the whole input. */
  path: string;
  message: string;
}

/** Thrown by `normalizeEvent` with every problem found, each with its path. */
export class EventValidationError extends Error {
  readonly issues: EventIssue[];
  constructor(issues: EventIssue[]) {
    super('Invalid event: ' + issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '));
    this.name = 'EventValidationError';
    this.issues = issues;
  }
}

/**
 * Thrown by `normalizeEvent` when the input is over one of the caps (variables, list items, values,
 * string length): the sender should get 413, with the cap named in the message.
 */
export class EventLimitError extends EventValidationError {
  constructor(issues: EventIssue[]) {
    super(issues);
    this.name = 'EventLimitError';
  }
}

/** Names that could reach an object's prototype; refused as variable names and map keys. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Events normalizeEvent made (frozen); a message clone carries EVENT_MARK whose value is its `vars`. */
const VALIDATED = new WeakSet<object>();
const EVENT_MARK = Symbol('notifier-event.validated');

/**
 * Whether `event` is one normalizeEvent returned in this process, or Node-RED's clone of one (its
 * message cloning keeps the mark, whose value is the clone's own `vars`): no need to check it again.
 */
export function isValidatedEvent(event: unknown): event is NotifierEvent {
  if (typeof event !== 'object' || event === null) return false;
  if (VALIDATED.has(event)) return true;
  const e = event as Record<string | symbol, unknown>;
  return typeof e.vars === 'object' && e.vars !== null && e[EVENT_MARK] === e.vars;
}

function deepFreeze(root: object): void {
  const stack: object[] = [root];
  while (stack.length) {
    const o = stack.pop()!;
    Object.freeze(o);
    for (const v of Array.isArray(o) ? (o as unknown[]) : (Object.values(o) as unknown[]))
      if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) stack.push(v);
  }
}

export interface NormalizeOptions {
  /** An explicit event type (code, label or legacy name); it wins over the shape of the input. */
  eventType?: string;
  /** `http`, `input`, `test`, or the system a mapped event came from (`github`…); default `input`. */
  source?: EventSource;
  /** How the event arrived; defaults to `source` when that is a way of arriving, else `input`. */
  via?: EventVia;
  /** The sender's delivery id (e.g. the `webhook-id` header); wins over an `id` in the input. */
  id?: string;
  now?: () => Date;
}

/** Names of known variables in their canonical spelling, for case-insensitive keys. */
const KNOWN_VARS = new Map<string, string>();
for (const name of [
  ...EVENT_TYPES.flatMap((t) => t.variables),
  'FeedType',
  'FeedId',
  'PackageGroup',
  'PackageHash',
  'PackageSize',
  'NotifierName',
  'NotifierId',
  ...SOURCE_VARS,
]) {
  KNOWN_VARS.set(name.toLowerCase(), name);
}

/** ProGet's alias pairs: [primary, alias]. Both names are always defined after normalization. */
const ALIASES: ReadonlyArray<[string, string]> = [
  ['PackageEvent', 'WebhookEvent'],
  ['BuildReleaseNumber', 'ReleaseNumber'],
  ['BuildProjectName', 'ProjectName'],
];

const EVENT_NAME_KEYS = ['event', 'eventtype', 'type', 'eventname', 'packageevent', 'webhookevent'];

interface Shape {
  kind: 'normalized' | 'proget-body' | 'variables';
  vars: Record<string, unknown>;
  /** input path of each variable, for error messages */
  paths: Record<string, string>;
  eventName?: { value: unknown; path: string };
  id?: unknown;
  occurredAt?: unknown;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a JSON array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * One pass over the input, linear in its size and without recursion: nesting deeper than
 * MAX_VALUE_DEPTH, reserved key names (400); lists or maps over MAX_LIST_ITEMS, more than
 * MAX_TOTAL_VALUES values in all, strings over MAX_STRING_LENGTH (413). Stops at the first problem.
 */
function inspectInput(root: Record<string, unknown>): void {
  let total = 0;
  const stack: Array<[unknown, number, string]> = [[root, 0, '']];
  while (stack.length) {
    const [v, depth, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.length > MAX_STRING_LENGTH) {
        throw new EventLimitError([{ path: path || '(root)', message: `text longer than ${MAX_STRING_LENGTH} characters (the cap for one value)` }]);
      }
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_VALUE_DEPTH)
      throw new EventValidationError([{ path: path || '(root)', message: `nested deeper than ${MAX_VALUE_DEPTH} levels` }]);
    const isList = Array.isArray(v);
    const keys = isList ? undefined : Object.keys(v);
    const n = isList ? v.length : keys!.length;
    if (depth > 0 && n > MAX_LIST_ITEMS) {
      throw new EventLimitError([
        { path, message: `has ${n} ${isList ? 'items' : 'keys'}, more than ${MAX_LIST_ITEMS} (the cap for one list or map)` },
      ]);
    }
    total += n;
    if (total > MAX_TOTAL_VALUES) {
      throw new EventLimitError([{ path: path || '(root)', message: `more than ${MAX_TOTAL_VALUES} values in all (the cap for one event)` }]);
    }
    if (isList) {
      for (let i = 0; i < n; i++) stack.push([v[i], depth + 1, `${path}[${i}]`]);
    } else {
      const o = v as Record<string, unknown>;
      for (const k of keys!) {
        if (RESERVED_KEYS.has(k)) {
          throw new EventValidationError([{ path: childPath(path, k), message: `"${k}" is a reserved name and cannot be a variable or key` }]);
        }
        stack.push([o[k], depth + 1, childPath(path, k)]);
      }
    }
  }
}

/** Maps one of ProGet's four default webhook bodies (or the legacy one) to variables. */
const BODY_SHAPES: Array<{ test: (o: Record<string, unknown>) => boolean; type?: EventCode; map: Record<string, string> }> = [
  {
    test: (o) => 'issues' in o && 'buildNumber' in o,
    type: 'sca.build-issues-opened',
    map: { issues: 'BuildIssues', buildNumber: 'BuildNumber', releaseNumber: 'BuildReleaseNumber', projectName: 'BuildProjectName' },
  },
  {
    test: (o) => 'packages' in o && 'vulnerabilityId' in o,
    type: 'sca.new-vulnerability',
    map: {
      packages: 'AffectedPackages',
      vulnerabilityId: 'VulnerabilityId',
      summary: 'VulnerabilitySummary',
      severity: 'VulnerabilitySeverity',
      score: 'VulnerabilityScore',
      feed: 'FeedName',
    },
  },
  {
    test: (o) => 'package' in o && 'version' in o && 'result' in o,
    type: 'sca.noncompliant-package',
    map: {
      package: 'PackageId',
      version: 'PackageVersion',
      result: 'PackageComplianceResult',
      details: 'PackageComplianceDetails',
      feed: 'FeedName',
    },
  },
  {
    // package events (2024+) and the legacy (<= 2023) body, which adds hash and packageType
    test: (o) => 'package' in o && 'version' in o && 'event' in o,
    map: {
      package: 'PackageId',
      version: 'PackageVersion',
      user: 'UserName',
      feed: 'FeedName',
      hash: 'PackageHash',
      packageType: 'FeedType',
    },
  },
];

function detectShape(input: Record<string, unknown>): Shape {
  if (typeof input.type === 'string' && isPlainObject(input.vars)) {
    const paths: Record<string, string> = {};
    for (const k of Object.keys(input.vars)) paths[k] = `vars.${k}`;
    return {
      kind: 'normalized',
      vars: input.vars,
      paths,
      eventName: { value: input.type, path: 'type' },
      id: input.id,
      occurredAt: input.occurredAt,
    };
  }
  for (const shape of BODY_SHAPES) {
    if (!shape.test(input)) continue;
    const vars: Record<string, unknown> = {};
    const paths: Record<string, string> = {};
    for (const [key, value] of Object.entries(input)) {
      if (key === 'event' && !shape.type) continue;
      const name = shape.map[key] ?? key;
      vars[name] = value;
      paths[name] = key;
    }
    return {
      kind: 'proget-body',
      vars,
      paths,
      eventName: shape.type ? { value: shape.type, path: '' } : { value: input.event, path: 'event' },
    };
  }
  const vars: Record<string, unknown> = {};
  const paths: Record<string, string> = {};
  let eventName: Shape['eventName'];
  for (const [key, value] of Object.entries(input)) {
    const bare = key.replace(/^[$@%]/, '');
    const lower = bare.toLowerCase();
    if (!eventName && EVENT_NAME_KEYS.includes(lower) && typeof value === 'string' && resolveEventName(value)) {
      eventName = { value, path: key };
    }
    if (['event', 'eventtype', 'type', 'id', 'occurredat'].includes(lower)) continue;
    vars[bare] = value;
    paths[bare] = key;
  }
  if (!eventName) {
    // report the first name-like field even when it names no known event
    for (const [key, value] of Object.entries(input)) {
      if (EVENT_NAME_KEYS.includes(key.replace(/^[$@%]/, '').toLowerCase())) {
        eventName = { value, path: key };
        break;
      }
    }
  }
  return { kind: 'variables', vars, paths, eventName, id: input.id, occurredAt: input.occurredAt };
}

function eventNameHelp(): string {
  return `a code (${EVENT_TYPES.map((t) => t.code).join(', ')}) or a label such as "Promoted" or "New Vulnerability Detected"`;
}

/**
 * Turns what a sender posts into a normalized event: a normalized event, one of ProGet's four default
 * webhook bodies (recognized by shape), or a flat object of ProGet variables with an event name.
 * Throws `EventValidationError` naming every problem with its path.
 */
export function normalizeEvent(input: unknown, options: NormalizeOptions = {}): NotifierEvent {
  if (!isPlainObject(input)) {
    throw new EventValidationError([{ path: '', message: `expected a JSON object, got ${describe(input)}` }]);
  }
  const vars0 = input.vars;
  for (const [o, path] of [
    [input, ''],
    [vars0, 'vars'],
  ] as const) {
    if (!isPlainObject(o)) continue;
    const n = Object.keys(o).length;
    if (n > MAX_VARIABLES + 8) {
      throw new EventLimitError([
        { path, message: `has ${n} ${path ? 'variables' : 'fields'}, more than ${MAX_VARIABLES} variables (the cap for one event)` },
      ]);
    }
  }
  inspectInput(input);
  const shape = detectShape(input);
  const varCount = Object.keys(shape.vars).length;
  if (varCount > MAX_VARIABLES) {
    throw new EventLimitError([
      { path: shape.kind === 'normalized' ? 'vars' : '', message: `has ${varCount} variables, more than ${MAX_VARIABLES} (the cap for one event)` },
    ]);
  }
  const issues: EventIssue[] = [];

  let code: EventCode | undefined;
  if (options.eventType !== undefined && options.eventType !== '') {
    code = resolveEventName(options.eventType);
    if (!code) issues.push({ path: 'event (explicit)', message: `unknown event type "${options.eventType}"; use ${eventNameHelp()}` });
  } else if (shape.eventName) {
    const { value, path } = shape.eventName;
    code = typeof value === 'string' ? resolveEventName(value) : undefined;
    if (!code) {
      issues.push({
        path,
        message:
          typeof value === 'string'
            ? `unknown event type "${value.slice(0, 100)}"; use ${eventNameHelp()}`
            : `event type must be a string, got ${describe(value)}`,
      });
    }
  } else {
    issues.push({
      path: '',
      message: `no event type: add an "event" field (${eventNameHelp()}), or name it with ?event= on the URL`,
    });
  }
  if (!code || issues.length) throw new EventValidationError(issues);
  const info = eventTypeInfo(code)!;

  // Canonical variable names (case-insensitive, sigils stripped), duplicates refused.
  const vars: Record<string, unknown> = {};
  const paths: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [key, value] of Object.entries(shape.vars)) {
    const bare = key.replace(/^[$@%]/, '');
    if (bare === '' || bare.length > 100) {
      issues.push({ path: shape.paths[key] ?? key, message: 'variable names must have 1 to 100 characters' });
      continue;
    }
    if (RESERVED_KEYS.has(bare)) {
      issues.push({ path: shape.paths[key] ?? key, message: `"${bare}" is a reserved name and cannot be a variable` });
      continue;
    }
    const lower = bare.toLowerCase();
    const canonical = KNOWN_VARS.get(lower) ?? bare;
    if (seen.has(lower)) {
      issues.push({ path: shape.paths[key] ?? key, message: `variable ${canonical} is given twice (names are case-insensitive)` });
      continue;
    }
    seen.add(lower);
    vars[canonical] = value;
    paths[canonical] = shape.paths[key] ?? key;
  }
  for (const [primary, alias] of ALIASES) {
    if (vars[primary] === undefined && vars[alias] !== undefined) {
      vars[primary] = vars[alias];
      paths[primary] = paths[alias]!;
    }
  }
  if (vars.PackageId === undefined && vars.PackageName !== undefined) {
    vars.PackageId = vars.PackageName;
    paths.PackageId = paths.PackageName!;
  }

  const mapped = options.source !== undefined && !isVia(options.source);
  const schema: z.ZodType =
    info.category === 'package'
      ? mapped
        ? VARS_SCHEMAS['mapped-package']
        : VARS_SCHEMAS.package
      : info.category === 'other'
        ? VARS_SCHEMAS.other
        : VARS_SCHEMAS[code as keyof typeof VARS_SCHEMAS];
  const parsed = schema.safeParse(vars);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [first, ...rest] = issue.path.map(String);
      const base = first !== undefined ? (paths[first] ?? (shape.kind === 'normalized' ? `vars.${first}` : first)) : '';
      const path = [base, ...rest].reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
      const message =
        first !== undefined && rest.length === 0 && vars[first] === undefined
          ? 'is required'
          : issue.code === 'invalid_union'
            ? 'must be a string, a list or a map of strings'
            : issue.message;
      issues.push({ path, message });
    }
  }
  let id: string | undefined = options.id ?? (typeof shape.id === 'string' ? shape.id : undefined);
  if (shape.id !== undefined && typeof shape.id !== 'string' && options.id === undefined) {
    issues.push({ path: 'id', message: `must be a string, got ${describe(shape.id)}` });
  }
  // eslint-disable-next-line no-control-regex -- control characters in an event id are refused on purpose
  if (id !== undefined && (id.length === 0 || id.length > 200 || /[\u0000-\u001f\u007f]/.test(id))) {
    issues.push({ path: 'id', message: 'must be 1 to 200 characters with no control characters' });
    id = undefined;
  }
  let occurredAt: string | undefined;
  if (shape.occurredAt !== undefined) {
    const d = typeof shape.occurredAt === 'string' ? new Date(shape.occurredAt) : new Date(NaN);
    if (Number.isNaN(d.getTime())) issues.push({ path: 'occurredAt', message: 'must be an ISO 8601 date' });
    else occurredAt = d.toISOString();
  }
  if (issues.length || !parsed.success) throw new EventValidationError(issues);

  const out = parsed.data as Vars;
  if (info.category === 'package') {
    out.PackageEvent = info.shortLabel;
  }
  for (const [primary, alias] of ALIASES) {
    if (out[primary] !== undefined) out[alias] = out[primary]!;
  }
  if (out.PackageId !== undefined && out.PackageName === undefined && code !== 'sca.new-vulnerability' && info.category !== 'other') {
    out.PackageName = out.PackageId;
  }
  if (code === 'sca.new-vulnerability') {
    const affected = out.AffectedPackages as Array<Record<string, Value>>;
    if (out.PackageId === undefined) {
      out.PackageId = affected.map((p) => String(p.Name as string).replace(/^[^:]*:/, '')).join(', ');
    }
    if (out.PackageVersion === undefined) out.PackageVersion = '';
    if (out.VulnerabilitySeverity === '') out.VulnerabilitySeverity = severityOfScore(out.VulnerabilityScore as string);
  }
  if (out.EventName === undefined) out.EventName = info.label;

  const feed =
    typeof out.FeedName === 'string' && info.feedBound !== 'no' && (info.category !== 'other' || out.FeedName !== '') ? out.FeedName : undefined;
  const source = options.source ?? 'input';
  const event: NotifierEvent = {
    id: id ?? randomUUID(),
    type: code,
    label: info.label,
    category: info.category,
    occurredAt: occurredAt ?? (options.now ? options.now() : new Date()).toISOString(),
    ...(feed !== undefined ? { feed } : {}),
    source,
    via: options.via ?? (isVia(source) ? source : 'input'),
    vars: out,
  };
  Object.defineProperty(event, EVENT_MARK, { value: out, enumerable: true });
  deepFreeze(event);
  VALIDATED.add(event);
  return event;
}

/** Whether a `source` is a way of arriving (`http`, `input`, `test`) rather than a system. */
export function isVia(source: unknown): source is EventVia {
  return source === 'http' || source === 'input' || source === 'test';
}

/** Looks a variable up case-insensitively, as OtterScript does. */
export function getVar(vars: Vars, name: string): Value | undefined {
  if (Object.prototype.hasOwnProperty.call(vars, name)) return vars[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(vars)) if (k.toLowerCase() === lower) return vars[k];
  return undefined;
}
