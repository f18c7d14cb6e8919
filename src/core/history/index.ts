export {
  HistoryStore,
  HistoryStoreError,
  acquireHistoryStore,
  releaseHistoryStore,
  historyStoreRefs,
  JOURNAL_FILE,
  DEFAULT_LIMIT,
  MAX_LIMIT,
  DEFAULT_MAX_EVENT_BYTES,
} from './store';
export { redactRecord, redactHeaders, redactUrl, REDACTED } from './redact';
export { validateDispatch, eventToKeep, HistoryInputError } from './validate';
export type { HistoryEntry, NotifierSummary, RecordPage, KeepOptions, HistoryStoreOptions, StoreStats } from './types';
