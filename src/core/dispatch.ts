import type { EventCode, NotifierEvent } from './events';
import { getVar } from './events';

export type Channel = 'webhook' | 'slack' | 'teams' | 'email';

/** What an output node records for every dispatch, delivered or failed (`msg.dispatch`). Secrets redacted. */
export interface DispatchRecord {
  id: string;
  /** the output node's name, or its id when unnamed */
  notifier: string;
  notifierId: string;
  channel: Channel;
  eventId: string;
  eventType: EventCode;
  feed?: string;
  /** one line saying what the event was, e.g. "MyCorp.CoolUtils 3.2.0-pre.1 Promoted to internal-utils" */
  summary: string;
  outcome: 'delivered' | 'failed';
  attempts: number;
  startedAt: string;
  durationMs: number;
  /** what was sent: method, URL, headers, body (cut at 64 KiB); for email: from, to, cc, bcc, subject, body */
  request: DispatchRequest;
  /** what came back last: status, headers, body (cut at 4 KiB) */
  response?: DispatchResponse;
  error?: DispatchError;
  /** every attempt with its result and the delay before the next one */
  attemptLog?: AttemptLogEntry[];
  /** set when this dispatch re-sent a stored record (the history's Redeliver) */
  redeliveryOf?: string;
}

export interface DispatchRequest {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: string;
  [key: string]: unknown;
}

export interface DispatchResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  [key: string]: unknown;
}

export interface DispatchError {
  /** e.g. `http_429`, `timeout`, `ECONNREFUSED`, `queue_full`, `shutdown`, `template`, `slack_invalid_payload`, `smtp_550` */
  code: string;
  message: string;
  permanent: boolean;
}

export interface AttemptLogEntry {
  attempt: number;
  startedAt: string;
  durationMs: number;
  status?: number;
  error?: string;
  /** delay waited before the next attempt, when there was one */
  delayMs?: number;
}

function str(event: NotifierEvent, name: string): string {
  const v = getVar(event.vars, name);
  return typeof v === 'string' ? v : '';
}

/** A one-line description of an event for statuses, records and the history sidebar. */
export function summarizeEvent(event: NotifierEvent): string {
  if (event.category === 'other') return `${str(event, 'SourceName')}: ${str(event, 'Summary')}`;
  switch (event.category === 'package' ? 'package' : event.type) {
    case 'package': {
      const who = str(event, 'UserName');
      return `${str(event, 'PackageId')} ${str(event, 'PackageVersion')} ${str(event, 'PackageEvent')} on ${event.feed ?? ''}${who ? ` by ${who}` : ''}`;
    }
    case 'sca.noncompliant-package':
      return `${str(event, 'PackageId')} ${str(event, 'PackageVersion')} is ${str(event, 'PackageComplianceResult')} on ${event.feed ?? ''}`;
    case 'sca.new-vulnerability': {
      const score = str(event, 'VulnerabilityScore');
      const sev = str(event, 'VulnerabilitySeverity');
      return `${str(event, 'VulnerabilityId')}${sev ? ` ${sev}` : ''}${score ? ` (${score})` : ''} in ${str(event, 'PackageId')}`;
    }
    default:
      return `Issues opened on ${str(event, 'BuildProjectName')} ${str(event, 'BuildNumber')}`;
  }
}
