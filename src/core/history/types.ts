import type { DispatchRecord } from '../dispatch';
import type { NotifierEvent } from '../events';

/** A dispatch record as the history keeps it: redacted again, with when it was kept and the event it dispatched. */
export interface HistoryEntry extends DispatchRecord {
  /** when the history stored it (ISO 8601) */
  keptAt: string;
  /** the event that was dispatched (kept for redelivery); absent when the message carried none or it was too large */
  event?: NotifierEvent;
  /**
   * A digest larger than the history keeps: `event` lists its first `listed` events of the `was` it listed (the rest
   * are counted in its `$OmittedCount`; `$EventCount` is unchanged). A redelivery sends it so.
   */
  eventShortened?: { listed: number; was: number };
}

/** One notifier (= one output node) as the history lists it. */
export interface NotifierSummary {
  notifierId: string;
  /** the output node's name (its id when unnamed), from its latest record */
  notifier: string;
  /** a `Channel` of ../dispatch (email, webhook, slack, teams); any other name a stored record carries is kept as it is */
  channel: string;
  /** records kept for this notifier at most */
  limit: number;
  /** id of the history node that last kept a record for this notifier */
  keptBy?: string;
  /** records kept now (<= limit) */
  kept: number;
  /** of the kept records: delivered / failed */
  delivered: number;
  failed: number;
  /** dispatches recorded since the history was last cleared, including those compacted away */
  total: number;
  lastRun?: string;
  lastOutcome?: 'delivered' | 'failed';
  lastStatus?: number;
  lastError?: string;
  lastRecordId?: string;
}

export interface RecordPage {
  notifierId: string;
  notifier: string;
  channel: string;
  total: number;
  offset: number;
  limit: number;
  /** newest first */
  records: HistoryEntry[];
}

export interface KeepOptions {
  /** records to keep for this notifier from now on (the keeping node's `limit`) */
  limit?: number;
  /** id of the history node that keeps it (so a lower `limit` on that node trims its notifiers) */
  keptBy?: string;
}

export interface HistoryStoreOptions {
  /** records kept per notifier when no keeping node says otherwise (ProGet keeps 50) */
  defaultLimit?: number;
  /** compact once this many lines were appended since the last compaction, or the number of kept records if larger */
  compactAfterLines?: number;
  /** warnings (torn writes skipped, failed compaction); default: none */
  warn?: (message: string) => void;
  /** events larger than this (JSON bytes) are not kept with their record (the record still is); default 256 KiB */
  maxEventBytes?: number;
  /** clock, for tests */
  now?: () => Date;
}

export interface StoreStats {
  notifiers: number;
  /** records held in memory, over all notifiers */
  recordsInMemory: number;
  /** records appended since the store was opened */
  recordsWritten: number;
  /** lines in the journal file now (approximately: appended + compacted) */
  journalLines: number;
  compactions: number;
  /** lines skipped when loading (torn last write, corrupt lines) */
  skippedLines: number;
}
