/**
 * GitHub webhooks (https://docs.github.com/webhooks/webhook-events-and-payloads): the event name is the
 * `X-GitHub-Event` header (or, without it, the body's shape), the kind of change its `action`.
 *
 *   package / registry_package published → package.added
 *   dependabot_alert created            → sca.new-vulnerability
 *   repository_vulnerability_alert create → sca.new-vulnerability
 *   anything else                       → github.<event>[.<action>] (ping → github.ping)
 *
 * Feed = the repository (`owner/name`).
 */
import { z } from 'zod';
import { check, header, isRecord, obj, record, refuse, requiredText, scoreOf, severityOf, sourceCode, sourceVars, text } from './common';
import type { MappedEvent, SourceMapper, SourceRequest } from './common';
import type { Value } from '../types';

const packageBody = z.object({ name: requiredText, package_version: record.nullish() });
const dependabotBody = z.object({
  alert: z.object({
    security_advisory: z.object({ ghsa_id: requiredText }),
    security_vulnerability: record.nullish(),
    dependency: record.nullish(),
  }),
});
const legacyAlertBody = z.object({ alert: z.object({ affected_package_name: requiredText }) });

/** The event name a body of this shape has when the X-GitHub-Event header is missing. */
function eventOfShape(b: Record<string, unknown>): string {
  if (typeof b.zen === 'string' && b.hook_id !== undefined) return 'ping';
  if (isRecord(b.registry_package)) return 'registry_package';
  if (isRecord(b.package)) return 'package';
  const alert = b.alert;
  if (isRecord(alert) && isRecord(alert.security_advisory)) return 'dependabot_alert';
  if (isRecord(alert) && 'affected_package_name' in alert) return 'repository_vulnerability_alert';
  return '';
}

function context(b: Record<string, unknown>): Record<string, Value> {
  const repo = obj(b, 'repository');
  return {
    FeedName: text(repo.full_name, 300) || text(obj(b, 'organization').login, 300),
    UserName: text(obj(b, 'sender').login, 200),
    RepositoryUrl: text(repo.html_url, 500),
  };
}

function packageEvent(b: Record<string, unknown>, event: string, action: string): MappedEvent {
  const key = event === 'registry_package' ? 'registry_package' : 'package';
  const pkg = check(packageBody, b[key], `a GitHub ${event} payload with ${key}.name`);
  const raw = obj(b, key);
  const version = pkg.package_version ?? {};
  const ctx = context(b);
  const vars = sourceVars('github', `${event}.${action}`, {
    ...ctx,
    FeedName: ctx.FeedName || text(raw.namespace, 300),
    PackageId: pkg.name,
    PackageName: pkg.name,
    PackageVersion: text(version.version, 300),
    FeedType: text(raw.package_type, 50) || text(raw.ecosystem, 50),
    PackageNamespace: text(raw.namespace, 300),
    Url: text(version.html_url, 500) || text(raw.html_url, 500),
    GitHubAction: action,
  });
  return { type: action === 'published' ? 'package.added' : sourceCode('github', event, action), vars };
}

function dependabotEvent(b: Record<string, unknown>, action: string): MappedEvent {
  check(dependabotBody, b, 'a GitHub dependabot_alert payload with alert.security_advisory');
  const alert = obj(b, 'alert');
  const advisory = obj(alert, 'security_advisory');
  const vuln = obj(alert, 'security_vulnerability');
  const pkg = isRecord(vuln.package) ? vuln.package : obj(obj(alert, 'dependency'), 'package');
  const name = text(pkg.name, 300);
  const ecosystem = text(pkg.ecosystem, 50);
  const severities = obj(advisory, 'cvss_severities');
  const vars = sourceVars('github', `dependabot_alert.${action}`, {
    ...context(b),
    VulnerabilityId: text(advisory.ghsa_id, 100),
    VulnerabilitySummary: text(advisory.summary),
    VulnerabilitySeverity: severityOf(vuln.severity) || severityOf(advisory.severity),
    VulnerabilityScore: scoreOf(obj(severities, 'cvss_v4').score, obj(severities, 'cvss_v3').score, obj(advisory, 'cvss').score),
    AffectedPackages: [{ Name: ecosystem ? `${ecosystem}:${name}` : name, AffectedVersions: text(vuln.vulnerable_version_range, 300) }],
    PackageId: name,
    PackageVersion: '',
    CveId: text(advisory.cve_id, 100),
    FixedIn: text(obj(vuln, 'first_patched_version').identifier, 300),
    ManifestPath: text(obj(alert, 'dependency').manifest_path, 500),
    AlertNumber: text(alert.number, 20),
    AlertState: text(alert.state, 50),
    Url: text(alert.html_url, 500),
    GitHubAction: action,
  });
  return { type: action === 'created' ? 'sca.new-vulnerability' : sourceCode('github', 'dependabot_alert', action), vars };
}

function legacyAlertEvent(b: Record<string, unknown>, action: string): MappedEvent {
  check(legacyAlertBody, b, 'a GitHub repository_vulnerability_alert payload with alert.affected_package_name');
  const alert = obj(b, 'alert');
  const name = text(alert.affected_package_name, 300);
  const vars = sourceVars('github', `repository_vulnerability_alert.${action}`, {
    ...context(b),
    VulnerabilityId: text(alert.ghsa_id, 100) || text(alert.external_identifier, 100),
    VulnerabilitySummary: '',
    VulnerabilitySeverity: severityOf(alert.severity),
    VulnerabilityScore: '',
    AffectedPackages: [{ Name: name, AffectedVersions: text(alert.affected_range, 300) }],
    PackageId: name,
    PackageVersion: '',
    CveId: text(alert.external_identifier, 100),
    FixedIn: text(alert.fixed_in, 300),
    Url: text(alert.external_reference, 500),
    GitHubAction: action,
  });
  return { type: action === 'create' ? 'sca.new-vulnerability' : sourceCode('github', 'repository_vulnerability_alert', action), vars };
}

export const github: SourceMapper = {
  name: 'github',
  matchesHeaders: (headers) => header(headers, 'x-github-event') !== undefined,
  matchesShape: (b) => eventOfShape(b) !== '' && (isRecord(b.sender) || isRecord(b.hook)),
  map(req: SourceRequest): MappedEvent {
    const b = check(record, req.body, 'a GitHub webhook payload (a JSON object)');
    const event = header(req.headers, 'x-github-event') ?? eventOfShape(b);
    if (!event) refuse('', 'not a GitHub webhook: no X-GitHub-Event header, and the body is not one of the events known by shape');
    const action = text(b.action, 60);
    if (event === 'package' || event === 'registry_package') return packageEvent(b, event, action);
    if (event === 'dependabot_alert') return dependabotEvent(b, action);
    if (event === 'repository_vulnerability_alert') return legacyAlertEvent(b, action);
    const vars = sourceVars('github', action ? `${event}.${action}` : event, {
      ...context(b),
      PackageId: '',
      PackageVersion: '',
      Url: text(obj(b, 'repository').html_url, 500),
      GitHubAction: action,
      ...(event === 'ping' ? { Zen: text(b.zen, 500), HookId: text(b.hook_id, 30) } : {}),
    });
    return { type: sourceCode('github', event, action), vars };
  },
};
