/**
 * Sonatype Nexus Repository 3 webhooks (https://help.sonatype.com/en/example-headers-and-payloads.html):
 * the event is the `X-Nexus-Webhook-Id` header (`rm:repository:component`, `rm:repository:asset`,
 * `rm:audit`), or the body's `component`, `asset` or `audit`.
 *
 *   component CREATED → package.added
 *   component DELETED → package.deleted
 *   anything else     → nexus.component.updated, nexus.asset.<action>, nexus.audit.<domain>.<type>
 *
 * Feed = the repository (`repositoryName`).
 */
import { z } from 'zod';
import { check, header, isRecord, isoDate, obj, record, refuse, requiredText, sourceCode, sourceVars, text } from './common';
import type { MappedEvent, SourceMapper, SourceRequest } from './common';
import type { Value } from '../types';
import { RESERVED_KEYS } from '../normalize';

const componentBody = z.object({
  repositoryName: requiredText,
  action: requiredText,
  component: z.object({ name: requiredText }),
});
const assetBody = z.object({ repositoryName: requiredText, action: requiredText, asset: z.object({ name: requiredText }) });
const auditBody = z.object({ audit: z.object({ domain: requiredText, type: requiredText }) });

/** `admin/127.0.0.1` → `admin` (Nexus's initiator is `user/address`). */
function userOf(initiator: string): string {
  const slash = initiator.indexOf('/');
  return slash > 0 ? initiator.slice(0, slash) : initiator;
}

export const nexus: SourceMapper = {
  name: 'nexus',
  matchesHeaders: (headers) => header(headers, 'x-nexus-webhook-id') !== undefined,
  matchesShape: (b) =>
    typeof b.nodeId === 'string' && ((typeof b.repositoryName === 'string' && (isRecord(b.component) || isRecord(b.asset))) || isRecord(b.audit)),
  map(req: SourceRequest): MappedEvent {
    const b = check(record, req.body, 'a Nexus webhook payload (a JSON object)');
    const hook = header(req.headers, 'x-nexus-webhook-id') ?? '';
    const initiator = text(b.initiator, 300);
    const occurredAt = isoDate(b.timestamp);
    const common: Record<string, Value> = { Initiator: initiator, UserName: userOf(initiator), NodeId: text(b.nodeId, 100) };
    const done = (type: string, sourceEvent: string, vars: Record<string, Value>): MappedEvent => ({
      type,
      vars: sourceVars('nexus', sourceEvent, { ...common, ...vars }),
      ...(occurredAt ? { occurredAt } : {}),
    });
    if (hook === 'rm:repository:component' || (!hook && isRecord(b.component))) {
      const p = check(componentBody, b, 'a Nexus repository component event: repositoryName, action and component.name');
      const c = obj(b, 'component');
      const action = p.action.toUpperCase();
      const type = action === 'CREATED' ? 'package.added' : action === 'DELETED' ? 'package.deleted' : sourceCode('nexus', 'component', action);
      return done(type, `rm:repository:component ${action}`, {
        PackageId: p.component.name,
        PackageName: p.component.name,
        PackageGroup: text(c.group, 300),
        PackageVersion: text(c.version, 300),
        FeedName: p.repositoryName,
        FeedType: text(c.format, 50),
        ComponentId: text(c.componentId, 200),
        NexusAction: action,
      });
    }
    if (hook === 'rm:repository:asset' || (!hook && isRecord(b.asset))) {
      const p = check(assetBody, b, 'a Nexus repository asset event: repositoryName, action and asset.name');
      const a = obj(b, 'asset');
      const action = p.action.toUpperCase();
      return done(sourceCode('nexus', 'asset', action), `rm:repository:asset ${action}`, {
        PackageId: p.asset.name,
        PackageVersion: '',
        FeedName: p.repositoryName,
        FeedType: text(a.format, 50),
        AssetId: text(a.assetId, 200),
        NexusAction: action,
      });
    }
    if (isRecord(b.audit)) {
      const p = check(auditBody, b, 'a Nexus audit event: audit.domain and audit.type');
      const audit = obj(b, 'audit');
      const attributes: Record<string, Value> = {};
      for (const [k, v] of Object.entries(obj(audit, 'attributes')).slice(0, 50)) {
        if (!RESERVED_KEYS.has(k)) attributes[text(k, 100)] = text(v, 1000);
      }
      return done(sourceCode('nexus', 'audit', p.audit.domain, p.audit.type), `${hook || 'rm:audit'} ${p.audit.domain} ${p.audit.type}`, {
        PackageId: '',
        PackageVersion: '',
        FeedName: '',
        AuditDomain: p.audit.domain,
        AuditType: p.audit.type,
        AuditContext: text(audit.context, 500),
        AuditAttributes: attributes,
      });
    }
    if (!hook) refuse('', 'not a Nexus webhook: no X-Nexus-Webhook-Id header, and no component, asset or audit in the body');
    return done(sourceCode('nexus', hook.replace(/^rm:/, '').replace(/:/g, '.')), hook, {
      PackageId: '',
      PackageVersion: '',
      FeedName: text(b.repositoryName, 300),
      NexusAction: text(b.action, 50),
    });
  },
};
