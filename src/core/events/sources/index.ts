/**
 * Events of other systems (GitHub, Dependency-Track, Nexus, Artifactory, Harbor) as events of this package:
 * each source's mapper turns its webhook body into ProGet's event types where the meaning is the same, or
 * `<source>.<event>` otherwise, with the source's own fields as extra variables. `auto` recognizes the source
 * by the body's shape and the sender's headers; ProGet's bodies (and everything normalizeEvent accepts) keep
 * working as before.
 */
import { SOURCE_SYSTEMS } from '../catalog';
import { EventLimitError, EventValidationError, normalizeEvent } from '../normalize';
import type { EventIssue } from '../normalize';
import type { EventVia, NotifierEvent, SourceSystem } from '../types';
import { artifactory } from './artifactory';
import { dependencyTrack } from './dependency-track';
import { github } from './github';
import { harbor } from './harbor';
import { nexus } from './nexus';
import { isRecord } from './common';
import type { SourceMapper, SourceRequest } from './common';

export type { SourceMapper, SourceRequest, MappedEvent } from './common';

/** The `source` property of notifier-event. */
export type SourceSetting = 'auto' | 'proget' | SourceSystem;
/** Every source the event node knows, ProGet first. */
export const KNOWN_SOURCES: readonly Exclude<SourceSetting, 'auto'>[] = Object.freeze(['proget', ...SOURCE_SYSTEMS]);
export const SOURCE_SETTINGS: readonly SourceSetting[] = Object.freeze(['auto', ...KNOWN_SOURCES]);

export const MAPPERS: Readonly<Record<SourceSystem, SourceMapper>> = Object.freeze({
  github,
  'dependency-track': dependencyTrack,
  nexus,
  artifactory,
  harbor,
});

export function isSourceSetting(v: unknown): v is SourceSetting {
  return typeof v === 'string' && (SOURCE_SETTINGS as readonly string[]).includes(v);
}

/** Thrown for a body no known source recognizes: its details say so, and `sources` lists the known ones. */
export class UnknownSourceError extends EventValidationError {
  readonly sources: readonly string[] = KNOWN_SOURCES;
  constructor(issues: EventIssue[]) {
    super(issues);
    this.name = 'UnknownSourceError';
  }
}

/** Which source a body is, by its shape (fields only that source sends); undefined when none. */
export function sourceOfShape(body: unknown): SourceSystem | undefined {
  if (!isRecord(body)) return undefined;
  return SOURCE_SYSTEMS.find((s) => MAPPERS[s].matchesShape(body));
}

/** Which source sent a request, by a header only it sends (X-GitHub-Event, X-Nexus-Webhook-Id, X-JFrog-Event-Auth). */
export function sourceOfHeaders(headers: SourceRequest['headers']): SourceSystem | undefined {
  return SOURCE_SYSTEMS.find((s) => MAPPERS[s].matchesHeaders(headers));
}

export interface EventFromBodyOptions {
  /** the node's `source`; default `auto` */
  source?: SourceSetting;
  headers?: SourceRequest['headers'];
  /** an explicit ProGet event type (?event=, msg.eventType); for ProGet's bodies only */
  eventType?: string;
  /** the sender's delivery id (a header); wins over an id in the body */
  id?: string;
  via?: EventVia;
  now?: () => Date;
}

/**
 * One delivery's body as a normalized event: mapped from its source (named, or recognized when `auto`),
 * or read as ProGet's. Throws EventValidationError (UnknownSourceError when `auto` recognizes nothing).
 */
export function eventFromBody(body: unknown, options: EventFromBodyOptions = {}): NotifierEvent {
  const setting = options.source ?? 'auto';
  const headers = options.headers ?? {};
  const via = options.via ?? 'input';
  const common = { via, ...(options.id ? { id: options.id } : {}), ...(options.now ? { now: options.now } : {}) };
  const proget = () => normalizeEvent(body, { ...common, source: via, ...(options.eventType ? { eventType: options.eventType } : {}) });
  const mapped = (system: SourceSystem) => {
    const m = MAPPERS[system].map({ headers, body });
    return normalizeEvent(
      { type: m.type, vars: m.vars, ...(m.id ? { id: m.id } : {}), ...(m.occurredAt ? { occurredAt: m.occurredAt } : {}) },
      { ...common, source: system },
    );
  };
  if (setting === 'proget') return proget();
  if (setting !== 'auto') return mapped(setting);
  const byShape = sourceOfShape(body);
  if (byShape) return mapped(byShape);
  try {
    return proget();
  } catch (err) {
    if (!(err instanceof EventValidationError) || err instanceof EventLimitError) throw err;
    const byHeader = sourceOfHeaders(headers);
    if (byHeader) return mapped(byHeader);
    throw new UnknownSourceError([
      ...err.issues,
      {
        path: '',
        message: `not an event of any known source (${KNOWN_SOURCES.join(', ')}): set the node's source to name the sender, or send one of ProGet's bodies`,
      },
    ]);
  }
}
