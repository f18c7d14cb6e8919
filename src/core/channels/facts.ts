/**
 * The facts of an event (name/value pairs) and its context line, shared by the Slack and Teams
 * messages: what a reader needs at a glance, per event type.
 */
import type { NotifierEvent, Value } from '../events';
import { getVar } from '../events';

export interface Fact {
  name: string;
  value: string;
}

function text(v: Value | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(text).filter(Boolean).join(', ');
  return Object.values(v).map(text).filter(Boolean).join(' ');
}

function field(event: NotifierEvent, name: string): string {
  return text(getVar(event.vars, name)).trim();
}

function listOf(event: NotifierEvent, name: string): Array<Record<string, Value>> {
  const v = getVar(event.vars, name);
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object' && !Array.isArray(x)) as Array<Record<string, Value>>) : [];
}

function get(item: Record<string, Value>, key: string): string {
  const k = Object.keys(item).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? '' : text(item[k]);
}

/** The facts of an event, in reading order; empty values are left out. */
export function eventFacts(event: NotifierEvent): Fact[] {
  const facts: Fact[] = [];
  const add = (name: string, value: string) => {
    if (value) facts.push({ name, value });
  };
  if (event.category === 'package') {
    add('Package', field(event, 'PackageId'));
    add('Version', field(event, 'PackageVersion'));
    add('Event', field(event, 'PackageEvent'));
    add('Feed', event.feed ?? field(event, 'FeedName'));
    add('User', field(event, 'UserName'));
  } else if (event.type === 'sca.noncompliant-package') {
    add('Package', field(event, 'PackageId'));
    add('Version', field(event, 'PackageVersion'));
    add('Result', field(event, 'PackageComplianceResult'));
    add('Details', field(event, 'PackageComplianceDetails'));
    add('Feed', event.feed ?? field(event, 'FeedName'));
  } else if (event.type === 'sca.new-vulnerability') {
    add('Vulnerability', field(event, 'VulnerabilityId'));
    add('Severity', field(event, 'VulnerabilitySeverity'));
    add('Score', field(event, 'VulnerabilityScore'));
    add('Summary', field(event, 'VulnerabilitySummary'));
    add(
      'Affected packages',
      listOf(event, 'AffectedPackages')
        .map((p) => `${get(p, 'Name')} ${get(p, 'AffectedVersions')}`.trim())
        .join('\n'),
    );
    if (event.feed) add('Feed', event.feed);
  } else if (event.category === 'other') {
    add('Source', field(event, 'SourceName'));
    add('Event', field(event, 'SourceEvent'));
    add('Package', field(event, 'PackageId'));
    add('Version', field(event, 'PackageVersion'));
    add('Severity', field(event, 'VulnerabilitySeverity'));
    add('Score', field(event, 'VulnerabilityScore'));
    if (event.feed) add('Feed', event.feed);
    add('User', field(event, 'UserName'));
  } else {
    add('Project', field(event, 'BuildProjectName'));
    add('Build', field(event, 'BuildNumber'));
    add('Release', field(event, 'BuildReleaseNumber'));
    add(
      'Issues',
      listOf(event, 'BuildIssues')
        .map((i) => `#${get(i, 'Sequence')} ${get(i, 'Detail')}`.trim())
        .join('\n'),
    );
  }
  return facts;
}

/** A plain-text context line: feed, user and time, e.g. "Feed internal-utils · by API · 2026-01-01 12:00 UTC". */
export function eventContext(event: NotifierEvent): string {
  const parts: string[] = [];
  if (event.feed) parts.push(`Feed ${event.feed}`);
  const user = field(event, 'UserName');
  if (user) parts.push(`by ${user}`);
  const d = new Date(event.occurredAt);
  if (!Number.isNaN(d.getTime())) parts.push(d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC');
  return parts.join(' · ');
}
