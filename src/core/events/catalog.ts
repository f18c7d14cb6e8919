import type { EventCode, EventTypeInfo, KnownEventCode, SourceEventCode, SourceSystem } from './types';

const PACKAGE_VARS = [
  'PackageId',
  'PackageName',
  'PackageVersion',
  'PackageEvent',
  'WebhookEvent',
  'UserName',
  'FeedName',
  'EventName',
  'WebBaseUrl',
] as const;

function pkg(code: EventCode, shortLabel: string, legacyName?: string): EventTypeInfo {
  return {
    code,
    label: `Package ${shortLabel}`,
    shortLabel,
    category: 'package',
    feedBound: 'yes',
    ...(legacyName ? { legacyName } : {}),
    variables: PACKAGE_VARS,
  };
}

/** The ten event types, in ProGet's order. */
export const EVENT_TYPES: readonly EventTypeInfo[] = Object.freeze([
  pkg('package.added', 'Added', 'added'),
  pkg('package.overwritten', 'Overwritten'),
  pkg('package.promoted', 'Promoted', 'promoted'),
  pkg('package.deployed', 'Deployed', 'deployed'),
  pkg('package.deleted', 'Deleted', 'deleted'),
  pkg('package.purged', 'Purged', 'purged'),
  pkg('package.status-changed', 'Status Changed'),
  {
    code: 'sca.noncompliant-package',
    label: 'Noncompliant Package Discovered',
    shortLabel: 'Noncompliant Package Discovered',
    category: 'sca',
    feedBound: 'yes',
    variables: [
      'PackageId',
      'PackageName',
      'PackageVersion',
      'PackageComplianceResult',
      'PackageComplianceDetails',
      'FeedName',
      'EventName',
      'WebBaseUrl',
    ],
  },
  {
    code: 'sca.new-vulnerability',
    label: 'New Vulnerability Detected',
    shortLabel: 'New Vulnerability Detected',
    category: 'sca',
    feedBound: 'optional',
    variables: [
      'AffectedPackages',
      'VulnerabilityId',
      'VulnerabilitySummary',
      'VulnerabilitySeverity',
      'VulnerabilityScore',
      'PackageId',
      'PackageVersion',
      'EventName',
      'WebBaseUrl',
    ],
  },
  {
    code: 'sca.build-issues-opened',
    label: 'Issues Opened on Build',
    shortLabel: 'Issues Opened on Build',
    category: 'sca',
    feedBound: 'no',
    variables: [
      'BuildIssues',
      'BuildNumber',
      'BuildReleaseNumber',
      'ReleaseNumber',
      'BuildProjectName',
      'ProjectName',
      'BuildId',
      'EventName',
      'WebBaseUrl',
    ],
  },
] satisfies EventTypeInfo[]);

export const EVENT_CODES: readonly KnownEventCode[] = EVENT_TYPES.map((t) => t.code as KnownEventCode);

const BY_CODE = new Map<string, EventTypeInfo>(EVENT_TYPES.map((t) => [t.code, t]));

/** The systems besides ProGet whose webhooks the event node maps, with the name a reader knows them by. */
export const SOURCE_SYSTEMS: readonly SourceSystem[] = Object.freeze(['github', 'dependency-track', 'nexus', 'artifactory', 'harbor'] as const);
export const SOURCE_LABELS: Readonly<Record<SourceSystem, string>> = Object.freeze({
  github: 'GitHub',
  'dependency-track': 'Dependency-Track',
  nexus: 'Nexus Repository',
  artifactory: 'Artifactory',
  harbor: 'Harbor',
});

/** `<source>.<event>`: lowercase letters, digits and `_ . -` after the source name, at most 100 characters. */
const SOURCE_CODE = /^(github|dependency-track|nexus|artifactory|harbor)\.[a-z0-9][a-z0-9_.-]{0,99}$/;

/** Whether a code names an event of another system that has no ProGet equivalent (`github.ping`). */
export function isSourceEventCode(code: unknown): code is SourceEventCode {
  return typeof code === 'string' && SOURCE_CODE.test(code);
}

/** Variables every event mapped from another system has (src/core/events/sources). */
export const SOURCE_VARS = ['SourceName', 'SourceEvent', 'Summary', 'Url'] as const;

const OTHER_VARS = [...SOURCE_VARS, 'PackageId', 'PackageVersion', 'FeedName', 'UserName', 'EventName', 'WebBaseUrl'] as const;

function sourceEventInfo(code: SourceEventCode): EventTypeInfo {
  const dot = code.indexOf('.');
  const label = `${SOURCE_LABELS[code.slice(0, dot) as SourceSystem]} ${code.slice(dot + 1)}`;
  return { code, label, shortLabel: label, category: 'other', feedBound: 'optional', variables: OTHER_VARS };
}

/** What is known of an event type: one of ProGet's ten, or `<source>.<event>` of another system. */
export function eventTypeInfo(code: string): EventTypeInfo | undefined {
  return BY_CODE.get(code) ?? (isSourceEventCode(code) ? sourceEventInfo(code) : undefined);
}

/** Whether a code is one of ProGet's ten event types. */
export function isEventCode(code: unknown): code is KnownEventCode {
  return typeof code === 'string' && BY_CODE.has(code);
}

function squash(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Every accepted spelling of an event name, squashed (lowercase, letters and digits only). */
const NAME_INDEX = new Map<string, KnownEventCode>();
for (const t of EVENT_TYPES) {
  for (const name of [t.code, t.label, t.shortLabel, t.legacyName]) {
    if (name) NAME_INDEX.set(squash(name), t.code as KnownEventCode);
  }
}
// Other spellings seen in Inedo's material: the seed's heading, and the PKG* codes of an older
// revision of the third-party OtterScript VS Code extension.
const EXTRA_NAMES: Record<string, KnownEventCode> = {
  'Noncompliant Package Detected': 'sca.noncompliant-package',
  'Noncompliant Package': 'sca.noncompliant-package',
  noncompliant: 'sca.noncompliant-package',
  'New Vulnerability': 'sca.new-vulnerability',
  vulnerability: 'sca.new-vulnerability',
  'Build Issues Opened': 'sca.build-issues-opened',
  statuschanged: 'package.status-changed',
  PKGADD: 'package.added',
  PKGMDF: 'package.overwritten',
  PKGPMT: 'package.promoted',
  PKGDPL: 'package.deployed',
  PKGDEL: 'package.deleted',
  PKGPGD: 'package.purged',
  PKGSTA: 'package.status-changed',
};
for (const [name, code] of Object.entries(EXTRA_NAMES)) NAME_INDEX.set(squash(name), code);

/**
 * Resolves an event name as a sender may write it: the code (`package.promoted`), the label
 * (`Package Promoted`, `Promoted`, `Status Changed`) or ProGet's legacy lowercase form (`added`).
 */
export function resolveEventName(name: string): EventCode | undefined {
  if (typeof name !== 'string') return undefined;
  return NAME_INDEX.get(squash(name)) ?? (isSourceEventCode(name) ? name : undefined);
}
