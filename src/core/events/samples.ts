import { eventTypeInfo } from './catalog';
import { EventValidationError, normalizeEvent } from './normalize';
import type { EventCode, NotifierEvent, Vars } from './types';

/** Example values from ProGet's documentation (the seed's "Example Output" columns). */
function sampleVars(code: EventCode): Vars {
  const info = eventTypeInfo(code)!;
  switch (info.category === 'package' ? 'package' : code) {
    case 'package':
      return {
        PackageId: 'MyCorp.CoolUtils',
        PackageVersion: '3.2.0-pre.1',
        UserName: 'API',
        FeedName: 'internal-utils',
        WebBaseUrl: 'https://proget.example.com',
      };
    case 'sca.noncompliant-package':
      return {
        PackageId: 'MyCorp.CoolUtils',
        PackageVersion: '3.2.0-pre.1',
        PackageComplianceResult: 'Noncompliant',
        PackageComplianceDetails: 'Vulnerability (PGV-2358804); Package is Unlisted',
        FeedName: 'internal-utils',
        WebBaseUrl: 'https://proget.example.com',
      };
    case 'sca.new-vulnerability':
      return {
        AffectedPackages: [{ Name: 'nuget:Newtonsoft.Json', AffectedVersions: '< 13.0.1.' }],
        VulnerabilityId: 'PGV-2245804',
        VulnerabilitySummary: 'Improper Handling of Exceptional Conditions in Newtonsoft.Json',
        VulnerabilitySeverity: 'High',
        VulnerabilityScore: '7.5',
        WebBaseUrl: 'https://proget.example.com',
      };
    default:
      return {
        BuildIssues: [
          { Sequence: '1', Detail: 'Noncompliant package (PGV-892418)' },
          { Sequence: '4', Detail: 'Noncompliant package (MIT License)' },
        ],
        BuildNumber: '25.4.2',
        BuildReleaseNumber: 'v25-Q4',
        BuildProjectName: 'XAPUtil.Web',
        BuildId: '1042',
        WebBaseUrl: 'https://proget.example.com',
      };
  }
}

/** What a sample event may be given instead of the defaults: its id, its time, and values in place of the examples. */
export interface SampleOptions {
  id?: string;
  occurredAt?: Date;
  vars?: Vars;
}

/**
 * An event of the given type filled with the seed's example values (source `test`): a plain copy the
 * caller may change (unlike the frozen events normalizeEvent returns, so nodes check it again). `options` fix
 * its id and time (a new id and the current time otherwise) and replace example values.
 */
export function sampleEvent(code: string, options: SampleOptions = {}): NotifierEvent {
  if (!eventTypeInfo(code)) {
    throw new EventValidationError([{ path: 'type', message: `unknown event type "${code}"` }]);
  }
  const at = options.occurredAt;
  return structuredClone(
    normalizeEvent(
      { ...sampleVars(code as EventCode), ...options.vars },
      { eventType: code, source: 'test', ...(options.id ? { id: options.id } : {}), ...(at ? { now: () => at } : {}) },
    ),
  );
}
