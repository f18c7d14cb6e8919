export * from './types';
export { EVENT_TYPES, EVENT_CODES, eventTypeInfo, isEventCode, resolveEventName } from './catalog';
export { normalizeEvent, getVar, EventValidationError } from './normalize';
export type { EventIssue, NormalizeOptions } from './normalize';
export { sampleEvent } from './samples';
export { severityOfScore, SEVERITY_ORDER, MAX_VALUE_DEPTH } from './schemas';
export type { Severity } from './schemas';
