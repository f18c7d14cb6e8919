/**
 * The settings of a notifier-digest node, checked once at deploy: each bad value is a ConfigError naming the
 * property and what it accepts.
 */
import { ConfigError, numberProperty, textProperty } from '../delivery/config';
import { compileTemplate, OtterScriptError } from '../otterscript';
import type { CompiledTemplate } from '../otterscript';

export const DEFAULT_GROUP_BY = '$FeedName/$WebhookEvent';
export const DEFAULT_WAIT_S = 30;
export const DEFAULT_THRESHOLD = 3;
export const DEFAULT_INTERVAL_S = 300;
export const DEFAULT_MAX_EVENTS = 1000;
/** The longest wait or interval: one week. */
export const MAX_TIME_S = 7 * 24 * 3600;
/** Most events listed in one digest (the rest are counted): the cap for one list in an event. */
export const MAX_LISTED_EVENTS = 10_000;

export interface DigestConfig {
  /** the group key template (its source and the compiled template) */
  groupBy: string;
  groupKey: CompiledTemplate;
  waitMs: number;
  threshold: number;
  intervalMs: number;
  maxEvents: number;
}

/** Reads and checks the node's properties (`groupBy`, `wait`, `threshold`, `interval`, `maxEvents`). */
export function parseDigestConfig(config: Record<string, unknown>): DigestConfig {
  const source = textProperty(config, 'groupBy').trim() || DEFAULT_GROUP_BY;
  let groupKey: CompiledTemplate;
  try {
    groupKey = compileTemplate(source);
  } catch (err) {
    const detail = err instanceof OtterScriptError ? `${err.message}\n${err.excerpt}` : (err as Error).message;
    throw new ConfigError('groupBy', `groupBy: ${detail}`);
  }
  const wait = numberProperty(config, 'wait', { min: 0, max: MAX_TIME_S, default: DEFAULT_WAIT_S, fraction: true, unit: 'seconds' });
  const threshold = numberProperty(config, 'threshold', { min: 1, max: MAX_LISTED_EVENTS, default: DEFAULT_THRESHOLD });
  const interval = numberProperty(config, 'interval', { min: 0, max: MAX_TIME_S, default: DEFAULT_INTERVAL_S, fraction: true, unit: 'seconds' });
  const maxEvents = numberProperty(config, 'maxEvents', { min: 1, max: MAX_LISTED_EVENTS, default: DEFAULT_MAX_EVENTS });
  return {
    groupBy: source,
    groupKey,
    waitMs: Math.round(wait * 1000),
    threshold,
    intervalMs: Math.round(interval * 1000),
    maxEvents,
  };
}
