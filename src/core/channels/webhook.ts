/**
 * The custom webhook channel (ProGet's "Custom webhook"): URL, method, headers and content are
 * OtterScript templates; the content defaults to ProGet's body for the event type with
 * `Content-Type: application/json`. Optional signing: Standard Webhooks (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64>`) or GitHub style (`X-Hub-Signature-256`);
 * optional basic or bearer auth from the credentials.
 */
import { createHash, createHmac } from 'node:crypto';
import type { NotifierEvent } from '../events';
import { ConfigError, checkHttpUrl, choiceProperty, numberProperty, textProperty } from '../delivery/config';
import type { ChannelDriver, PreparedDispatch, PrepareContext } from '../delivery/dispatcher';
import { PrepareError } from '../delivery/dispatcher';
import type { EngineOptions } from '../delivery/engine';
import { EGRESS_DENIED, hostAllowed, literalOrigin, parseAllowedHosts } from '../delivery/egress';
import { HttpTransport, httpAttempt } from '../delivery/http';
import type { HttpRequest } from '../delivery/http';
import { checkHeaderValue, parseHeaderLines } from './headers';
import { DefaultTemplateCache, usesTemplate, type Template, type TemplateKit } from './templates';

export const WEBHOOK_METHODS = ['POST', 'GET', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export type WebhookMethod = (typeof WEBHOOK_METHODS)[number];
export const SIGNING_MODES = ['none', 'standard', 'github'] as const;
export const AUTH_MODES = ['none', 'basic', 'bearer'] as const;

export interface WebhookCredentials {
  secret?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
}

export interface WebhookChannel {
  driver: ChannelDriver;
  engine: Omit<EngineOptions, 'clock' | 'onEvent'>;
  /** derived secrets to redact (the Authorization value, …) */
  secrets: string[];
}

/** Standard Webhooks: `whsec_` + base64 → the key bytes. */
export function standardWebhooksKey(secret: string): Buffer {
  const b64 = secret.trim().replace(/^whsec_/, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    throw new ConfigError('secret', 'the signing secret must be a Standard Webhooks secret: "whsec_" followed by base64 (24 to 64 random bytes)');
  }
  const key = Buffer.from(b64, 'base64');
  if (key.length < 16 || key.length > 128) {
    throw new ConfigError('secret', `the signing secret must decode to 24 to 64 bytes (16 accepted), got ${key.length}`);
  }
  return key;
}

/** Standard Webhooks signature of one attempt: `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`. */
export function standardSignature(key: Buffer, id: string, timestamp: number, body: string): string {
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

/** GitHub style: `sha256=<hex HMAC-SHA256(secret, body)>`. */
export function githubSignature(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', Buffer.from(secret, 'utf8')).update(body, 'utf8').digest('hex');
}

/** The header that carries a dispatch's delivery id on every webhook request (as GitHub's `X-GitHub-Delivery`). */
export const DELIVERY_HEADER = 'X-Notifier-Delivery';

/**
 * The delivery id sent as `X-Notifier-Delivery` and, when signing, `webhook-id`: the dispatch id (one per dispatch,
 * the same for every attempt and across restarts) when it is a safe token, else a hash of it.
 */
export function deliveryId(dispatchId: string): string {
  if (/^[A-Za-z0-9_-]{1,128}$/.test(dispatchId)) return dispatchId;
  return 'dlv_' + createHash('sha256').update(dispatchId).digest('hex').slice(0, 32);
}

interface CompiledHeader {
  name: string;
  value: Template;
}

export function createWebhookChannel(
  config: Record<string, unknown>,
  credentials: WebhookCredentials,
  kit: TemplateKit,
  transport: HttpTransport = new HttpTransport(),
): WebhookChannel {
  const urlSource = textProperty(config, 'url').trim();
  if (!urlSource) throw new ConfigError('url', 'url is required (the receiver, e.g. https://example.com/hooks/proget)');
  if (!usesTemplate(urlSource)) checkHttpUrl('url', urlSource, 'url');
  // egress: the origin is written out, or events may only name the hosts listed in allowedHosts
  const allowedHosts = parseAllowedHosts(config.allowedHosts);
  const origin = literalOrigin(urlSource, usesTemplate);
  if (origin === undefined && allowedHosts.length === 0) {
    throw new ConfigError(
      'url',
      'url: the origin (scheme, host and port) must be written out, with variables only in the path, query and fragment (e.g. https://hooks.example.com/$FeedName); to let events choose the host, list the hosts they may name in allowedHosts',
    );
  }
  const method = choiceProperty(config, 'method', WEBHOOK_METHODS, 'POST');
  const headerLines = parseHeaderLines(textProperty(config, 'headers'));
  const contentSource = textProperty(config, 'content');
  const signing = choiceProperty(config, 'signing', SIGNING_MODES, 'none');
  const inferredAuth = credentials.token ? 'bearer' : credentials.username ? 'basic' : 'none';
  const auth = choiceProperty(config, 'auth', AUTH_MODES, inferredAuth);
  const timeoutS = numberProperty(config, 'timeout', { min: 1, max: 300, default: 10, fraction: true, unit: 'seconds' });
  const retries = numberProperty(config, 'retries', { min: 0, max: 10, default: 4 });
  const rate = numberProperty(config, 'rate', { min: 0, max: 1000, default: 10, fraction: true, unit: 'per second' });

  const compile = (property: string, source: string): Template => {
    try {
      return kit.compile(source);
    } catch (err) {
      throw new ConfigError(property, `${property}: ${(err as Error).message}`);
    }
  };
  const url = compile('url', urlSource);
  const headers: CompiledHeader[] = headerLines.map((h) => ({ name: h.name, value: compile(`headers line ${h.line}`, h.value) }));
  const content = contentSource.trim() === '' ? undefined : compile('content', contentSource);
  const defaults = new DefaultTemplateCache(kit, (d) => ({ webhook: d.webhook }));
  const hasHeader = (name: string) => headerLines.some((h) => h.name.toLowerCase() === name.toLowerCase());

  const secrets: string[] = [];
  let authHeader: string | undefined;
  if (auth === 'basic') {
    if (!credentials.username) throw new ConfigError('username', 'basic auth needs a username (credentials)');
    const b64 = Buffer.from(`${credentials.username}:${credentials.password ?? ''}`, 'utf8').toString('base64');
    authHeader = `Basic ${b64}`;
    secrets.push(b64);
  } else if (auth === 'bearer') {
    if (!credentials.token) throw new ConfigError('token', 'bearer auth needs a token (credentials)');
    if (/[\r\n]/.test(credentials.token)) throw new ConfigError('token', 'the token must be one line');
    authHeader = `Bearer ${credentials.token}`;
  }
  if (authHeader && hasHeader('authorization')) {
    throw new ConfigError('headers', `headers set Authorization and auth is ${auth}: use one or the other`);
  }
  let standardKey: Buffer | undefined;
  let githubSecret: string | undefined;
  if (signing !== 'none') {
    if (!credentials.secret) throw new ConfigError('secret', `signing "${signing}" needs a secret (credentials)`);
    if (signing === 'standard') {
      standardKey = standardWebhooksKey(credentials.secret);
      secrets.push(credentials.secret.replace(/^whsec_/, ''));
    } else githubSecret = credentials.secret;
  }

  const driver: ChannelDriver = {
    channel: 'webhook',
    prepare(event: NotifierEvent, ctx: PrepareContext): PreparedDispatch {
      const vars = event.vars;
      const renderedUrl = url(vars).trim();
      let parsed: URL;
      try {
        parsed = checkHttpUrl('url', renderedUrl, 'the rendered url');
      } catch (err) {
        throw new PrepareError('url', (err as Error).message);
      }
      // the credentials, signature and headers go to the configured origin or an allowed host, nowhere else
      if (origin !== undefined && parsed.origin !== origin) {
        throw new PrepareError(EGRESS_DENIED, `the rendered url leaves the configured origin ${origin}`);
      }
      if (allowedHosts.length > 0 && !hostAllowed(parsed.hostname, allowedHosts)) {
        throw new PrepareError(EGRESS_DENIED, `the rendered url names the host ${parsed.hostname.slice(0, 100)}, which is not in allowedHosts`);
      }
      const reqHeaders: Record<string, string> = {};
      for (const h of headers) {
        const v = h.value(vars).trim();
        const problem = checkHeaderValue(h.name, v);
        if (problem) throw new PrepareError('header_invalid', problem);
        reqHeaders[h.name] = v;
      }
      const sendsBody = content !== undefined || (method !== 'GET' && method !== 'HEAD');
      const body = content ? content(vars) : sendsBody ? defaults.get(event.type, 'webhook')(vars) : undefined;
      if (body !== undefined && !hasHeader('content-type')) reqHeaders['Content-Type'] = 'application/json';
      if (authHeader) reqHeaders.Authorization = authHeader;
      // one id per dispatch, the same for all its attempts (across restarts): receivers drop repeats by it
      const msgId = deliveryId(ctx.dispatchId);
      reqHeaders[DELIVERY_HEADER] = msgId;
      const request: HttpRequest = { method, url: parsed.toString(), headers: reqHeaders, ...(body !== undefined ? { body } : {}) };
      const shown: HttpRequest = { ...request, headers: { ...reqHeaders } };
      if (standardKey) {
        shown.headers['webhook-id'] = msgId;
        shown.headers['webhook-timestamp'] = '(per attempt)';
        shown.headers['webhook-signature'] = 'v1,…';
      } else if (githubSecret) shown.headers['X-Hub-Signature-256'] = githubSignature(githubSecret, body ?? '');
      return {
        key: `${parsed.origin}${parsed.pathname}`,
        request: shown,
        attempt: (ctx) => {
          const h = { ...reqHeaders };
          if (standardKey) {
            const ts = Math.floor(ctx.now / 1000);
            h['webhook-id'] = msgId;
            h['webhook-timestamp'] = String(ts);
            h['webhook-signature'] = standardSignature(standardKey, msgId, ts, body ?? '');
          } else if (githubSecret) h['X-Hub-Signature-256'] = githubSignature(githubSecret, body ?? '');
          return httpAttempt(transport, { ...request, headers: h }, ctx, () => Date.now());
        },
      };
    },
    close() {
      transport.destroy();
    },
  };
  return {
    driver,
    engine: { ratePerSecond: rate, concurrency: 4, policy: { maxAttempts: retries + 1, timeoutMs: timeoutS * 1000 } },
    secrets,
  };
}
