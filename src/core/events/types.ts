/** OtterScript runtime value: a string scalar, a list, or a map of strings. */
export type Value = string | Value[] | { [key: string]: Value };
export type Vars = Record<string, Value>;

/** `other`: an event of another system (GitHub, Harbor…) with no ProGet equivalent, passed on as `<source>.<event>`. */
export type EventCategory = 'package' | 'sca' | 'other';
/** How the event reached the node: an HTTP request, an input message, or the editor's test button. */
export type EventVia = 'http' | 'input' | 'test';
/** Systems other than ProGet whose webhooks the event node maps (src/core/events/sources). */
export type SourceSystem = 'github' | 'dependency-track' | 'nexus' | 'artifactory' | 'harbor';
/**
 * `msg.event.source`: the system the event came from when it is one of the mapped sources, else how it
 * arrived (`http`, `input`, `test`: ProGet's and native events, as before sources existed).
 */
export type EventSource = EventVia | SourceSystem;

/** An event of another system with no ProGet equivalent: `<source>.<event>`, e.g. `github.ping`. */
export type SourceEventCode = `${SourceSystem}.${string}`;

export type EventCode = KnownEventCode | SourceEventCode;

/** The ten event types of ProGet. */
export type KnownEventCode =
  | 'package.added'
  | 'package.overwritten'
  | 'package.promoted'
  | 'package.deployed'
  | 'package.deleted'
  | 'package.purged'
  | 'package.status-changed'
  | 'sca.noncompliant-package'
  | 'sca.new-vulnerability'
  | 'sca.build-issues-opened';

/** The normalized event every node of this package reads from `msg.event`. */
export interface NotifierEvent {
  id: string;
  type: EventCode;
  label: string;
  category: EventCategory;
  occurredAt: string;
  feed?: string;
  source: EventSource;
  /** How the event reached the node (the same as `source` for ProGet's and native events). */
  via: EventVia;
  vars: Vars;
}

export interface EventTypeInfo {
  code: EventCode;
  /** ProGet's UI label, e.g. "Package Promoted". */
  label: string;
  /** ProGet's `$PackageEvent` value for package events ("Promoted", "Status Changed"); the label otherwise. */
  shortLabel: string;
  category: EventCategory;
  /** `yes`: always has a feed; `optional`: when the sender names one; `no`: never. */
  feedBound: 'yes' | 'optional' | 'no';
  /** ProGet's legacy (<= 2023) lowercase event name, when there was one. */
  legacyName?: string;
  /** Variables the event always carries after normalization. */
  variables: readonly string[];
}
