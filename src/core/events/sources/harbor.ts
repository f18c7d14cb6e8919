/**
 * Harbor webhooks (https://goharbor.io/docs/main/working-with-projects/project-configuration/configure-webhooks/),
 * in the Default format `{ type, occur_at, operator, event_data: { resources, repository } }` and the
 * CloudEvents format `{ specversion, id, type: "harbor.artifact.pushed", time, data, operator }`.
 *
 *   PUSH_ARTIFACT   → package.added
 *   DELETE_ARTIFACT → package.deleted
 *   anything else   → harbor.<type> (harbor.pull_artifact, harbor.scanning_completed, harbor.scanning_failed…);
 *                     a scan's severity is $VulnerabilitySeverity, so the severity condition works on it
 *
 * Feed = the Harbor project (`repository.namespace`); the package is the repository (`repository.name`), its
 * version the tags.
 */
import { z } from 'zod';
import { check, isRecord, isoDate, list, obj, record, requiredText, severityOf, sourceCode, sourceVars, text } from './common';
import type { MappedEvent, SourceMapper, SourceRequest } from './common';
import type { Value } from '../types';

/** CloudEvents types and the Default format's names for them. */
const CLOUD_EVENT_TYPES: Record<string, string> = {
  'harbor.artifact.pushed': 'PUSH_ARTIFACT',
  'harbor.artifact.pulled': 'PULL_ARTIFACT',
  'harbor.artifact.deleted': 'DELETE_ARTIFACT',
  'harbor.scan.completed': 'SCANNING_COMPLETED',
  'harbor.scan.failed': 'SCANNING_FAILED',
  'harbor.scan.stopped': 'SCANNING_STOPPED',
  'harbor.quota.exceeded': 'QUOTA_EXCEED',
  'harbor.quota.warning': 'QUOTA_WARNING',
  'harbor.replication.status.changed': 'REPLICATION',
  'harbor.tag_retention.finished': 'TAG_RETENTION',
};

/** What an artifact's push or delete must have; other events (replication, tag retention…) may have no repository. */
const artifactData = z.object({
  repository: z.object({ name: requiredText, namespace: requiredText.optional() }),
  resources: z.array(record).optional(),
});

export const harbor: SourceMapper = {
  name: 'harbor',
  matchesHeaders: () => false,
  matchesShape: (b) =>
    (typeof b.type === 'string' && isRecord(b.event_data) && 'occur_at' in b) ||
    (typeof b.specversion === 'string' && typeof b.type === 'string' && b.type.startsWith('harbor.') && isRecord(b.data)),
  map(req: SourceRequest): MappedEvent {
    const b = check(record, req.body, 'a Harbor webhook payload (a JSON object)');
    const cloud = typeof b.specversion === 'string';
    const rawType = text(b.type, 100);
    const kind = cloud ? (CLOUD_EVENT_TYPES[rawType] ?? rawType.replace(/^harbor\./, '')) : rawType;
    const dataPath = cloud ? 'data' : 'event_data';
    const artifact = kind === 'PUSH_ARTIFACT' || kind === 'DELETE_ARTIFACT';
    if (artifact) check(artifactData, b[dataPath], `a Harbor ${kind} payload with ${dataPath}.repository`);
    else check(record, b[dataPath], `a Harbor webhook payload with ${dataPath}`);
    const raw = obj(b, dataPath);
    const repo = obj(raw, 'repository');
    const replication = obj(raw, 'replication');
    const retention = obj(raw, 'retention');
    const resources = list(raw, 'resources').filter(isRecord);
    const tags = [...new Set(resources.map((r) => text(r.tag, 300)).filter(Boolean))];
    const first = resources[0] ?? {};
    const vars: Record<string, Value> = {
      PackageId: text(repo.name, 500),
      PackageName: text(repo.name, 500),
      PackageVersion: tags.join(', '),
      FeedName: text(repo.namespace, 300) || text(retention.project_name, 300) || text(obj(replication, 'dest_resource').namespace, 300),
      FeedType: 'docker',
      UserName: text(b.operator, 300),
      RepositoryName: text(repo.repo_full_name, 600),
      RepositoryType: text(repo.repo_type, 50),
      Digest: text(first.digest, 200),
      ResourceUrl: text(first.resource_url, 1000),
      Tags: tags,
      HarborEventType: kind,
    };
    // a scan's result: the overview of the first report (Harbor's severities: None, Unknown, Negligible, Low…)
    const overview = obj(first, 'scan_overview');
    const report = Object.values(overview).find(isRecord);
    if (report) {
      const summary = obj(report, 'summary');
      vars.ScanStatus = text(report.scan_status, 50);
      vars.VulnerabilitySeverity = severityOf(report.severity);
      vars.VulnerabilityCount = text(summary.total, 20);
      vars.FixableCount = text(summary.fixable, 20);
      vars.Scanner = text(obj(report, 'scanner').name, 100);
    }
    if (isRecord(raw.replication)) {
      vars.JobStatus = text(replication.job_status, 50);
      vars.TriggerType = text(replication.trigger_type, 50);
      vars.SourceRegistry = text(obj(replication, 'src_resource').endpoint, 500);
    }
    if (isRecord(raw.retention)) {
      vars.Result = text(retention.result, 50);
      vars.Total = text(retention.total, 20);
      vars.Retained = text(retention.retained, 20);
    }
    const attributes = obj(raw, 'custom_attributes');
    if (typeof attributes.Details === 'string') vars.Details = text(attributes.Details, 2000);
    const type = kind === 'PUSH_ARTIFACT' ? 'package.added' : kind === 'DELETE_ARTIFACT' ? 'package.deleted' : sourceCode('harbor', kind);
    const occurredAt = isoDate(cloud ? b.time : b.occur_at);
    const id = cloud ? text(b.id, 200) : '';
    return {
      type,
      vars: sourceVars('harbor', kind, vars),
      ...(occurredAt ? { occurredAt } : {}),
      ...(id ? { id } : {}),
    };
  },
};
