export * from './types';
export {
  EVENT_TYPES,
  EVENT_CODES,
  DIGEST_TYPE,
  SOURCE_SYSTEMS,
  SOURCE_LABELS,
  eventTypeInfo,
  isEventCode,
  isSourceEventCode,
  resolveEventName,
} from './catalog';
export { normalizeEvent, getVar, EventValidationError, EventLimitError, isValidatedEvent, isVia, RESERVED_KEYS } from './normalize';
export type { EventIssue, NormalizeOptions } from './normalize';
export { sampleEvent } from './samples';
export type { SampleOptions } from './samples';
export { severityOfScore, SEVERITY_ORDER, MAX_VALUE_DEPTH, MAX_VARIABLES, MAX_LIST_ITEMS, MAX_TOTAL_VALUES, MAX_STRING_LENGTH } from './schemas';
export type { Severity } from './schemas';
