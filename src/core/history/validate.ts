import type { DispatchRecord } from '../dispatch';
import type { NotifierEvent } from '../events';

/** Thrown for input the history cannot keep (a message whose `msg.dispatch` is not a dispatch record). */
export class HistoryInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistoryInputError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

/**
 * Checks that `value` is a dispatch record (msg.dispatch) the history can keep and returns it typed, with
 * optional fields defaulted. Throws HistoryInputError naming every problem found.
 */
export function validateDispatch(value: unknown, now: () => Date = () => new Date()): DispatchRecord {
  if (!isObject(value)) {
    throw new HistoryInputError(
      `msg.dispatch must be an object (a dispatch record from a notifier output node), got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  const problems: string[] = [];
  if (!nonEmptyString(value.id)) problems.push('msg.dispatch.id must be a non-empty string');
  if (!nonEmptyString(value.notifierId)) problems.push('msg.dispatch.notifierId must be a non-empty string (the output node id)');
  if (value.outcome !== 'delivered' && value.outcome !== 'failed') {
    problems.push(`msg.dispatch.outcome must be "delivered" or "failed", got ${JSON.stringify(value.outcome) ?? 'undefined'}`);
  }
  for (const key of ['attempts', 'durationMs'] as const) {
    if (value[key] !== undefined && (typeof value[key] !== 'number' || !Number.isFinite(value[key]))) {
      problems.push(`msg.dispatch.${key} must be a number`);
    }
  }
  for (const key of ['notifier', 'channel', 'eventId', 'eventType', 'summary', 'startedAt', 'feed', 'redeliveryOf'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string') problems.push(`msg.dispatch.${key} must be a string`);
  }
  for (const key of ['request', 'response', 'error'] as const) {
    if (value[key] !== undefined && value[key] !== null && !isObject(value[key])) problems.push(`msg.dispatch.${key} must be an object`);
  }
  if (value.attemptLog !== undefined && !Array.isArray(value.attemptLog)) problems.push('msg.dispatch.attemptLog must be an array');
  if (problems.length > 0) throw new HistoryInputError(`Invalid msg.dispatch: ${problems.join('; ')}`);
  const notifierId = value.notifierId as string;
  const record: DispatchRecord = {
    ...(value as unknown as DispatchRecord),
    notifier: nonEmptyString(value.notifier) ? value.notifier : notifierId,
    channel: (nonEmptyString(value.channel) ? value.channel : 'webhook') as DispatchRecord['channel'],
    eventId: typeof value.eventId === 'string' ? value.eventId : '',
    eventType: (typeof value.eventType === 'string' ? value.eventType : '') as DispatchRecord['eventType'],
    summary: typeof value.summary === 'string' ? value.summary : '',
    attempts: typeof value.attempts === 'number' ? value.attempts : 0,
    startedAt: nonEmptyString(value.startedAt) ? value.startedAt : now().toISOString(),
    durationMs: typeof value.durationMs === 'number' ? value.durationMs : 0,
    request: isObject(value.request) ? value.request : {},
  };
  if (value.response === null) delete record.response;
  if (value.error === null) delete record.error;
  return record;
}

/** The event to keep with a record, when `value` looks like a normalized event (msg.event); undefined otherwise. */
export function eventToKeep(value: unknown): NotifierEvent | undefined {
  if (!isObject(value)) return undefined;
  if (!nonEmptyString(value.id) || !nonEmptyString(value.type) || !isObject(value.vars)) return undefined;
  return value as unknown as NotifierEvent;
}
