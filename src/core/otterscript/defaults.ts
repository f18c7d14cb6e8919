/**
 * The default content per event type: ProGet's four webhook bodies, exactly (seed, "Default
 * Content"); the email subjects and bodies after ProGet's (Inedo's "Customizing Content & Webhooks"
 * page), reworded to read as a person writes (the right verb per event, no dangling "by", links only
 * when there is a base URL); and our own Slack and Teams defaults (ProGet publishes none).
 */
import { EVENT_TYPES, eventTypeInfo } from '../events/catalog';

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

// ---- the human-readable texts (email, Slack, Teams): written to read as a person would write them.
// A missing user leaves out "by …"; each event has its own verb and preposition; links are absolute,
// from $WebBaseUrl, and left out when the base URL is not a web address or an id is missing.

/** Verb and preposition of each package event: "promoted to", "deleted from"… */
const PACKAGE_VERBS: Record<string, string> = {
  'package.added': 'added to',
  'package.overwritten': 'overwritten in',
  'package.promoted': 'promoted to',
  'package.deployed': 'deployed from',
  'package.deleted': 'deleted from',
  'package.purged': 'purged from',
  'package.status-changed': 'changed status in',
};
/** Events after which the package is gone: their link goes to the feed. */
const PACKAGE_GONE = new Set(['package.deleted', 'package.purged']);

const BY_USER = '<% if $UserName != "" { %> by $UserName<% } %>';
const HAS_BASE = '$MatchesRegex($WebBaseUrl, "^https?://")';
const BASE = '$TrimEnd($WebBaseUrl, "/")';
const FEED_URL = `${BASE}/feeds/$UrlEncode($FeedName)`;
const PACKAGE_URL = `${FEED_URL}/$UrlEncode($PackageId)/$UrlEncode($PackageVersion)`;
const BUILD_URL = `${BASE}/projects/build/issues?projectBuildId=$UrlEncode($BuildId)&resolved=Unresolved`;
const ifBase = (body: string, also = '') => `<% if ${HAS_BASE}${also} { %>${body}<% } %>`;
const PACKAGE_VERSION = '$PackageId<% if $PackageVersion != "" { %> $PackageVersion<% } %>';

function packageTemplates(code: string): DefaultTemplates {
  const verb = PACKAGE_VERBS[code] ?? 'changed in';
  const url = PACKAGE_GONE.has(code) ? FEED_URL : PACKAGE_URL;
  const line = `$PackageId $PackageVersion ${verb} $FeedName${BY_USER}`;
  return {
    webhook: WEBHOOK_PACKAGE,
    emailSubject: line,
    emailBody: line + ifBase(`\n\n${PACKAGE_GONE.has(code) ? 'Feed' : 'Package'}: ${url}`),
    slack:
      `*$PackageId* $PackageVersion ${verb} *$FeedName*${BY_USER}` +
      ifBase(` <${url}|${PACKAGE_GONE.has(code) ? 'View the feed' : 'View in ProGet'}>`),
    teams: {
      title: `$PackageId $PackageVersion ${verb} $FeedName`,
      text:
        `**$PackageId** $PackageVersion ${verb} **$FeedName**${BY_USER}` +
        ifBase(`\n\n[${PACKAGE_GONE.has(code) ? 'View the feed' : 'View in ProGet'}](${url})`),
    },
  };
}

/** Events of other systems with no ProGet equivalent (`<source>.<event>`): what happened, where, and a link. */
const WEBHOOK_OTHER = `$ToJson(%(
    source: $SourceName,
    event: $SourceEvent,
    summary: $Summary,
    package: $PackageId,
    version: $PackageVersion,
    feed: $FeedName,
    user: $UserName,
    url: $Url
))`;
const HAS_URL = '<% if $MatchesRegex($Url, "^https?://") { %>';
const OTHER_TEMPLATES: DefaultTemplates = {
  webhook: WEBHOOK_OTHER,
  emailSubject: '$SourceName: $Summary',
  emailBody: `$Summary${HAS_URL}\n\n$Url<% } %>`,
  slack: `*$SourceName* $Summary${HAS_URL} <$Url|View><% } %>`,
  teams: { title: '$SourceName: $SourceEvent', text: `$Summary${HAS_URL}\n\n[View]($Url)<% } %>` },
};

const TEMPLATES = {
  'sca.noncompliant-package': {
    webhook: WEBHOOK_NONCOMPLIANT,
    emailSubject: '$PackageId $PackageVersion is $PackageComplianceResult in $FeedName',
    emailBody:
      '$PackageId $PackageVersion is $PackageComplianceResult in $FeedName.' +
      '<% if $PackageComplianceDetails != "" { %>\n\nReason: $PackageComplianceDetails<% } %>' +
      ifBase(`\n\nPackage: ${PACKAGE_URL}`),
    slack:
      ':warning: *$PackageId* $PackageVersion is $PackageComplianceResult in *$FeedName*' +
      '<% if $PackageComplianceDetails != "" { %>: $PackageComplianceDetails<% } %>' +
      ifBase(` <${PACKAGE_URL}|View in ProGet>`),
    teams: {
      title: '$PackageId $PackageVersion is $PackageComplianceResult',
      text:
        '**$PackageId** $PackageVersion is $PackageComplianceResult in **$FeedName**.' +
        '<% if $PackageComplianceDetails != "" { %>\n\nReason: $PackageComplianceDetails<% } %>' +
        ifBase(`\n\n[View in ProGet](${PACKAGE_URL})`),
    },
  },
  'sca.new-vulnerability': {
    webhook: WEBHOOK_VULNERABILITY,
    emailSubject: `Vulnerability $VulnerabilityId in ${PACKAGE_VERSION}`,
    emailBody:
      'A new vulnerability has been published: $VulnerabilityId<% if $VulnerabilitySummary != "" { %>, $VulnerabilitySummary<% } %>\n\n' +
      'Affected packages:\n\n' +
      '<% foreach %p in @AffectedPackages { %>\n' +
      '  * $(%p.Name) $(%p.AffectedVersions)\n' +
      '<% } %>',
    slack:
      ':rotating_light: New vulnerability *$VulnerabilityId*' +
      '<% if $VulnerabilitySeverity != "" { %> ($VulnerabilitySeverity<% if $VulnerabilityScore != "" { %>, score $VulnerabilityScore<% } %>)<% } %>' +
      '<% if $VulnerabilitySummary != "" { %>: $VulnerabilitySummary<% } %>\n' +
      'Affected packages:<% foreach %p in @AffectedPackages { %>\n• $(%p.Name) $(%p.AffectedVersions)<% } %>',
    teams: {
      title:
        'New vulnerability $VulnerabilityId' +
        '<% if $VulnerabilitySeverity != "" { %> ($VulnerabilitySeverity<% if $VulnerabilityScore != "" { %>, score $VulnerabilityScore<% } %>)<% } %>',
      text:
        '<% if $VulnerabilitySummary != "" { %>$VulnerabilitySummary\n\n<% } %>' +
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
      '<% } %>' +
      ifBase(`\nTo view issues, see ${BUILD_URL}`, ' && $BuildId != ""'),
    slack:
      ':construction: Issues opened on build *$BuildProjectName $BuildNumber*:' +
      '<% foreach %i in @BuildIssues { %>\n• #$(%i.Sequence) $(%i.Detail)<% } %>' +
      ifBase(`\n<${BUILD_URL}|View issues>`, ' && $BuildId != ""'),
    teams: {
      title: 'Issues opened on build $BuildProjectName $BuildNumber',
      text:
        '<% foreach %i in @BuildIssues { %>\n' +
        '- #$(%i.Sequence) $(%i.Detail)\n' +
        '<% } %>' +
        ifBase(`\n[View issues](${BUILD_URL})`, ' && $BuildId != ""'),
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
  const t: DefaultTemplates =
    info.category === 'package'
      ? packageTemplates(info.code)
      : info.category === 'other'
        ? OTHER_TEMPLATES
        : TEMPLATES[code as keyof typeof TEMPLATES];
  return { ...t, teams: { ...t.teams } };
}
