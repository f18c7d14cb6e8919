/** OtterScript runtime value: a string scalar, a list, or a map of strings. */
export type Value = string | Value[] | { [key: string]: Value };
export type Vars = Record<string, Value>;

/** `digest`: an event the notifier-digest node made of a burst of events (see src/core/digest). */
export type EventCategory = 'package' | 'sca' | 'digest';
export type EventSource = 'http' | 'input' | 'test';

export type EventCode =
  | 'package.added'
  | 'package.overwritten'
  | 'package.promoted'
  | 'package.deployed'
  | 'package.deleted'
  | 'package.purged'
  | 'package.status-changed'
  | 'sca.noncompliant-package'
  | 'sca.new-vulnerability'
  | 'sca.build-issues-opened'
  /** made by the notifier-digest node only, never accepted from a sender */
  | 'digest';

/** The normalized event every node of this package reads from `msg.event`. */
export interface NotifierEvent {
  id: string;
  type: EventCode;
  label: string;
  category: EventCategory;
  occurredAt: string;
  feed?: string;
  source: EventSource;
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
