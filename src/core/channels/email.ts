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
import type { NotifierEvent, Vars } from '../events';
import { ConfigError, textProperty } from '../delivery/config';
import type { ChannelDriver, PreparedDispatch } from '../delivery/dispatcher';
import { PrepareError } from '../delivery/dispatcher';
import type { AttemptResult, EngineOptions } from '../delivery/engine';
import { AddressError, formatMailbox, parseAddressList, type Mailbox } from './smtp-address';
import { SmtpClient, classifySmtpError, type SmtpMail, type SmtpSent } from './smtp';
import { escapeHtml, htmlEscaper } from './escape';
import { digestEmail } from './digest';
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

export { escapeHtml };

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
  const one = text
    .replace(/\s*[\r\n]+\s*/g, ' ')
    // eslint-disable-next-line no-control-regex -- strips control characters from the subject on purpose
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .trim();
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
  /** each address slot, in order: `fixed` when it needs no variable (checked once, at deploy), else
   * its `template`, which must render to exactly one address */
  slots: Array<{ source: string; fixed?: Mailbox[]; template?: Template }>;
  /** every slot is fixed: the list itself */
  fixed?: Mailbox[];
}

/**
 * Splits a To/Cc/Bcc template into its address slots: at `,`, `;` and line breaks outside quotes,
 * angle brackets and function-call parentheses (`$Coalesce($a, $b)@corp.local` is one slot).
 */
export function addressSlots(source: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (quoted) {
      cur += c;
      if (c === '\\' && i + 1 < source.length) cur += source[++i];
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '`' && i + 1 < source.length) {
      cur += c + source[++i];
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '<') angle = true;
    else if (c === '>') angle = false;
    else if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if ((c === ',' || c === ';' || c === '\n') && !angle && depth === 0) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** The mailboxes, each address once (any case), in order. */
function dedupe(list: Mailbox[]): Mailbox[] {
  const seen = new Set<string>();
  return list.filter((m) => {
    const key = m.address.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
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
    const list: RecipientList = { field, source, slots: [] };
    for (const slot of addressSlots(source)) {
      // `@` is OtterScript's list sigil, but "dev@corp.local" renders as itself: a slot that renders
      // without any variable is fixed, and checked now
      let text = slot;
      if (usesTemplate(slot)) {
        const template = compile(field, slot);
        try {
          text = template({});
        } catch {
          list.slots.push({ source: slot, template });
          continue;
        }
      }
      try {
        list.slots.push({ source: slot, fixed: parseAddressList(text) });
      } catch (err) {
        throw new ConfigError(field, `${field}: ${(err as Error).message}`);
      }
    }
    if (list.slots.every((x) => x.fixed)) list.fixed = dedupe(list.slots.flatMap((x) => x.fixed!));
    return list;
  });
  const toList = lists[0]!;
  if (toList.fixed?.length === 0) {
    throw new ConfigError('to', 'to is required: one or more addresses separated by , or ; (e.g. devteam@corp.local)');
  }
  const subjectSource = textProperty(config, 'subject');
  const bodySource = textProperty(config, 'body');
  const subject = subjectSource.trim() ? compile('subject', subjectSource) : undefined;
  const html = booleanOf(config, 'html');
  // in HTML mode every value the body outputs is HTML-escaped (URL attributes: http, https, mailto only)
  let body: Template | undefined;
  if (bodySource.trim()) {
    try {
      body = kit.compile(bodySource, html ? { escape: htmlEscaper } : undefined);
    } catch (err) {
      throw new ConfigError('body', `body: ${(err as Error).message}`);
    }
  }
  const defaults = new DefaultTemplateCache(kit, (d) => ({ emailSubject: d.emailSubject, emailBody: d.emailBody }));
  const from = smtp.fromMailbox;

  const recipients = (list: RecipientList, vars: Vars): Mailbox[] => {
    if (list.fixed) return list.fixed;
    const out: Mailbox[] = [];
    for (const slot of list.slots) {
      if (slot.fixed) {
        out.push(...slot.fixed);
        continue;
      }
      const rendered = slot.template!(vars);
      let found: Mailbox[] | undefined;
      try {
        found = parseAddressList(rendered);
      } catch (err) {
        if (!(err instanceof AddressError)) throw err;
        if (addressSlots(rendered).length <= 1) {
          throw new PrepareError('recipients', `${label(list.field)} (rendered from ${JSON.stringify(slot.source.slice(0, 80))}): ${err.message}`);
        }
      }
      // a value can never add a recipient: each address written with variables is one address
      if (found === undefined || found.length > 1) {
        throw new PrepareError(
          'bad_recipient',
          `${label(list.field)}: ${JSON.stringify(slot.source.slice(0, 80))} rendered to more than one address (${JSON.stringify(rendered.slice(0, 120))}); a variable value cannot add recipients`,
        );
      }
      out.push(...found);
    }
    return dedupe(out);
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
      if (!body && event.type === 'digest') {
        // a digest reads best as a list and a table: both, whatever `html` says
        ({ text, html: htmlBody } = digestEmail(event));
      } else if (!html) text = (body ?? defaults.get(event.type, 'emailBody'))(vars);
      else if (body) {
        htmlBody = body(vars);
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
