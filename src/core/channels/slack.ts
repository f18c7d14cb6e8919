/**
 * Slack incoming webhooks. The default message is Block Kit (a header, the rendered default text, the
 * facts as fields, a feed/user/time context) with a `text` fallback; a custom `text` template (mrkdwn)
 * replaces it, and a custom text that is a JSON object with `blocks` or `text` is sent as the payload
 * (Block Kit passthrough). Slack's limits are enforced visibly. Success is 2xx (`ok`); Slack's
 * permanent errors fail at once; 429 waits for Retry-After; one message per second per webhook URL.
 */
import { summarizeEvent } from '../dispatch';
import type { NotifierEvent } from '../events';
import { checkHttpUrl, ConfigError, textProperty } from '../delivery/config';
import type { ChannelDriver } from '../delivery/dispatcher';
import type { AttemptResult, EngineOptions } from '../delivery/engine';
import { HttpTransport, classifyHttpResponse, httpAttempt, responseOf } from '../delivery/http';
import type { HttpResponse } from '../delivery/http';
import { escapeMrkdwn, slackEscaper } from './escape';
import { eventContext, eventFacts } from './facts';
import { TRUNCATED, truncateChars } from './limits';
import { DefaultTemplateCache, type Template, type TemplateKit } from './templates';
import { digestSlackMessage } from './digest';

export const SLACK_LIMITS = Object.freeze({
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  markdownBlock: 12_000,
  blockId: 255,
  /** the top-level `text` (Slack truncates beyond it) */
  text: 40_000,
});

/** Slack's answers that will not get better by retrying. */
export const SLACK_PERMANENT_ERRORS: ReadonlySet<string> = new Set([
  'invalid_payload',
  'invalid_token',
  'action_prohibited',
  'channel_not_found',
  'no_service',
  'channel_is_archived',
  'posting_to_general_channel_denied',
  'user_not_found',
  'no_text',
  'too_many_attachments',
  'missing_text_or_fallback_or_attachments',
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_blocks_too_long',
]);

const EXPLAIN: Record<string, string> = {
  invalid_payload: 'the message is not valid JSON or Block Kit',
  invalid_token: 'the webhook token is invalid or revoked: create a new webhook',
  action_prohibited: 'a workspace admin restricted posting to this channel',
  channel_not_found: 'the channel no longer exists',
  no_service: 'the webhook is disabled or was removed: create a new one',
  channel_is_archived: 'the channel is archived',
  rate_limited: 'Slack rate limit',
};

export type SlackBlock = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export interface SlackPayload {
  text?: string;
  blocks?: SlackBlock[];
  [key: string]: unknown;
}

export { escapeMrkdwn };

function cutTextObject(obj: unknown, max: number): unknown {
  if (!obj || typeof obj !== 'object') return obj;
  const o = obj as { text?: unknown };
  return typeof o.text === 'string' && o.text.length > max ? { ...o, text: truncateChars(o.text, max) } : obj;
}

/** A copy of `payload` within Slack's limits; whatever is cut says so. */
export function enforceSlackLimits(payload: SlackPayload): SlackPayload {
  const out: SlackPayload = { ...payload };
  if (typeof out.text === 'string') out.text = truncateChars(out.text, SLACK_LIMITS.text);
  if (Array.isArray(payload.blocks)) {
    let blocks = payload.blocks.map((b) => fitBlock(b));
    if (blocks.length > SLACK_LIMITS.blocks) {
      const extra = blocks.length - (SLACK_LIMITS.blocks - 1);
      blocks = blocks.slice(0, SLACK_LIMITS.blocks - 1);
      blocks.push({
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `… (${extra} more blocks truncated: Slack allows ${SLACK_LIMITS.blocks})` }],
      });
    }
    out.blocks = blocks;
  }
  return out;
}

function fitBlock(block: SlackBlock): SlackBlock {
  if (!block || typeof block !== 'object') return block;
  const b: SlackBlock = { ...block };
  if (typeof b.block_id === 'string' && b.block_id.length > SLACK_LIMITS.blockId) b.block_id = b.block_id.slice(0, SLACK_LIMITS.blockId);
  switch (b.type) {
    case 'header':
      b.text = cutTextObject(b.text, SLACK_LIMITS.headerText);
      break;
    case 'section':
      b.text = b.text === undefined ? undefined : cutTextObject(b.text, SLACK_LIMITS.sectionText);
      if (b.text === undefined) delete b.text;
      if (Array.isArray(b.fields)) {
        let fields = b.fields.map((f: unknown) => cutTextObject(f, SLACK_LIMITS.fieldText));
        if (fields.length > SLACK_LIMITS.fields) {
          const extra = fields.length - (SLACK_LIMITS.fields - 1);
          fields = fields.slice(0, SLACK_LIMITS.fields - 1);
          fields.push({ type: 'mrkdwn', text: `… (${extra} more fields truncated)` });
        }
        b.fields = fields;
      }
      break;
    case 'context':
      if (Array.isArray(b.elements)) {
        let els = b.elements.map((e: unknown) => cutTextObject(e, SLACK_LIMITS.sectionText));
        if (els.length > SLACK_LIMITS.contextElements) {
          els = els.slice(0, SLACK_LIMITS.contextElements - 1);
          els.push({ type: 'mrkdwn', text: TRUNCATED });
        }
        b.elements = els;
      }
      break;
    case 'markdown':
      if (typeof b.text === 'string') b.text = truncateChars(b.text, SLACK_LIMITS.markdownBlock);
      break;
    default:
      break;
  }
  return b;
}

/** The default message: header, text, facts, context; with `text` as the notification fallback. */
export function defaultSlackMessage(event: NotifierEvent, renderedText: string): SlackPayload {
  const blocks: SlackBlock[] = [{ type: 'header', text: { type: 'plain_text', text: event.label, emoji: true } }];
  const text = renderedText.trim();
  if (text) blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  const facts = eventFacts(event);
  for (let i = 0; i < facts.length; i += SLACK_LIMITS.fields) {
    blocks.push({
      type: 'section',
      fields: facts.slice(i, i + SLACK_LIMITS.fields).map((f) => ({
        type: 'mrkdwn',
        text: truncateChars(`*${f.name}*\n${escapeMrkdwn(f.value)}`, SLACK_LIMITS.fieldText),
      })),
    });
  }
  const context = eventContext(event);
  if (context) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(context) }] });
  return enforceSlackLimits({ text: text || escapeMrkdwn(summarizeEvent(event)), blocks });
}

/** A custom text: a JSON object with `blocks` or `text` is the payload itself; anything else is mrkdwn text. */
export function customSlackMessage(rendered: string): SlackPayload {
  const t = rendered.trim();
  if (t.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(t);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        const p = parsed as SlackPayload;
        if (Array.isArray(p.blocks) || typeof p.text === 'string') return enforceSlackLimits(p);
      }
    } catch {
      /* not JSON: plain text */
    }
  }
  return enforceSlackLimits({ text: rendered });
}

function slackErrorCode(body: string): string | undefined {
  const t = body.trim();
  if (/^[a-z_]{2,64}$/.test(t)) return t;
  if (t.startsWith('{')) {
    try {
      const j = JSON.parse(t) as { error?: unknown };
      if (typeof j.error === 'string' && /^[a-z_]{2,64}$/.test(j.error)) return j.error;
    } catch {
      /* ignore */
    }
  }
  return undefined;
}

/** Slack's answers: 2xx is delivered; its permanent error codes fail at once; 429/5xx are retried (Retry-After honoured). */
export function classifySlackResponse(res: HttpResponse, nowMs: number): AttemptResult {
  const base = classifyHttpResponse(res, nowMs);
  if (base.kind === 'delivered') return base;
  const code = slackErrorCode(res.body);
  if (!code) return base;
  const message = `Slack answered HTTP ${res.status} ${code}${EXPLAIN[code] ? `: ${EXPLAIN[code]}` : ''}`;
  if (SLACK_PERMANENT_ERRORS.has(code)) {
    return { kind: 'permanent', code: `slack_${code}`, message, status: res.status, response: responseOf(res) };
  }
  return { ...base, code: base.kind === 'retryable' && res.status === 429 ? 'http_429' : `slack_${code}`, message };
}

export interface SlackChannel {
  driver: ChannelDriver;
  engine: Omit<EngineOptions, 'clock' | 'onEvent'>;
  secrets: string[];
}

export function createSlackChannel(
  config: Record<string, unknown>,
  credentials: { url?: string | undefined },
  kit: TemplateKit,
  transport: HttpTransport = new HttpTransport({ maxSockets: 2 }),
): SlackChannel {
  const url = (credentials.url ?? '').trim();
  if (!url) throw new ConfigError('url', 'the Slack webhook URL is required (credentials; https://hooks.slack.com/services/…)');
  const parsed = checkHttpUrl('url', url, 'the Slack webhook URL');
  const textSource = textProperty(config, 'text');
  let custom: Template | undefined;
  if (textSource.trim() !== '') {
    try {
      custom = kit.compile(textSource, { escape: slackEscaper });
    } catch (err) {
      throw new ConfigError('text', `text: ${(err as Error).message}`);
    }
  }
  const defaults = new DefaultTemplateCache(
    kit,
    (d) => ({ slack: d.slack }),
    () => slackEscaper,
  );
  const driver: ChannelDriver = {
    channel: 'slack',
    prepare(event) {
      const payload = custom
        ? customSlackMessage(custom(event.vars))
        : event.type === 'digest'
          ? enforceSlackLimits(digestSlackMessage(event))
          : defaultSlackMessage(event, defaults.get(event.type, 'slack')(event.vars));
      const body = JSON.stringify(payload);
      const request = { method: 'POST', url: parsed.toString(), headers: { 'Content-Type': 'application/json; charset=utf-8' }, body };
      return {
        key: parsed.toString(),
        request,
        attempt: (ctx) => httpAttempt(transport, request, ctx, () => Date.now(), classifySlackResponse),
      };
    },
    close() {
      transport.destroy();
    },
  };
  return { driver, engine: { ratePerSecond: 1, concurrency: 1, policy: { maxAttempts: 5 } }, secrets: [] };
}
