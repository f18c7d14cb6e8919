/**
 * ProGet's default content per event type: the four webhook bodies (seed, "Default Content"), the
 * email subjects and bodies (Inedo's "Customizing Content & Webhooks" page), and our own Slack and
 * Teams defaults (ProGet publishes none).
 */
import { EVENT_TYPES, eventTypeInfo } from '../events/catalog';
import type { EventCode } from '../events/types';

export interface DefaultTemplates {
  /** Custom webhook body (OtterScript, renders to JSON). */
  webhook: string;
  emailSubject: string;
  /** Plain-text email body. */
  emailBody: string;
  /** One line of Slack mrkdwn, used as the message text (and the fallback of Block Kit messages). */
  slack: string;
  /** Teams card title and text (the text is Markdown as Adaptive Card TextBlocks render it). */
  teams: { title: string; text: string };
}

const WEBHOOK_PACKAGE = `$ToJson(%(
    package: $PackageId,
    version: $PackageVersion,
    event: $PackageEvent,
    user: $UserName,
    feed: $FeedName
))`;

const WEBHOOK_NONCOMPLIANT = `$ToJson(%(
    package: $PackageId,
    version: $PackageVersion,
    result: $PackageComplianceResult,
    details: $PackageComplianceDetails,
    feed: $FeedName
))`;

const WEBHOOK_VULNERABILITY = `$ToJson(%(
    packages: @AffectedPackages,
    vulnerabilityId: $VulnerabilityId,
    summary: $VulnerabilitySummary,
    severity: $VulnerabilitySeverity,
    score: $VulnerabilityScore
))`;

const WEBHOOK_BUILD = `$ToJson(%(
    issues: @BuildIssues,
    buildNumber: $BuildNumber,
    releaseNumber: $BuildReleaseNumber,
    projectName: $BuildProjectName
))`;

const PACKAGE_LINE = '$PackageId $PackageVersion $PackageEvent to $FeedName by $UserName';

const TEMPLATES = {
  package: {
    webhook: WEBHOOK_PACKAGE,
    emailSubject: PACKAGE_LINE,
    emailBody: PACKAGE_LINE,
    slack: '*$PackageId* $PackageVersion $PackageEvent to *$FeedName* by $UserName',
    teams: {
      title: '$PackageId $PackageVersion $PackageEvent',
      text: '**$PackageId** $PackageVersion $PackageEvent to **$FeedName** by $UserName',
    },
  },
  'sca.noncompliant-package': {
    webhook: WEBHOOK_NONCOMPLIANT,
    emailSubject: '$PackageId $PackageVersion is $PackageComplianceResult',
    emailBody: '$PackageId $PackageVersion is $PackageComplianceResult in $FeedName.\n\nReason: $PackageComplianceDetails',
    slack: ':warning: *$PackageId* $PackageVersion is $PackageComplianceResult in *$FeedName*: $PackageComplianceDetails',
    teams: {
      title: '$PackageId $PackageVersion is $PackageComplianceResult',
      text: '**$PackageId** $PackageVersion is $PackageComplianceResult in **$FeedName**.\n\nReason: $PackageComplianceDetails',
    },
  },
  'sca.new-vulnerability': {
    webhook: WEBHOOK_VULNERABILITY,
    emailSubject: '$PackageId $PackageVersion: Vulnerability $VulnerabilityId',
    emailBody:
      'A new vulnerability has been published: $VulnerabilityId $VulnerabilitySummary\n\n' +
      'Affected packages:\n\n' +
      '<% foreach %p in @AffectedPackages { %>\n' +
      '  * $(%p.Name) $(%p.AffectedVersions)\n' +
      '<% } %>',
    slack:
      ':rotating_light: New vulnerability *$VulnerabilityId* ($VulnerabilitySeverity, score $VulnerabilityScore): $VulnerabilitySummary. ' +
      'Affects <% foreach %p in @AffectedPackages { %>$(%p.Name) $(%p.AffectedVersions); <% } %>',
    teams: {
      title: 'New vulnerability $VulnerabilityId ($VulnerabilitySeverity, score $VulnerabilityScore)',
      text:
        '$VulnerabilitySummary\n\n' +
        'Affected packages:\n\n' +
        '<% foreach %p in @AffectedPackages { %>\n' +
        '- $(%p.Name) $(%p.AffectedVersions)\n' +
        '<% } %>',
    },
  },
  'sca.build-issues-opened': {
    webhook: WEBHOOK_BUILD,
    emailSubject: 'Issues detected in $ProjectName $BuildNumber',
    emailBody:
      'Issues were detected in $ProjectName $BuildNumber\n\n' +
      '<% foreach %i in @BuildIssues { %>\n' +
      ' * $(%i.Sequence) $(%i.Detail)\n' +
      '<% } %>\n\n' +
      'To view issues, see $WebBaseUrl/projects/build/issues?projectBuildId=$BuildId&resolved=Unresolved',
    slack:
      ':construction: $ListCount(@BuildIssues) issue(s) opened on build *$BuildProjectName $BuildNumber*: ' +
      '<% foreach %i in @BuildIssues { %>#$(%i.Sequence) $(%i.Detail); <% } %>' +
      '<$WebBaseUrl/projects/build/issues?projectBuildId=$BuildId&resolved=Unresolved|view issues>',
    teams: {
      title: 'Issues opened on build $BuildProjectName $BuildNumber',
      text:
        '<% foreach %i in @BuildIssues { %>\n' +
        '- #$(%i.Sequence) $(%i.Detail)\n' +
        '<% } %>\n' +
        '[View issues]($WebBaseUrl/projects/build/issues?projectBuildId=$BuildId&resolved=Unresolved)',
    },
  },
} satisfies Record<string, DefaultTemplates>;

/**
 * ProGet's default templates for an event type (a code such as `package.promoted`). Throws a
 * TypeError naming the valid codes for anything else.
 */
export function defaultTemplates(code: string): DefaultTemplates {
  const info = eventTypeInfo(code);
  if (!info) {
    throw new TypeError(`Unknown event type "${String(code)}"; expected one of ${EVENT_TYPES.map((t) => t.code).join(', ')}`);
  }
  const t: DefaultTemplates = info.category === 'package' ? TEMPLATES.package : TEMPLATES[code as Exclude<EventCode, `package.${string}`>];
  return { ...t, teams: { ...t.teams } };
}
