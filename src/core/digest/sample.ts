/**
 * The sample digest the editor's preview renders (`eventType: "digest"`): made by buildDigestEvent, as a
 * notifier-digest node with the default `groupBy` makes it, of SAMPLE_DIGEST_EVENTS `package.promoted` sample events
 * of one feed (each its own package), listing SAMPLE_DIGEST_MAX_EVENTS of them so that `$OmittedCount` shows. Its
 * ids and times are fixed: a preview (and a test of it) renders the same text every time.
 */
import { sampleEvent } from '../events';
import type { NotifierEvent } from '../events';
import { DEFAULT_GROUP_BY } from './config';
import { buildDigestEvent, countEvent, digestGroupKey, emptySummary } from './event';
import { compileTemplate } from '../otterscript';

export const SAMPLE_DIGEST_EVENTS = 12;
export const SAMPLE_DIGEST_MAX_EVENTS = 10;
/** When the first sample event occurred; one more every 5 seconds, the digest 30 seconds after the last. */
export const SAMPLE_DIGEST_START = '2026-01-15T09:30:00.000Z';

const PACKAGES = ['CoolUtils', 'Logging', 'Http', 'Json', 'Cli', 'Data', 'Auth', 'Cache', 'Metrics', 'Queue', 'Storage', 'Testing'];

let cached: NotifierEvent | undefined;

/** The events the sample digest is made of (new copies). */
export function sampleDigestSources(): NotifierEvent[] {
  const start = Date.parse(SAMPLE_DIGEST_START);
  return Array.from({ length: SAMPLE_DIGEST_EVENTS }, (_, i) =>
    sampleEvent('package.promoted', {
      id: `sample-promoted-${i + 1}`,
      occurredAt: new Date(start + i * 5000),
      vars: { PackageId: `MyCorp.${PACKAGES[i % PACKAGES.length]}`, PackageVersion: `3.${i}.0` },
    }),
  );
}

/** The sample digest event (normalized and frozen; the same object every call). */
export function sampleDigestEvent(): NotifierEvent {
  if (cached) return cached;
  const events = sampleDigestSources();
  const summary = emptySummary();
  for (const e of events) countEvent(summary, e);
  const key = digestGroupKey(compileTemplate(DEFAULT_GROUP_BY), events[0]!);
  cached = buildDigestEvent(key, events, summary, {
    maxEvents: SAMPLE_DIGEST_MAX_EVENTS,
    now: new Date(Date.parse(summary.last) + 30_000),
    id: 'sample-digest',
  });
  return cached;
}
