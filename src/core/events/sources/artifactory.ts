/**
 * JFrog Artifactory webhooks (https://jfrog.com/help/r/jfrog-platform-administration-documentation/webhooks),
 * in the three shapes JFrog documents: the platform envelope `{ event: { id, domain, event_type, data, … } }`
 * (with `data` a JSON string or an object), `{ domain, event_type, data }`, and the event's data alone with
 * its `event_type` (the domain then read from its fields: `image_name` is docker, `property_key` is
 * artifact_property, else artifact).
 *
 *   artifact deployed, docker pushed → package.added
 *   artifact deleted, docker deleted → package.deleted
 *   anything else                    → artifactory.<domain>.<event_type>
 *
 * Feed = the repository (`repo_key`).
 */
import { z } from 'zod';
import { check, header, isRecord, record, refuse, requiredText, sourceCode, sourceVars, text } from './common';
import type { MappedEvent, SourceMapper, SourceRequest } from './common';
import type { Value } from '../types';

/** Longest `data` string parsed (the envelope carries the event's data as JSON text). */
const MAX_DATA_TEXT = 256 * 1024;

const envelope = z.object({ event: z.object({ domain: requiredText, event_type: requiredText, id: requiredText.optional(), data: z.unknown() }) });

function dataOf(v: unknown): Record<string, unknown> {
  if (isRecord(v)) return v;
  if (typeof v !== 'string') return refuse('event.data', 'must be the event data, an object or its JSON text');
  if (v.length > MAX_DATA_TEXT) return refuse('event.data', `longer than ${MAX_DATA_TEXT} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (err) {
    return refuse('event.data', `is not valid JSON (${text((err as Error).message, 200)})`);
  }
  return isRecord(parsed) ? parsed : refuse('event.data', 'must hold a JSON object');
}

interface Shape {
  domain: string;
  eventType: string;
  data: Record<string, unknown>;
  id?: string;
}

function shapeOf(b: Record<string, unknown>): Shape {
  if (isRecord(b.event)) {
    const e = check(envelope, b, 'an Artifactory event envelope: event.domain, event.event_type and event.data').event;
    return { domain: e.domain, eventType: e.event_type, data: dataOf(e.data), ...(e.id ? { id: e.id } : {}) };
  }
  const eventType = check(z.object({ event_type: requiredText }), b, 'an Artifactory webhook payload with event_type').event_type;
  if (typeof b.domain === 'string') return { domain: text(b.domain, 60), eventType, data: isRecord(b.data) ? b.data : b };
  const domain = 'image_name' in b ? 'docker' : 'property_key' in b ? 'artifact_property' : 'build_name' in b ? 'build' : 'artifact';
  return { domain, eventType, data: b };
}

export const artifactory: SourceMapper = {
  name: 'artifactory',
  matchesHeaders: (headers) => header(headers, 'x-jfrog-event-auth') !== undefined,
  matchesShape: (b) =>
    (isRecord(b.event) && typeof b.event.domain === 'string' && typeof b.event.event_type === 'string') ||
    (typeof b.event_type === 'string' && (typeof b.repo_key === 'string' || (typeof b.domain === 'string' && isRecord(b.data)))),
  map(req: SourceRequest): MappedEvent {
    const b = check(record, req.body, 'an Artifactory webhook payload (a JSON object)');
    const { domain, eventType, data, id } = shapeOf(b);
    const event = eventType.toLowerCase();
    const d = data;
    const common: Record<string, Value> = {
      FeedName: text(d.repo_key, 300),
      Path: text(d.path, 1000),
      Sha256: text(d.sha256, 100),
      Size: text(d.size, 30),
      ArtifactoryDomain: domain,
      ArtifactoryEventType: event,
      UserName: '',
    };
    let type = sourceCode('artifactory', domain, event);
    let vars: Record<string, Value>;
    if (domain === 'docker') {
      if (event === 'pushed') type = 'package.added';
      else if (event === 'deleted') type = 'package.deleted';
      const platforms = Array.isArray(d.platforms) ? d.platforms.slice(0, 20) : [];
      vars = {
        ...common,
        PackageId: text(d.image_name, 500),
        PackageName: text(d.image_name, 500),
        PackageVersion: text(d.tag, 300),
        FeedType: 'docker',
        Platforms: platforms.filter(isRecord).map((p) => `${text(p.os, 50)}/${text(p.architecture, 50)}`),
      };
    } else if (domain === 'artifact') {
      if (event === 'deployed') type = 'package.added';
      else if (event === 'deleted') type = 'package.deleted';
      vars = {
        ...common,
        PackageId: text(d.path, 1000) || text(d.name, 500),
        PackageName: text(d.name, 500),
        PackageVersion: '',
        ...(d.target_repo_key !== undefined || d.target_path !== undefined
          ? { TargetFeedName: text(d.target_repo_key, 300), TargetPath: text(d.target_path, 1000) }
          : {}),
      };
    } else {
      vars = {
        ...common,
        PackageId: text(d.name, 500) || text(d.build_name, 500),
        PackageVersion: text(d.build_number, 100),
        ...(d.property_key !== undefined
          ? {
              PropertyKey: text(d.property_key, 300),
              PropertyValues: (Array.isArray(d.property_values) ? d.property_values.slice(0, 50) : []).map((v) => text(v, 1000)),
            }
          : {}),
      };
    }
    if (type === 'package.added' || type === 'package.deleted') {
      if (!vars.PackageId) refuse(domain === 'docker' ? 'image_name' : 'path', `is required for an Artifactory ${domain} ${event} event`);
      if (!vars.FeedName) refuse('repo_key', `is required for an Artifactory ${domain} ${event} event`);
    }
    return { type, vars: sourceVars('artifactory', `${domain}.${event}`, vars), ...(id ? { id } : {}) };
  },
};
