import { z } from 'zod';
import type { Value } from './types';

/** Deepest nesting of lists and maps accepted in event variables. */
export const MAX_VALUE_DEPTH = 16;
/** Most variables one event may have. */
export const MAX_VARIABLES = 1000;
/** Most items of one list, or keys of one map, in an event's values. */
export const MAX_LIST_ITEMS = 10_000;
/** Most values (variables, list items and map keys together) in one event. */
export const MAX_TOTAL_VALUES = 20_000;
/** Longest text value, in characters. */
export const MAX_STRING_LENGTH = 64 * 1024;

/**
 * One OtterScript value. ProGet's variables are all strings, so numbers and booleans sent by
 * other systems become their text (7.5 -> "7.5"); null, objects inside lists of the wrong shape
 * and anything else are refused with the path that is wrong.
 */
export const valueSchema: z.ZodType<Value> = z.lazy(() =>
  z.union([
    z.string(),
    z
      .number()
      .finite()
      .transform((n) => String(n)),
    z.boolean().transform((b) => (b ? 'true' : 'false')),
    z.array(valueSchema),
    z.record(z.string(), valueSchema),
  ]),
);

const scalar = z.union([
  z.string(),
  z
    .number()
    .finite()
    .transform((n) => String(n)),
  z.boolean().transform((b) => (b ? 'true' : 'false')),
]);
const requiredText = (what: string) => scalar.refine((s) => s.trim().length > 0, { message: `${what} must not be empty` });

const SEVERITIES = ['None', 'Low', 'Medium', 'High', 'Critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const SEVERITY_ORDER: readonly Severity[] = SEVERITIES;

const severity = scalar.transform((s, ctx) => {
  if (s === '') return s;
  const hit = SEVERITIES.find((v) => v.toLowerCase() === s.trim().toLowerCase());
  if (!hit) {
    ctx.addIssue({ code: 'custom', message: `must be one of ${SEVERITIES.join(', ')} (got "${s}")` });
    return z.NEVER;
  }
  return hit;
});

const score = scalar.refine((s) => s === '' || (/^\d{1,2}(\.\d+)?$/.test(s.trim()) && Number(s) <= 10), {
  message: 'must be a CVSS score from 0 to 10, such as "7.5"',
});

const affectedPackage = z.object({ Name: requiredText('Name'), AffectedVersions: scalar.default('') }).catchall(valueSchema);
const buildIssue = z.object({ Sequence: requiredText('Sequence'), Detail: scalar.default('') }).catchall(valueSchema);

const common = {
  EventName: scalar.optional(),
  WebBaseUrl: scalar.default(''),
};

const packageVars = z
  .object({
    ...common,
    PackageId: requiredText('PackageId'),
    PackageName: scalar.optional(),
    PackageVersion: requiredText('PackageVersion'),
    FeedName: requiredText('FeedName'),
    UserName: scalar.default(''),
    PackageEvent: scalar.optional(),
    WebhookEvent: scalar.optional(),
  })
  .catchall(valueSchema);

/**
 * Package events mapped from another system (src/core/events/sources): the same variables, but a version may
 * be empty (a generic file in Artifactory, a Docker digest without a tag has none).
 */
const mappedPackageVars = packageVars.extend({ PackageVersion: scalar.default('') });

const noncompliantVars = z
  .object({
    ...common,
    PackageId: requiredText('PackageId'),
    PackageName: scalar.optional(),
    PackageVersion: requiredText('PackageVersion'),
    FeedName: requiredText('FeedName'),
    PackageComplianceResult: scalar.default('Noncompliant'),
    PackageComplianceDetails: scalar.default(''),
  })
  .catchall(valueSchema);

const vulnerabilityVars = z
  .object({
    ...common,
    VulnerabilityId: requiredText('VulnerabilityId'),
    AffectedPackages: z.array(affectedPackage),
    VulnerabilitySummary: scalar.default(''),
    VulnerabilitySeverity: severity.default(''),
    VulnerabilityScore: score.default(''),
    FeedName: requiredText('FeedName').optional(),
    PackageId: scalar.optional(),
    PackageVersion: scalar.optional(),
  })
  .catchall(valueSchema);

const buildIssuesVars = z
  .object({
    ...common,
    BuildNumber: requiredText('BuildNumber'),
    BuildProjectName: requiredText('BuildProjectName'),
    BuildReleaseNumber: scalar.default(''),
    BuildIssues: z.array(buildIssue),
    BuildId: scalar.default(''),
  })
  .catchall(valueSchema);

/**
 * Events of other systems with no ProGet equivalent (`<source>.<event>`): any variables; when they carry a
 * severity or score, those are checked as for a vulnerability (so the severity and score conditions work).
 */
const otherVars = z
  .object({
    ...common,
    SourceName: scalar.default(''),
    SourceEvent: scalar.default(''),
    Summary: scalar.default(''),
    Url: scalar.default(''),
    PackageId: scalar.default(''),
    PackageVersion: scalar.default(''),
    FeedName: scalar.default(''),
    UserName: scalar.default(''),
    VulnerabilitySeverity: severity.optional(),
    VulnerabilityScore: score.optional(),
  })
  .catchall(valueSchema);

export const VARS_SCHEMAS = {
  package: packageVars,
  'mapped-package': mappedPackageVars,
  other: otherVars,
  'sca.noncompliant-package': noncompliantVars,
  'sca.new-vulnerability': vulnerabilityVars,
  'sca.build-issues-opened': buildIssuesVars,
} as const;

/** The normalized event as a zod schema (its `vars` are checked per type by `normalizeEvent`). */
export const notifierEventSchema = z.object({
  id: z.string().min(1).max(200),
  type: z.string(),
  label: z.string().optional(),
  category: z.enum(['package', 'sca']).optional(),
  occurredAt: z.string().optional(),
  feed: z.string().optional(),
  source: z.enum(['http', 'input', 'test', 'github', 'dependency-track', 'nexus', 'artifactory', 'harbor']).optional(),
  via: z.enum(['http', 'input', 'test']).optional(),
  vars: z.record(z.string(), z.unknown()),
});

/** CVSS v3 qualitative rating of a score (FIRST's table). */
export function severityOfScore(s: string): Severity | '' {
  if (s === '') return '';
  const n = Number(s);
  if (!Number.isFinite(n)) return '';
  if (n === 0) return 'None';
  if (n < 4) return 'Low';
  if (n < 7) return 'Medium';
  if (n < 9) return 'High';
  return 'Critical';
}
