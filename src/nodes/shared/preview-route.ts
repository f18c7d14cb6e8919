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
// Or { kind: "condition", condition: { feeds, mode, packageName, packageVersion, minScore, minSeverity,
// expression }, eventType }: the condition node's settings as the node runs them (feed filter, then the
// chosen mode), answered `{ result, reason: "feed" | "condition" | "matched", checked }` where `checked`
// names the values of the sample event that were tested. For mode `jsonata` (Node-RED's language, which
// the editor evaluates itself) the answer carries the sample message as `msg` once the feed filter passed.
import { ConditionConfigError, compileCondition, evaluateCondition, packageNamesOf } from '../../core/conditions';
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

type ConditionResult = { result: boolean; reason: 'feed' | 'condition' | 'matched'; checked: string; msg?: unknown };

export type PreviewAnswer =
  | { status: 200; body: { result: string | boolean; truncated?: boolean; usedDefault?: boolean } }
  | { status: 200; body: ConditionResult }
  | { status: 200; body: { error: { message: string; property: string; phase: 'compile' } } }
  | { status: 200; body: { error: { message: string; line: number; column: number; excerpt: string; phase: 'compile' | 'run' } } }
  | { status: 400; body: { error: { message: string } } };

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
  if (kind !== 'template' && kind !== 'predicate') return bad('kind must be "template", "predicate" or "condition"');
  if (typeof source !== 'string') return bad('source must be a string');
  if (source.length > MAX_PREVIEW_SOURCE) return bad(`source is longer than ${MAX_PREVIEW_SOURCE / 1024} KiB`);
  const type = eventType === undefined || eventType === '' ? 'package.promoted' : eventType;
  if (typeof type !== 'string' || !isEventCode(type)) return bad(`eventType must be one of ${EVENT_CODES.join(', ')}`);
  if (defaultTemplate !== undefined && !DEFAULT_FIELDS.includes(defaultTemplate as DefaultField)) {
    return bad(`defaultTemplate must be one of ${DEFAULT_FIELDS.join(', ')}`);
  }
  const vars = sampleEvent(type).vars;
  const useDefault = kind === 'template' && source.trim() === '' && defaultTemplate !== undefined;
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
    let result = template(vars);
    const truncated = result.length > MAX_PREVIEW_RESULT;
    if (truncated) result = result.slice(0, MAX_PREVIEW_RESULT);
    return { status: 200, body: { result, ...(truncated ? { truncated } : {}), ...(useDefault ? { usedDefault: true } : {}) } };
  } catch (err) {
    if (err instanceof OtterScriptError) {
      return { status: 200, body: { error: { message: err.message, line: err.line, column: err.column, excerpt: err.excerpt, phase } } };
    }
    return bad(`preview failed: ${(err as Error)?.message ?? String(err)}`);
  }
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
      return feed;
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
  if (typeof type !== 'string' || !isEventCode(type)) return bad(`eventType must be one of ${EVENT_CODES.join(', ')}`);
  const event = sampleEvent(type);
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
