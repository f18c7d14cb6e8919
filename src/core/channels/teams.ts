/**
 * Microsoft Teams through a Workflows ("Post to a channel when a webhook request is received") URL:
 * an Adaptive Card 1.4 (a title TextBlock, the facts as a FactSet, the text) in the
 * `{"type":"message","attachments":[…]}` envelope that Workflows require; `format: messagecard`
 * sends the legacy MessageCard for old Office 365 connector URLs. 200 and 202 are success. The body
 * stays within 28 KB (facts and text cut, visibly). At most 4 requests per second per URL.
 */
import type { NotifierEvent } from '../events';
import { ConfigError, checkHttpUrl, choiceProperty, textProperty } from '../delivery/config';
import type { ChannelDriver } from '../delivery/dispatcher';
import type { AttemptResult, EngineOptions } from '../delivery/engine';
import { HttpTransport, classifyHttpResponse, httpAttempt, responseOf } from '../delivery/http';
import type { HttpResponse } from '../delivery/http';
import { escapeTeamsMarkdown, teamsEscaper } from './escape';
import { eventContext, eventFacts, type Fact } from './facts';
import { TRUNCATED, jsonBytes, truncateChars } from './limits';
import { DefaultTemplateCache, type Template, type TemplateKit } from './templates';
import { digestTeamsParts } from './digest';

/** Teams' message size limit (28 KB), in bytes of the JSON body. */
export const TEAMS_MAX_BYTES = 28 * 1024;
/** What messages are cut to: 1 KB under the limit, as the limit is measured on Microsoft's side. */
export const TEAMS_TARGET_BYTES = 27 * 1024;
export const TEAMS_FORMATS = ['adaptive', 'messagecard'] as const;
export type TeamsFormat = (typeof TEAMS_FORMATS)[number];

export interface TeamsMessageParts {
  title: string;
  text: string;
  facts: Fact[];
  context?: string;
  link?: string;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export function adaptiveCard(parts: TeamsMessageParts): Record<string, any> {
  const body: any[] = [{ type: 'TextBlock', text: parts.title, size: 'Medium', weight: 'Bolder', wrap: true }];
  if (parts.facts.length) body.push({ type: 'FactSet', facts: parts.facts.map((f) => ({ title: f.name, value: f.value })) });
  if (parts.text) body.push({ type: 'TextBlock', text: parts.text, wrap: true });
  if (parts.context) body.push({ type: 'TextBlock', text: parts.context, wrap: true, isSubtle: true, size: 'Small' });
  const card: Record<string, any> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    msteams: { width: 'Full' },
  };
  if (parts.link) card.actions = [{ type: 'Action.OpenUrl', title: 'View in ProGet', url: parts.link }];
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  };
}

export function messageCard(parts: TeamsMessageParts): Record<string, any> {
  const card: Record<string, any> = {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: truncateChars(parts.title, 200),
    themeColor: 'B7A6D9',
    title: parts.title,
    text: parts.text || ' ',
  };
  const section: Record<string, any> = {};
  if (parts.facts.length) section.facts = parts.facts.map((f) => ({ name: f.name, value: f.value }));
  if (parts.context) section.text = parts.context;
  if (Object.keys(section).length) card.sections = [section];
  if (parts.link) card.potentialAction = [{ '@type': 'OpenUri', name: 'View in ProGet', targets: [{ os: 'default', uri: parts.link }] }];
  return card;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Fact values are never cut below this many characters while other cuts are possible. */
export const TEAMS_FACT_MIN_CHARS = 200;

/**
 * Builds the message and keeps it within `maxBytes`, cutting as little as possible, each cut marked:
 * first the longest fact values (all values over a cap are cut to it; the largest cap that fits is
 * found by bisection), then the text, then facts from the end (a last fact says how many), then the
 * title.
 */
export function buildTeamsMessage(format: TeamsFormat, parts: TeamsMessageParts, maxBytes = TEAMS_TARGET_BYTES): Record<string, unknown> {
  const make = (p: TeamsMessageParts) => (format === 'messagecard' ? messageCard(p) : adaptiveCard(p));
  const fits = (m: Record<string, unknown>) => jsonBytes(m) <= maxBytes;
  const capFacts = (facts: Fact[], cap: number): Fact[] =>
    facts.map((f) => ({ name: truncateChars(f.name, TEAMS_FACT_MIN_CHARS), value: truncateChars(f.value, cap) }));

  let msg = make(parts);
  if (fits(msg)) return msg;

  // 1. the longest fact values, to the largest cap that fits
  const longest = Math.max(0, ...parts.facts.map((f) => f.value.length));
  if (longest > TEAMS_FACT_MIN_CHARS) {
    let lo = TEAMS_FACT_MIN_CHARS;
    let hi = longest;
    let best: Record<string, unknown> | undefined;
    while (lo <= hi) {
      const cap = Math.floor((lo + hi) / 2);
      const candidate = make({ ...parts, facts: capFacts(parts.facts, cap) });
      if (fits(candidate)) {
        best = candidate;
        lo = cap + 1;
      } else hi = cap - 1;
    }
    if (best) return best;
  }
  let p: TeamsMessageParts = { ...parts, facts: capFacts(parts.facts, TEAMS_FACT_MIN_CHARS) };

  // 2. the text, to the longest prefix that fits
  if (p.text) {
    let lo = 0;
    let hi = p.text.length;
    let best: Record<string, unknown> | undefined;
    while (lo <= hi) {
      const len = Math.floor((lo + hi) / 2);
      const candidate = make({ ...p, text: truncateChars(p.text, len + TRUNCATED.length) });
      if (fits(candidate)) {
        best = candidate;
        lo = len + 1;
      } else hi = len - 1;
    }
    if (best) return best;
    p = { ...p, text: TRUNCATED };
  }

  // 3. facts from the end
  const all = p.facts;
  for (let keep = all.length - 1; keep >= 0; keep--) {
    const cut = all.length - keep;
    msg = make({ ...p, facts: [...all.slice(0, keep), { name: '…', value: `${cut} more fact${cut === 1 ? '' : 's'} cut (Teams allows 28 KB)` }] });
    if (fits(msg)) return msg;
  }

  // 4. the title and the context
  return make({
    title: truncateChars(p.title, TEAMS_FACT_MIN_CHARS),
    text: TRUNCATED,
    facts: [{ name: '…', value: 'message cut (Teams allows 28 KB)' }],
  });
}

/**
 * 2xx is delivered (Workflows answer 202). For legacy connectors (messagecard), a 200 whose body is
 * not a number is an error in disguise: "…HTTP error 429" is retried, anything else is permanent.
 */
export function classifyTeamsResponse(format: TeamsFormat) {
  return (res: HttpResponse, nowMs: number): AttemptResult => {
    const base = classifyHttpResponse(res, nowMs);
    if (base.kind !== 'delivered' || format !== 'messagecard') return base;
    const body = res.body.trim();
    if (body === '' || /^\d+$/.test(body)) return base;
    if (/\b429\b/.test(body)) {
      return {
        kind: 'retryable',
        code: 'teams_429',
        message: 'Teams connector answered 200 with a rate-limit error (429)',
        status: res.status,
        response: responseOf(res),
      };
    }
    return {
      kind: 'permanent',
      code: 'teams_error',
      message: `Teams connector answered 200 with an error: ${truncateChars(body, 200)}`,
      status: res.status,
      response: responseOf(res),
    };
  };
}

export interface TeamsChannel {
  driver: ChannelDriver;
  engine: Omit<EngineOptions, 'clock' | 'onEvent'>;
  secrets: string[];
}

export function teamsParts(event: NotifierEvent, title: string, text: string): TeamsMessageParts {
  const facts = eventFacts(event).map((f) => ({ name: f.name, value: escapeTeamsMarkdown(f.value) }));
  const parts: TeamsMessageParts = { title: title.trim() || event.label, text: text.trim(), facts };
  const context = eventContext(event);
  if (context) parts.context = escapeTeamsMarkdown(context);
  return parts;
}

export function createTeamsChannel(
  config: Record<string, unknown>,
  credentials: { url?: string | undefined },
  kit: TemplateKit,
  transport: HttpTransport = new HttpTransport({ maxSockets: 4 }),
): TeamsChannel {
  const url = (credentials.url ?? '').trim();
  if (!url) throw new ConfigError('url', 'the Teams Workflows webhook URL is required (credentials)');
  const parsed = checkHttpUrl('url', url, 'the Teams webhook URL');
  const format = choiceProperty(config, 'format', TEAMS_FORMATS, 'adaptive');
  const compile = (property: string): Template | undefined => {
    const src = textProperty(config, property);
    if (src.trim() === '') return undefined;
    try {
      return kit.compile(src, { escape: teamsEscaper });
    } catch (err) {
      throw new ConfigError(property, `${property}: ${(err as Error).message}`);
    }
  };
  const title = compile('title');
  const text = compile('text');
  const defaults = new DefaultTemplateCache(
    kit,
    (d) => ({ title: d.teams.title, text: d.teams.text }),
    () => teamsEscaper,
  );
  const classify = classifyTeamsResponse(format);
  const driver: ChannelDriver = {
    channel: 'teams',
    prepare(event) {
      let parts: TeamsMessageParts;
      if (event.type === 'digest' && !text) parts = digestTeamsParts(event, title?.(event.vars));
      else {
        const t = (title ?? defaults.get(event.type, 'title'))(event.vars);
        const x = (text ?? defaults.get(event.type, 'text'))(event.vars);
        parts = teamsParts(event, t, x);
      }
      const body = JSON.stringify(buildTeamsMessage(format, parts));
      const request = { method: 'POST', url: parsed.toString(), headers: { 'Content-Type': 'application/json; charset=utf-8' }, body };
      return {
        key: parsed.toString(),
        request,
        attempt: (ctx) => httpAttempt(transport, request, ctx, () => Date.now(), classify),
      };
    },
    close() {
      transport.destroy();
    },
  };
  return { driver, engine: { ratePerSecond: 4, concurrency: 2, policy: { maxAttempts: 5 } }, secrets: [] };
}
