/**
 * Dependency-Track's outbound webhook (https://docs.dependencytrack.org/integrations/notifications/):
 * `{ notification: { level, scope, group, timestamp, title, content, subject } }`.
 *
 *   NEW_VULNERABILITY, NEW_VULNERABLE_DEPENDENCY → sca.new-vulnerability
 *   POLICY_VIOLATION                             → sca.noncompliant-package
 *   any other group                              → dependency-track.<group> (e.g. dependency-track.bom_consumed)
 *
 * Feed = the project (its name; a NEW_VULNERABILITY naming several affected projects has none, they are in
 * @AffectedProjects).
 */
import { z } from 'zod';
import { check, isRecord, isoDate, list, maxSeverity, obj, record, requiredText, scoreOf, severityOf, sourceCode, sourceVars, text } from './common';
import type { MappedEvent, SourceMapper, SourceRequest } from './common';
import type { Severity } from '../schemas';
import type { Value } from '../types';

const body = z.object({
  notification: z.object({ group: requiredText, level: requiredText.optional(), scope: requiredText.optional() }),
});
const withComponent = z.object({ component: z.object({ name: requiredText }) });
const newVulnerability = withComponent.extend({ vulnerability: z.object({ vulnId: requiredText }) });
const newVulnerableDependency = withComponent.extend({ vulnerabilities: z.array(z.object({ vulnId: requiredText })).min(1) });
const policyViolation = withComponent.extend({ policyViolation: record });

interface Vuln {
  id: string;
  severity: Severity | '';
  score: string;
  summary: string;
  source: string;
}

function vulnOf(v: unknown): Vuln {
  const o = isRecord(v) ? v : {};
  return {
    id: text(o.vulnId, 100),
    severity: severityOf(o.severity),
    score: scoreOf(o.cvssV3BaseScore, o.cvssv3BaseScore, o.cvssv3, o.cvssV2BaseScore, o.cvssv2BaseScore, o.cvssv2),
    summary: text(o.title, 1000) || text(o.description),
    source: text(o.source, 50),
  };
}

/** `pkg:maven/apache/axis@1.4` → `maven`. */
function purlType(purl: string): string {
  return /^pkg:([a-z0-9.+-]{1,30})\//i.exec(purl)?.[1]?.toLowerCase() ?? '';
}

function componentVars(c: Record<string, unknown>): Record<string, Value> {
  const name = text(c.name, 300);
  const group = text(c.group, 300);
  const purl = text(c.purl, 1000);
  const type = purlType(purl);
  const full = group ? `${group}/${name}` : name;
  return {
    PackageId: name,
    PackageName: name,
    PackageGroup: group,
    PackageVersion: text(c.version, 300),
    Purl: purl,
    AffectedPackages: [{ Name: type ? `${type}:${full}` : full, AffectedVersions: text(c.version, 300) }],
  };
}

function projectOf(p: unknown): Record<string, Value> {
  const o = isRecord(p) ? p : {};
  return { Name: text(o.name, 300), Version: text(o.version, 100), Uuid: text(o.uuid, 100) };
}

function vulnVars(vulns: Vuln[]): Record<string, Value> {
  let top = vulns[0]!;
  for (const v of vulns) if (maxSeverity(top.severity, v.severity) !== top.severity || (v.score && Number(v.score) > Number(top.score || 0))) top = v;
  return {
    VulnerabilityId: vulns.map((v) => v.id).join(', '),
    VulnerabilitySummary:
      vulns.length === 1 ? top.summary : `${vulns.length} vulnerabilities, the most severe ${top.id}${top.summary ? `: ${top.summary}` : ''}`,
    VulnerabilitySeverity: vulns.reduce<Severity | ''>((s, v) => maxSeverity(s, v.severity), ''),
    VulnerabilityScore: vulns.reduce((s, v) => (v.score && Number(v.score) > Number(s || 0) ? v.score : s), ''),
    VulnerabilitySource: top.source,
    Vulnerabilities: vulns.map((v) => ({ Id: v.id, Severity: v.severity, Score: v.score, Source: v.source, Summary: text(v.summary, 500) })),
  };
}

export const dependencyTrack: SourceMapper = {
  name: 'dependency-track',
  matchesHeaders: () => false,
  matchesShape: (b) =>
    isRecord(b.notification) && typeof b.notification.group === 'string' && ('scope' in b.notification || 'level' in b.notification),
  map(req: SourceRequest): MappedEvent {
    const { notification: n } = check(body, req.body, 'a Dependency-Track notification: { notification: { group, scope, level, subject } }');
    const raw = obj(req.body, 'notification');
    // system notifications may have no subject, or one that is not an object
    const subject = obj(raw, 'subject');
    const group = n.group;
    const title = text(raw.title, 500);
    const common: Record<string, Value> = {
      NotificationTitle: title,
      NotificationContent: text(raw.content),
      NotificationLevel: n.level ?? '',
      NotificationScope: n.scope ?? '',
    };
    const occurredAt = isoDate(raw.timestamp);
    const done = (type: string, vars: Record<string, Value>): MappedEvent => ({
      type,
      vars: sourceVars('dependency-track', group, { ...common, ...vars }),
      ...(occurredAt ? { occurredAt } : {}),
    });
    if (group === 'NEW_VULNERABILITY') {
      check(newVulnerability, subject, 'NEW_VULNERABILITY: subject.component and subject.vulnerability');
      const projects = list(subject, 'affectedProjects').map(projectOf);
      return done('sca.new-vulnerability', {
        ...componentVars(obj(subject, 'component')),
        ...vulnVars([vulnOf(subject.vulnerability)]),
        AffectedProjects: projects,
        ...(projects.length === 1 ? { FeedName: projects[0]!.Name as string, ProjectVersion: projects[0]!.Version as string } : {}),
      });
    }
    if (group === 'NEW_VULNERABLE_DEPENDENCY') {
      check(newVulnerableDependency, subject, 'NEW_VULNERABLE_DEPENDENCY: subject.component and subject.vulnerabilities');
      const project = projectOf(subject.project);
      return done('sca.new-vulnerability', {
        ...componentVars(obj(subject, 'component')),
        ...vulnVars(list(subject, 'vulnerabilities').map(vulnOf)),
        AffectedProjects: [project],
        FeedName: project.Name as string,
        ProjectVersion: project.Version as string,
      });
    }
    if (group === 'POLICY_VIOLATION') {
      check(policyViolation, subject, 'POLICY_VIOLATION: subject.component and subject.policyViolation');
      const violation = obj(subject, 'policyViolation');
      const condition = obj(violation, 'policyCondition');
      const policy = obj(condition, 'policy');
      const state = text(policy.violationState, 20).toUpperCase();
      const project = projectOf(subject.project);
      const pkg = componentVars(obj(subject, 'component'));
      delete pkg.AffectedPackages;
      const what = [text(condition.subject, 50), text(condition.operator, 50), text(condition.value, 500)].filter(Boolean).join(' ');
      return done('sca.noncompliant-package', {
        ...pkg,
        FeedName: project.Name as string,
        ProjectVersion: project.Version as string,
        PackageComplianceResult: state === 'FAIL' ? 'Noncompliant' : 'Warn',
        PackageComplianceDetails: `${text(policy.name, 300)} (${text(violation.type, 50).toLowerCase()} policy, ${state || 'no state'})${what ? `: ${what}` : ''}`,
        PolicyName: text(policy.name, 300),
        PolicyViolationType: text(violation.type, 50),
        PolicyViolationState: state,
      });
    }
    // no ProGet equivalent: the group as dependency-track.<group>, with what the subject says
    const component = obj(subject, 'component');
    const projects = isRecord(subject.project) ? [projectOf(subject.project)] : list(subject, 'affectedProjects').map(projectOf);
    const vuln = isRecord(subject.vulnerability) ? vulnOf(subject.vulnerability) : undefined;
    const bom = obj(subject, 'bom');
    return done(sourceCode('dependency-track', group), {
      PackageId: text(component.name, 300),
      PackageVersion: text(component.version, 300),
      FeedName: projects.length === 1 ? (projects[0]!.Name as string) : '',
      ...(projects.length ? { AffectedProjects: projects } : {}),
      ...(vuln
        ? {
            VulnerabilityId: vuln.id,
            VulnerabilitySummary: vuln.summary,
            VulnerabilitySeverity: vuln.severity,
            VulnerabilityScore: vuln.score,
          }
        : {}),
      ...(isRecord(subject.analysis)
        ? { AnalysisState: text(subject.analysis.state, 50), AnalysisSuppressed: text(subject.analysis.suppressed, 10) }
        : {}),
      // the BOM itself (base64, possibly megabytes) is not kept: its format says what was consumed
      ...(isRecord(subject.bom) ? { BomFormat: text(bom.format, 50), BomSpecVersion: text(bom.specVersion, 20) } : {}),
      Summary: [
        title || group,
        vuln ? `: ${vuln.id}` : '',
        component.name !== undefined ? ` in ${text(component.name, 300)} ${text(component.version, 300)}`.trimEnd() : '',
        projects.length === 1 ? ` (${projects[0]!.Name as string})` : '',
      ].join(''),
    });
  },
};
