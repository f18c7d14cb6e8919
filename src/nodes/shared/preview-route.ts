// The editor's OtterScript preview: `POST <admin root>/notifier-otterscript/preview` renders a
// template or evaluates a predicate against the sample event of a chosen type, and answers
// `{ result }`, or `{ error: { message, line, column, excerpt, phase } }` for an OtterScript error (HTTP
// 200: a wrong template is a valid preview answer; `phase` is `compile` for a syntax error, unknown
// function…, `run` for an error rendering the sample event, e.g. an unknown variable). A malformed request gets 400 `{ error: { message } }`.
//
// Every node type that offers template fields calls registerPreviewRoute(RED); the route is added
// once per admin app (module-level guard), whichever node registers first.
//
// Request body: { kind: "template" | "predicate", source: string, eventType: string,
//                 defaultTemplate?: "webhook" | "emailSubject" | "emailBody" | "slack" | "teamsTitle" | "teamsText" }
// An empty template source with `defaultTemplate` previews that default of the event type.
//
// `eventType` is one of ProGet's ten codes, or `digest`: the sample digest of core/digest/sample.ts (12 promoted
// packages of one feed, 10 listed: made by buildDigestEvent, with fixed ids and times). An empty template with
// `defaultTemplate` then previews what the channel sends for a digest with no template of its own: the webhook
// body and the email subject are the `digest` default templates; the email body is digestEmail's text, the Teams
// title and text are digestTeamsParts', and the Slack message is digestSlackMessage's Block Kit message, its
// blocks' text one after the other (core/channels/digest.ts, as slack.ts, teams.ts and email.ts call them).
//
// Or { kind: "groupKey", source, eventType }: the key a notifier-digest node with that `groupBy` files the sample
// event under (an empty source is the default `$FeedName/$WebhookEvent`), answered `{ result, usedDefault?,
// fallback? }`; `fallback` (the OtterScript error's message) when the template failed for this event and the node
// groups it by its type's label instead. A syntax error is the usual error answer. Not for `digest` (a digest
// passes a digest node unchanged).
//
// Or { kind: "condition", condition: { feeds, mode, packageName, packageVersion, minScore, minSeverity,
// expression }, eventType }: the condition node's settings as the node runs them (feed filter, then the
// chosen mode), answered `{ result, reason: "feed" | "condition" | "matched", checked }` where `checked`
// names the values of the sample event that were tested. For mode `jsonata` (Node-RED's language, which
// the editor evaluates itself) the answer carries the sample message as `msg` once the feed filter passed.
import { digestEmail, digestSlackMessage, digestTeamsParts, enforceSlackLimits } from '../../core/channels';
import type { SlackPayload } from '../../core/channels';
import { ConditionConfigError, compileCondition, evaluateCondition, packageNamesOf } from '../../core/conditions';
import { DEFAULT_GROUP_BY, digestGroupKey, sampleDigestEvent } from '../../core/digest';
import { EVENT_CODES, getVar, isEventCode, sampleEvent } from '../../core/events';
import type { NotifierEvent } from '../../core/events';
import { OtterScriptError, compilePredicate, compileTemplate, defaultTemplates } from '../../core/otterscript';

import type { NodeRED as RED } from './node-red';

export const PREVIEW_PATH = '/notifier-otterscript/preview';
export const PREVIEW_PERMISSION = 'notifier-otterscript.write';
/** Longest source the preview accepts. */
export const MAX_PREVIEW_SOURCE = 256 * 1024;
/** Longest rendered text sent back. */
export const MAX_PREVIEW_RESULT = 64 * 1024;

const DEFAULT_FIELDS = ['webhook', 'emailSubject', 'emailBody', 'slack', 'teamsTitle', 'teamsText'] as const;
type DefaultField = (typeof DEFAULT_FIELDS)[number];

const registered = new WeakSet<object>();

interface PreviewBody {
  kind?: unknown;
  source?: unknown;
  eventType?: unknown;
  defaultTemplate?: unknown;
  condition?: unknown;
}

/** The sample event types of the preview: ProGet's ten and `digest`. */
export const PREVIEW_EVENT_TYPES: readonly string[] = [...EVENT_CODES, 'digest'];

function isPreviewType(type: unknown): type is string {
  return typeof type === 'string' && (isEventCode(type) || type === 'digest');
}

/** The sample event of a preview type (a copy for ProGet's types; the shared frozen sample digest). */
function sampleOf(type: string): NotifierEvent {
  return type === 'digest' ? sampleDigestEvent() : sampleEvent(type);
}

const badType = () => `eventType must be one of ${PREVIEW_EVENT_TYPES.join(', ')}`;

type ConditionResult = { result: boolean; reason: 'feed' | 'condition' | 'matched'; checked: string; msg?: unknown };

export type PreviewAnswer =
  | { status: 200; body: { result: string | boolean; truncated?: boolean; usedDefault?: boolean; fallback?: string } }
  | { status: 200; body: ConditionResult }
  | { status: 200; body: { error: { message: string; property: string; phase: 'compile' } } }
  | { status: 200; body: { error: { message: string; line: number; column: number; excerpt: string; phase: 'compile' | 'run' } } }
  | { status: 400; body: { error: { message: string } } };

/** A Slack message as it reads: each block's text (a header, a section's text and fields, a context) in order. */
export function slackPayloadText(payload: SlackPayload): string {
  const out: string[] = [];
  for (const block of payload.blocks ?? []) {
    const b = block as { text?: { text?: unknown }; fields?: Array<{ text?: unknown }>; elements?: Array<{ text?: unknown }> };
    const parts: string[] = [];
    if (typeof b.text?.text === 'string') parts.push(b.text.text);
    for (const f of b.fields ?? []) if (typeof f.text === 'string') parts.push(f.text);
    for (const e of b.elements ?? []) if (typeof e.text === 'string') parts.push(e.text);
    if (parts.length) out.push(parts.join('\n'));
  }
  return out.length ? out.join('\n\n') : (payload.text ?? '');
}

/**
 * What a channel sends for a digest when the field has no template: rendered text (channels/digest.ts, called as the
 * channels call it), or, for the fields whose digest default is a template (webhook body, email subject), undefined.
 */
function digestDefaultText(event: NotifierEvent, field: DefaultField): string | undefined {
  switch (field) {
    case 'slack':
      return slackPayloadText(enforceSlackLimits(digestSlackMessage(event)));
    case 'teamsTitle':
      return digestTeamsParts(event).title;
    case 'teamsText':
      return digestTeamsParts(event).text;
    case 'emailBody':
      return digestEmail(event).text;
    default:
      return undefined;
  }
}

function defaultSource(eventType: string, field: DefaultField): string {
  const d = defaultTemplates(eventType);
  if (field === 'teamsTitle') return d.teams.title;
  if (field === 'teamsText') return d.teams.text;
  return d[field];
}

/** The preview itself, without HTTP (tested directly and by the route test). */
export function preview(body: PreviewBody | undefined): PreviewAnswer {
  const bad = (message: string): PreviewAnswer => ({ status: 400, body: { error: { message } } });
  if (!body || typeof body !== 'object') return bad('expected a JSON body { kind, source, eventType }');
  const { kind, source, eventType, defaultTemplate } = body;
  if (kind === 'condition') return previewCondition(body);
  if (kind !== 'template' && kind !== 'predicate' && kind !== 'groupKey') return bad('kind must be "template", "predicate", "condition" or "groupKey"');
  if (typeof source !== 'string') return bad('source must be a string');
  if (source.length > MAX_PREVIEW_SOURCE) return bad(`source is longer than ${MAX_PREVIEW_SOURCE / 1024} KiB`);
  const type = eventType === undefined || eventType === '' ? 'package.promoted' : eventType;
  if (!isPreviewType(type)) return bad(badType());
  if (defaultTemplate !== undefined && !DEFAULT_FIELDS.includes(defaultTemplate as DefaultField)) {
    return bad(`defaultTemplate must be one of ${DEFAULT_FIELDS.join(', ')}`);
  }
  if (kind === 'groupKey') return previewGroupKey(source, type);
  const event = sampleOf(type);
  const vars = event.vars;
  const useDefault = kind === 'template' && source.trim() === '' && defaultTemplate !== undefined;
  if (useDefault && type === 'digest') {
    const rendered = digestDefaultText(event, defaultTemplate as DefaultField);
    if (rendered !== undefined) return { status: 200, body: { ...cut(rendered), usedDefault: true } };
  }
  const text = useDefault ? defaultSource(type, defaultTemplate as DefaultField) : source;
  let phase: 'compile' | 'run' = 'compile';
  try {
    if (kind === 'predicate') {
      const predicate = compilePredicate(text);
      phase = 'run';
      return { status: 200, body: { result: predicate(vars) } };
    }
    const template = compileTemplate(text);
    phase = 'run';
    return { status: 200, body: { ...cut(template(vars)), ...(useDefault ? { usedDefault: true } : {}) } };
  } catch (err) {
    if (err instanceof OtterScriptError) {
      return { status: 200, body: { error: { message: err.message, line: err.line, column: err.column, excerpt: err.excerpt, phase } } };
    }
    return bad(`preview failed: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** A rendered text, cut to MAX_PREVIEW_RESULT. */
function cut(result: string): { result: string; truncated?: boolean } {
  return result.length > MAX_PREVIEW_RESULT ? { result: result.slice(0, MAX_PREVIEW_RESULT), truncated: true } : { result };
}

/** The group key of the sample event under a `groupBy` template, as the digest node computes it (digestGroupKey). */
function previewGroupKey(source: string, type: string): PreviewAnswer {
  if (type === 'digest') return { status: 400, body: { error: { message: 'eventType digest has no group key: a digest passes a digest node unchanged' } } };
  const useDefault = source.trim() === '';
  let template: (vars: NotifierEvent['vars']) => string;
  try {
    template = compileTemplate(useDefault ? DEFAULT_GROUP_BY : source.trim());
  } catch (err) {
    if (err instanceof OtterScriptError) {
      return { status: 200, body: { error: { message: err.message, line: err.line, column: err.column, excerpt: err.excerpt, phase: 'compile' } } };
    }
    return { status: 400, body: { error: { message: `preview failed: ${(err as Error)?.message ?? String(err)}` } } };
  }
  const event = sampleOf(type);
  let fallback: string | undefined;
  const key = digestGroupKey((vars) => {
    try {
      return template(vars);
    } catch (err) {
      fallback = (err as Error)?.message ?? String(err);
      throw err;
    }
  }, event);
  return { status: 200, body: { result: key, ...(useDefault ? { usedDefault: true } : {}), ...(fallback !== undefined ? { fallback } : {}) } };
}

const CONDITION_FIELDS = ['feeds', 'mode', 'packageName', 'packageVersion', 'minScore', 'minSeverity', 'expression'] as const;

/** What the chosen mode looked at in the event, for the preview to show. */
function checkedValues(mode: string, event: NotifierEvent): string {
  const v = (name: string): string => {
    const x = getVar(event.vars, name);
    return typeof x === 'string' && x !== '' ? x : '(none)';
  };
  const feed = `feed: ${event.feed ?? '(none)'}`;
  switch (mode) {
    case 'package':
      return `${feed}; package: ${packageNamesOf(event).join(', ') || '(none)'}; version: ${v('PackageVersion')}`;
    case 'score':
      return `${feed}; VulnerabilityScore: ${v('VulnerabilityScore')}`;
    case 'severity':
      return `${feed}; VulnerabilitySeverity: ${v('VulnerabilitySeverity')}`;
    default:
      return event.type === 'digest' ? `${feed}; EventCount: ${v('EventCount')}` : feed;
  }
}

/** The condition node's settings evaluated as the node evaluates them, against a sample event. */
function previewCondition(body: PreviewBody): PreviewAnswer {
  const bad = (message: string): PreviewAnswer => ({ status: 400, body: { error: { message } } });
  const raw = body.condition;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return bad('condition must be an object { feeds, mode, … }');
  const config: Record<string, string> = {};
  for (const key of CONDITION_FIELDS) {
    const v = (raw as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' && typeof v !== 'number') return bad(`condition.${key} must be text`);
    if (String(v).length > MAX_PREVIEW_SOURCE) return bad(`condition.${key} is longer than ${MAX_PREVIEW_SOURCE / 1024} KiB`);
    config[key] = String(v);
  }
  const type = body.eventType === undefined || body.eventType === '' ? 'package.promoted' : body.eventType;
  if (!isPreviewType(type)) return bad(badType());
  const event = sampleOf(type);
  let phase: 'compile' | 'run' = 'compile';
  try {
    const condition = compileCondition(config);
    phase = 'run';
    const checked = checkedValues(condition.mode, event);
    const outcome = evaluateCondition(condition, event);
    if (condition.mode === 'jsonata' && outcome.pass) {
      return { status: 200, body: { result: true, reason: 'matched', checked, msg: { event, payload: event.vars, topic: event.type } } };
    }
    return { status: 200, body: { result: outcome.pass, reason: outcome.reason, checked } };
  } catch (err) {
    if (err instanceof OtterScriptError) {
      return { status: 200, body: { error: { message: err.message, line: err.line, column: err.column, excerpt: err.excerpt, phase } } };
    }
    if (err instanceof ConditionConfigError) {
      return { status: 200, body: { error: { message: err.message, property: err.property, phase: 'compile' } } };
    }
    return bad(`preview failed: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** Adds the preview route to the runtime's admin app, once per app. */
export function registerPreviewRoute(RED: RED): void {
  const app = RED?.httpAdmin;
  if (!app || typeof app.post !== 'function' || registered.has(app)) return;
  registered.add(app);
  const permission =
    RED.auth && typeof RED.auth.needsPermission === 'function'
      ? RED.auth.needsPermission(PREVIEW_PERMISSION)
      : (_req: unknown, _res: unknown, next: () => void) => next();
  app.post(PREVIEW_PATH, permission, (req, res) => {
    let answer: PreviewAnswer;
    try {
      answer = preview(req.body as PreviewBody | undefined);
    } catch (err) {
      answer = { status: 400, body: { error: { message: `preview failed: ${(err as Error)?.message ?? String(err)}` } } };
    }
    res.status(answer.status).json(answer.body);
  });
}
