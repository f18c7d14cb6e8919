/**
 * The email channel (ProGet's "Send an email"): To, Cc, Bcc, subject and body are OtterScript
 * templates compiled once at deploy; the subject and body default to ProGet's for the event type.
 * Messages go through the pooled SMTP client of a `notifier-smtp` config node (channels/smtp.ts).
 *
 * - Recipients: lists separated by `,` or `;`, rendered, then checked; an invalid address or an
 *   empty To after rendering fails the dispatch at once (permanent, nothing is sent). A list with
 *   no template is checked at deploy.
 * - HTML mode: the body template is HTML; the values of the variables are HTML-escaped before they
 *   reach it (the template's own markup is kept), and a plain-text alternative is derived from the
 *   HTML. With the default body (plain text), the rendered text is escaped and its line breaks kept.
 * - The record's request shows from, to, cc, bcc, subject and the body (cut by the dispatcher);
 *   its response shows the SMTP reply (code and text) and the accepted and rejected recipients.
 */
import type { NotifierEvent, Value, Vars } from '../events';
import { ConfigError, textProperty } from '../delivery/config';
import type { ChannelDriver, PreparedDispatch } from '../delivery/dispatcher';
import { PrepareError } from '../delivery/dispatcher';
import type { AttemptResult, EngineOptions } from '../delivery/engine';
import { AddressError, formatMailbox, parseAddressList, type Mailbox } from './smtp-address';
import { SmtpClient, classifySmtpError, type SmtpMail, type SmtpSent } from './smtp';
import { DefaultTemplateCache, usesTemplate, type Template, type TemplateKit } from './templates';

export const RECIPIENT_FIELDS = ['to', 'cc', 'bcc'] as const;
export type RecipientField = (typeof RECIPIENT_FIELDS)[number];

/** Longest subject kept (characters); longer ones are cut with "…". */
export const MAX_SUBJECT_CHARS = 998;

export interface EmailChannel {
  driver: ChannelDriver;
  engine: Omit<EngineOptions, 'clock' | 'onEvent'>;
  secrets: string[];
}

/** What the channel needs from the SMTP client (tests may pass their own). */
export type EmailSender = Pick<SmtpClient, 'send' | 'key' | 'label' | 'fromMailbox' | 'settings' | 'timeouts'>;

/**
 * The engine's timeout of one attempt: connect + greeting + a few socket waits (TLS, AUTH, MAIL,
 * RCPT, DATA). nodemailer's own timeouts fire first; this one aborts a send that still hangs.
 */
export function attemptTimeoutMs(t: SmtpClient['timeouts']): number {
  return Math.min(300_000, Math.max(10_000, t.connectionMs + t.greetingMs + 2 * t.socketMs));
}

// ---------------------------------------------------------------------------------------------
// HTML helpers

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes `& < > " '` for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

function escapeValue(v: Value): Value {
  if (typeof v === 'string') return escapeHtml(v);
  if (Array.isArray(v)) return v.map(escapeValue);
  const out: { [k: string]: Value } = {};
  for (const [k, x] of Object.entries(v)) out[k] = escapeValue(x);
  return out;
}

/** A copy of the variables with every string value HTML-escaped (names unchanged). */
export function escapeVars(vars: Vars): Vars {
  const out: Vars = {};
  for (const [k, v] of Object.entries(vars)) out[k] = escapeValue(v);
  return out;
}

/** Plain text shown as HTML: escaped, line breaks kept. */
export function textToHtml(text: string): string {
  return `<div style="white-space: pre-wrap; font-family: sans-serif">${escapeHtml(text)}</div>`;
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (m, e: string) => {
    const lower = e.toLowerCase();
    if (lower.startsWith('#x')) {
      const n = parseInt(lower.slice(2), 16);
      return Number.isFinite(n) && n <= 0x10ffff ? String.fromCodePoint(n) : m;
    }
    if (lower.startsWith('#')) {
      const n = parseInt(lower.slice(1), 10);
      return Number.isFinite(n) && n <= 0x10ffff ? String.fromCodePoint(n) : m;
    }
    return NAMED_ENTITIES[lower] ?? m;
  });
}

/**
 * A plain-text rendering of an HTML body, for the text alternative: scripts and styles dropped,
 * block ends and `<br>` become line breaks, list items get "* ", links keep their URL, tags go,
 * entities are decoded.
 */
export function htmlToText(html: string): string {
  let t = html.replace(/\r\n?/g, '\n');
  t = t.replace(/<!--[\s\S]*?-->/g, '');
  t = t.replace(/<(script|style|head|title)\b[\s\S]*?<\/\1\s*>/gi, '');
  t = t.replace(/<a\b[^>]*?\bhref\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>([\s\S]*?)<\/a\s*>/gi, (_m, _q, d, s, u, inner: string) => {
    const href = decodeEntities(String(d ?? s ?? u ?? ''));
    const label = inner.replace(/<[^>]*>/g, '').trim();
    const labelText = decodeEntities(label);
    return !href || labelText === href || /^mailto:/i.test(href) ? label : `${label} (${href.replace(/[<>]/g, '')})`;
  });
  // whitespace in HTML source is not significant, except inside <pre>
  const parts = t.split(/(<pre\b[\s\S]*?<\/pre\s*>)/i);
  t = parts.map((p, i) => (i % 2 === 1 ? p : p.replace(/[ \t\n]+/g, ' '))).join('');
  t = t.replace(/<br\s*\/?>/gi, '\n');
  t = t.replace(/<li\b[^>]*>/gi, '\n* ');
  t = t.replace(/<\/(p|div|h[1-6]|ul|ol|table|tr|blockquote|pre|section|article|header|footer)\s*>/gi, '\n');
  t = t.replace(/<(p|div|h[1-6]|ul|ol|table|tr|blockquote|pre|section|article|header|footer|hr)\b[^>]*>/gi, '\n');
  t = t.replace(/<\/t[dh]\s*>/gi, '\t');
  t = t.replace(/<[^>]*>/g, '');
  t = decodeEntities(t);
  t = t
    .split('\n')
    .map((l) => l.replace(/[ \t]+$/g, '').replace(/^ +/, ''))
    .join('\n');
  return t.replace(/\n{3,}/g, '\n\n').trim();
}

/** One line, at most MAX_SUBJECT_CHARS characters. */
export function subjectLine(text: string): string {
  const one = text.replace(/\s*[\r\n]+\s*/g, ' ').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').trim();
  if (one.length <= MAX_SUBJECT_CHARS) return one;
  let cut = one.slice(0, MAX_SUBJECT_CHARS - 1);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + '…';
}

function booleanOf(config: Record<string, unknown>, name: string): boolean {
  const raw = config[name];
  if (raw === undefined || raw === null || raw === '') return false;
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(name, `${name} must be true or false, got ${JSON.stringify(raw).slice(0, 40)}`);
}

interface RecipientList {
  field: RecipientField;
  source: string;
  /** set when the list has no template: checked once, at deploy */
  fixed?: Mailbox[];
  template?: Template;
}

function label(field: RecipientField): string {
  return field === 'to' ? 'To' : field === 'cc' ? 'Cc' : 'Bcc';
}

function statusOf(sent: SmtpSent): number {
  return sent.status ?? 250;
}

/**
 * Builds the email channel of one `notifier-email` node. Throws ConfigError for bad settings
 * (missing To, an invalid fixed address, a template that does not compile).
 */
export function createEmailChannel(config: Record<string, unknown>, smtp: EmailSender, kit: TemplateKit): EmailChannel {
  const compile = (property: string, source: string): Template => {
    try {
      return kit.compile(source);
    } catch (err) {
      throw new ConfigError(property, `${property}: ${(err as Error).message}`);
    }
  };

  const lists: RecipientList[] = RECIPIENT_FIELDS.map((field) => {
    const source = textProperty(config, field).trim();
    if (!source) return { field, source };
    // `@` is OtterScript's list sigil, but "dev@corp.local" renders as itself: a list that renders
    // without any variable is fixed, and checked now
    let text = source;
    if (usesTemplate(source)) {
      const template = compile(field, source);
      try {
        text = template({});
      } catch {
        return { field, source, template };
      }
    }
    try {
      return { field, source, fixed: parseAddressList(text) };
    } catch (err) {
      throw new ConfigError(field, `${field}: ${(err as Error).message}`);
    }
  });
  const toList = lists[0]!;
  if (!toList.source || (toList.fixed && toList.fixed.length === 0)) {
    throw new ConfigError('to', 'to is required: one or more addresses separated by , or ; (e.g. devteam@corp.local)');
  }
  const subjectSource = textProperty(config, 'subject');
  const bodySource = textProperty(config, 'body');
  const subject = subjectSource.trim() ? compile('subject', subjectSource) : undefined;
  const body = bodySource.trim() ? compile('body', bodySource) : undefined;
  const html = booleanOf(config, 'html');
  const defaults = new DefaultTemplateCache(kit, (d) => ({ emailSubject: d.emailSubject, emailBody: d.emailBody }));
  const from = smtp.fromMailbox;

  const recipients = (list: RecipientList, vars: Vars): Mailbox[] => {
    if (list.fixed) return list.fixed;
    if (!list.template) return [];
    const rendered = list.template(vars);
    try {
      return parseAddressList(rendered);
    } catch (err) {
      if (err instanceof AddressError) throw new PrepareError('recipients', `${label(list.field)} (rendered from ${JSON.stringify(list.source.slice(0, 80))}): ${err.message}`);
      throw err;
    }
  };

  const driver: ChannelDriver = {
    channel: 'email',
    prepare(event: NotifierEvent): PreparedDispatch {
      const vars = event.vars;
      const [to, cc, bcc] = lists.map((l) => recipients(l, vars)) as [Mailbox[], Mailbox[], Mailbox[]];
      if (to.length === 0) {
        throw new PrepareError('recipients', `To is empty after rendering ${JSON.stringify(toList.source.slice(0, 80))}: no recipient to send to`);
      }
      const subjectText = subjectLine((subject ?? defaults.get(event.type, 'emailSubject'))(vars));
      let text: string;
      let htmlBody: string | undefined;
      if (!html) text = (body ?? defaults.get(event.type, 'emailBody'))(vars);
      else if (body) {
        htmlBody = body(escapeVars(vars));
        text = htmlToText(htmlBody);
      } else {
        text = defaults.get(event.type, 'emailBody')(vars);
        htmlBody = textToHtml(text);
      }
      const mail: SmtpMail = { from, to, cc, bcc, subject: subjectText, text, ...(htmlBody !== undefined ? { html: htmlBody } : {}) };
      const request = {
        method: 'SMTP',
        url: smtp.key,
        from: formatMailbox(from),
        to: to.map(formatMailbox),
        cc: cc.map(formatMailbox),
        bcc: bcc.map(formatMailbox),
        subject: subjectText,
        contentType: htmlBody !== undefined ? 'text/html' : 'text/plain',
        body: htmlBody ?? text,
      };
      return {
        key: smtp.key,
        request,
        attempt: async (ctx): Promise<AttemptResult> => {
          try {
            const sent = await smtp.send(mail, ctx.signal);
            const status = statusOf(sent);
            const response = {
              status,
              body: sent.response,
              ...(sent.messageId ? { messageId: sent.messageId } : {}),
              accepted: sent.accepted,
              rejected: sent.rejected,
            };
            return { kind: 'delivered', status, response };
          } catch (err) {
            return classifySmtpError(err, smtp.settings);
          }
        },
        classifyError: (err) => classifySmtpError(err, smtp.settings),
      };
    },
  };
  return {
    driver,
    // one SMTP server per node: a few messages at once (the pool has 3 connections); an attempt may
    // take connect + greeting + TLS + AUTH + DATA, so its timeout is longer than HTTP's
    engine: { concurrency: 3, policy: { timeoutMs: attemptTimeoutMs(smtp.timeouts) } },
    secrets: [],
  };
}
