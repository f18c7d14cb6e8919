/**
 * What every history backend (the file journal, Redis) does the same way: the entry kept for a dispatch record
 * (validated, redacted again, with the event for redelivery when it fits) and how a notifier and a page of its
 * records are described.
 */
import type { DispatchRecord } from '../dispatch';
import { shortenDigest } from '../digest/event';
import type { NotifierEvent } from '../events';
import { redactRecord } from './redact';
import type { HistoryEntry, NotifierSummary, RecordPage } from './types';
import { eventToKeep, validateDispatch } from './validate';

/** The entry kept for `dispatch` (throws HistoryInputError for an invalid record). */
export function prepareEntry(
  dispatch: unknown,
  event: unknown,
  options: { now: () => Date; maxEventBytes: number; warn: (message: string) => void },
): HistoryEntry {
  const record: DispatchRecord = redactRecord(validateDispatch(dispatch, options.now));
  const entry: HistoryEntry = { ...record, keptAt: options.now().toISOString() };
  const ev = eventToKeep(event);
  if (!ev) return entry;
  let json: string | undefined;
  try {
    json = JSON.stringify(ev);
  } catch (err) {
    options.warn(
      `notifier-history: the event of record ${record.id} cannot be stored as JSON (${(err as Error).message}) and was not kept (it cannot be redelivered)`,
    );
  }
  const bytes = json === undefined ? 0 : Buffer.byteLength(json);
  const shortened = bytes > options.maxEventBytes && ev.type === 'digest' ? shortenDigest(ev, options.maxEventBytes) : undefined;
  if (shortened) {
    // a digest of many events: kept with the first ones listed (the rest counted), so that it can be redelivered
    entry.event = JSON.parse(JSON.stringify(shortened.event)) as NotifierEvent;
    entry.eventShortened = { listed: shortened.listed, was: shortened.was };
  } else if (json !== undefined && bytes <= options.maxEventBytes) entry.event = JSON.parse(json) as NotifierEvent;
  else if (json !== undefined)
    options.warn(
      `notifier-history: the event of record ${record.id} is larger than ${options.maxEventBytes} bytes and was not kept (it cannot be redelivered)`,
    );
  return entry;
}

/** A notifier's state as a backend holds it; `records` oldest first. */
export interface NotifierRecords {
  id: string;
  name: string;
  channel: string;
  limit: number;
  keptBy?: string | undefined;
  total: number;
  records: HistoryEntry[];
}

export function summarize(st: NotifierRecords): NotifierSummary {
  let delivered = 0;
  for (const r of st.records) if (r.outcome === 'delivered') delivered++;
  const last = st.records[st.records.length - 1];
  const s: NotifierSummary = {
    notifierId: st.id,
    notifier: st.name,
    channel: st.channel,
    limit: st.limit,
    kept: st.records.length,
    delivered,
    failed: st.records.length - delivered,
    total: st.total,
  };
  if (st.keptBy !== undefined) s.keptBy = st.keptBy;
  if (last) {
    s.lastRun = last.startedAt;
    s.lastOutcome = last.outcome;
    s.lastRecordId = last.id;
    if (typeof last.response?.status === 'number') s.lastStatus = last.response.status;
    if (last.error?.message) s.lastError = last.error.message;
  }
  return s;
}

/** The most recently run first. */
export function sortByLastRun(summaries: NotifierSummary[]): NotifierSummary[] {
  return summaries.sort((a, b) => (b.lastRun ?? '').localeCompare(a.lastRun ?? '') || a.notifier.localeCompare(b.notifier));
}

/** A page of `records` (oldest first), newest first. */
export function pageOf(
  st: Pick<NotifierRecords, 'id' | 'name' | 'channel'>,
  records: HistoryEntry[],
  page: { offset?: number; limit?: number },
): RecordPage {
  const offset = Math.max(0, Math.floor(page.offset ?? 0));
  const limit = Math.max(0, Math.floor(page.limit ?? records.length));
  const newestFirst: HistoryEntry[] = [];
  for (let i = records.length - 1 - offset; i >= 0 && newestFirst.length < limit; i--) newestFirst.push(records[i]!);
  return { notifierId: st.id, notifier: st.name, channel: st.channel, total: records.length, offset, limit, records: newestFirst };
}
