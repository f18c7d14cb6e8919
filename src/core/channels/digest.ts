/**
 * The default rendering of a digest event (notifier-digest) per channel: what a person wants to read about a burst.
 * Every value is escaped for its channel as in the single-event defaults (Slack mrkdwn, Teams markdown, HTML), and
 * links keep to http(s). Work is linear in the listed events and bounded by the per-channel line caps.
 * - Slack: a header, the counts per type, up to SLACK_DIGEST_LINES events (linked), "… and N more"; within Block
 *   Kit's limits whatever the count.
 * - Teams: an Adaptive Card with the counts and time span as a FactSet and the events as a linked list; the body is
 *   kept within 28 KB by buildTeamsMessage.
 * - Email: a plain-text list and an HTML table of the listed events with links.
 * The webhook sends the digest as JSON (the `digest` default template).
 */
import type { NotifierEvent, Value } from '../events';
import { getVar } from '../events';
import { escapeHtml, escapeMrkdwn, escapeTeamsMarkdown } from './escape';
import { truncateChars } from './limits';
import type { SlackBlock, SlackPayload } from './slack';
import type { Fact } from './facts';
import type { TeamsMessageParts } from './teams';

/** Events listed in a Slack digest, and in a Teams digest (the rest are counted). */
export const SLACK_DIGEST_LINES = 20;
export const TEAMS_DIGEST_LINES = 25;
/** Longest line of one event in a chat message. */
const LINE_CHARS = 300;

export interface DigestLine {
  type: string;
  label: string;
  occurredAt: string;
  summary: string;
  url: string;
}

function str(v: Value | undefined): string {
  return typeof v === 'string' ? v : '';
}

/** What a digest says about itself: count, group, time span, counts per type, listed events. */
export interface DigestView {
  count: number;
  group: string;
  first: string;
  last: string;
  feed: string;
  counts: Array<[string, string]>;
  lines: DigestLine[];
}

export function digestView(event: NotifierEvent): DigestView {
  const vars = event.vars;
  const items = getVar(vars, 'Events');
  const counts = getVar(vars, 'CountsByType');
  const lines: DigestLine[] = [];
  if (Array.isArray(items)) {
    for (const item of items) {
      if (typeof item !== 'object' || Array.isArray(item)) continue;
      lines.push({
        type: str(item.Type),
        label: str(item.Label),
        occurredAt: str(item.OccurredAt),
        summary: str(item.Summary) || str(item.Label),
        url: /^https?:\/\//i.test(str(item.Url)) ? str(item.Url) : '',
      });
    }
  }
  const n = Number(str(getVar(vars, 'EventCount')));
  return {
    count: Number.isFinite(n) ? n : lines.length,
    group: str(getVar(vars, 'GroupKey')),
    first: str(getVar(vars, 'FirstOccurredAt')),
    last: str(getVar(vars, 'LastOccurredAt')),
    feed: event.feed ?? '',
    counts: counts && typeof counts === 'object' && !Array.isArray(counts) ? Object.entries(counts).map(([k, v]) => [k, str(v)]) : [],
    lines,
  };
}

const plural = (n: number, one: string) => `${n.toLocaleString('en-US')} ${one}${n === 1 ? '' : 's'}`;

/** "2026-01-01 12:00:05 UTC" */
function time(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
}

function span(v: DigestView): string {
  if (!v.first) return '';
  return v.first === v.last || !v.last ? time(v.first) : `${time(v.first)} to ${time(v.last)}`;
}

/** The headline: "1,000 events in internal/Promoted". */
export function digestTitle(v: DigestView): string {
  return `${plural(v.count, 'event')} in ${v.group}`;
}

function more(v: DigestView, shown: number): number {
  return Math.max(0, v.count - shown);
}

// ---- Slack -------------------------------------------------------------------------------------------------------

function slackLink(url: string, text: string): string {
  return url ? `<${escapeMrkdwn(url).replace(/\|/g, '%7C')}|${escapeMrkdwn(text)}>` : escapeMrkdwn(text);
}

/** A digest as a Slack Block Kit message: within Slack's limits for any number of events. */
export function digestSlackMessage(event: NotifierEvent): SlackPayload {
  const v = digestView(event);
  const title = digestTitle(v);
  const blocks: SlackBlock[] = [{ type: 'header', text: { type: 'plain_text', text: truncateChars(title, 150), emoji: true } }];
  const when = span(v);
  blocks.push({
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: truncateChars(`*${plural(v.count, 'event')}* in *${escapeMrkdwn(v.group)}*${when ? `\n${escapeMrkdwn(when)}` : ''}`, 3000),
    },
  });
  if (v.counts.length > 0) {
    const fields = v.counts
      .slice(0, 10)
      .map(([label, n]) => ({ type: 'mrkdwn', text: truncateChars(`*${escapeMrkdwn(label)}*\n${escapeMrkdwn(n)}`, 2000) }));
    blocks.push({ type: 'section', fields });
  }
  const shown = v.lines.slice(0, SLACK_DIGEST_LINES);
  let section = '';
  const flush = () => {
    if (section) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: section } });
    section = '';
  };
  for (const line of shown) {
    const text = `• ${slackLink(line.url, truncateChars(line.summary, LINE_CHARS, '…'))}`;
    if (section.length + text.length + 1 > 3000) flush();
    section += (section ? '\n' : '') + text;
  }
  flush();
  const rest = more(v, shown.length);
  if (rest > 0) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `… and ${rest.toLocaleString('en-US')} more` }] });
  return { text: escapeMrkdwn(truncateChars(title, 3000)), blocks };
}

// ---- Teams -------------------------------------------------------------------------------------------------------

function teamsUrl(url: string): string {
  return url.replace(/[()\s<>\\]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

/** A digest as the parts of a Teams message (title, facts, a linked list); `title` replaces the default title. */
export function digestTeamsParts(event: NotifierEvent, title?: string): TeamsMessageParts {
  const v = digestView(event);
  const facts: Fact[] = v.counts.map(([label, n]) => ({ name: escapeTeamsMarkdown(label), value: escapeTeamsMarkdown(n) }));
  const when = span(v);
  if (when) facts.push({ name: 'When', value: escapeTeamsMarkdown(when) });
  const shown = v.lines.slice(0, TEAMS_DIGEST_LINES);
  const list = shown.map((l) => {
    const s = escapeTeamsMarkdown(truncateChars(l.summary, LINE_CHARS, '…'));
    return `- ${l.url ? `[${s}](${teamsUrl(l.url)})` : s}`;
  });
  const rest = more(v, shown.length);
  if (rest > 0) list.push(`\n… and ${rest.toLocaleString('en-US')} more`);
  const parts: TeamsMessageParts = {
    title: title?.trim() || escapeTeamsMarkdown(digestTitle(v)),
    text: list.join('\n'),
    facts,
  };
  if (v.feed) parts.context = escapeTeamsMarkdown(`Feed ${v.feed}`);
  return parts;
}

// ---- email -------------------------------------------------------------------------------------------------------

/** A digest as an email body: plain text, and HTML (a table) with links. */
export function digestEmail(event: NotifierEvent): { text: string; html: string } {
  const v = digestView(event);
  const title = digestTitle(v);
  const when = span(v);
  const rest = more(v, v.lines.length);
  const text: string[] = [title + '.', ...(when ? [when] : []), ''];
  for (const [label, n] of v.counts) text.push(`${label}: ${n}`);
  text.push('');
  for (const l of v.lines) {
    text.push(`* ${l.summary}`);
    if (l.url) text.push(`  ${l.url}`);
  }
  if (rest > 0) text.push('', `… and ${rest.toLocaleString('en-US')} more`);

  const h = escapeHtml;
  const cell = 'style="padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: left"';
  const rows = v.lines.map(
    (l) =>
      `<tr><td ${cell}>${h(time(l.occurredAt))}</td><td ${cell}>${h(l.label)}</td>` +
      `<td ${cell}>${l.url ? `<a href="${h(l.url)}">${h(l.summary)}</a>` : h(l.summary)}</td></tr>`,
  );
  const html =
    `<div style="font-family: sans-serif">` +
    `<h2 style="font-size: 16px">${h(title)}</h2>` +
    (when ? `<p>${h(when)}</p>` : '') +
    (v.counts.length ? `<ul>${v.counts.map(([label, n]) => `<li>${h(label)}: ${h(n)}</li>`).join('')}</ul>` : '') +
    `<table style="border-collapse: collapse"><thead><tr><th ${cell}>Time</th><th ${cell}>Event</th><th ${cell}>What</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>` +
    (rest > 0 ? `<p>… and ${rest.toLocaleString('en-US')} more</p>` : '') +
    `</div>`;
  return { text: text.join('\n').trim(), html };
}
