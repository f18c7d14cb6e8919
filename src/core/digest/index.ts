/** The notifier-digest node's logic: settings, grouping and timing (engine.ts), and the digest event (event.ts). */
export {
  parseDigestConfig,
  DEFAULT_GROUP_BY,
  DEFAULT_WAIT_S,
  DEFAULT_THRESHOLD,
  DEFAULT_INTERVAL_S,
  DEFAULT_MAX_EVENTS,
  MAX_LISTED_EVENTS,
} from './config';
export type { DigestConfig } from './config';
export { DigestEngine, RETRY_DELAY_MS } from './engine';
export type { DigestSink, DigestStats, FlushOutput } from './engine';
export { buildDigestEvent, countEvent, digestItem, emptySummary, eventUrl, shortenDigest } from './event';
export type { DigestSummary } from './event';
export { DigestRunner, INBOX_POLL_MS } from './runner';
export type { RunnerSink, RunnerStats } from './runner';
export { digestGroupKey } from './event';
export { sampleDigestEvent, sampleDigestSources, SAMPLE_DIGEST_EVENTS, SAMPLE_DIGEST_MAX_EVENTS, SAMPLE_DIGEST_START } from './sample';
