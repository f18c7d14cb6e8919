/**
 * Escaping per channel of the values templates output (package names, versions, user names, URLs are
 * chosen by whoever publishes a package): a value is shown as text, it can never become a Slack
 * mention or link, Teams markdown, or HTML markup, and a URL taken from a value keeps to http, https
 * (and mailto in email). The template's own text is left as written. Each escaper is handed to the
 * OtterScript compiler (`compile(source, { escape })`), which asks it, per value, how to escape it
 * given the literal text before the value.
 */
import type { OutputEscaper } from '../otterscript';

/** Escapes the three characters Slack's mrkdwn reserves (`&`, `<`, `>`): no mention, channel or link. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes `& < > " '` for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * Escapes what Teams (Adaptive Card TextBlock, MessageCard) reads as markdown: emphasis, links,
 * code, headings, HTML-like tags, and list markers at the start of a line. Backslash escapes, as
 * CommonMark.
 */
export function escapeTeamsMarkdown(s: string): string {
  return s.replace(/[\\`*_[\]()~#<>]/g, '\\$&').replace(/(^|\n)([ \t]*)([-+]|\d+\.)(?=[ \t]|$)/g, '$1$2\\$3');
}

/** Whether `url` starts with one of the schemes (`http:`…), ignoring leading spaces and case. */
export function hasScheme(url: string, schemes: readonly string[]): boolean {
  const m = /^\s*([a-z][a-z0-9+.-]*):/i.exec(url);
  return m !== null && schemes.includes(m[1]!.toLowerCase());
}

/** What an unsafe URL from a value becomes: a link that goes nowhere. */
export const UNSAFE_URL = 'about:invalid#unsafe-url';

const WEB = ['http', 'https'] as const;
const WEB_AND_MAIL = ['http', 'https', 'mailto'] as const;

/** Whether the literal text of a JSON template ends inside a string literal (an odd number of unescaped quotes). */
function inJsonString(before: string): boolean {
  if (!before.trimStart().startsWith('{')) return false;
  let inside = false;
  for (let i = 0; i < before.length; i++) {
    if (before[i] === '\\') i++;
    else if (before[i] === '"') inside = !inside;
  }
  return inside;
}

/**
 * Slack: values are mrkdwn-escaped; a value that starts a `<link|…>` must be an http(s) URL. In a
 * Block Kit template (a JSON object), a value inside a string literal is JSON-escaped too, so it
 * cannot close the string and add blocks or buttons.
 */
export const slackEscaper: OutputEscaper = {
  at(before) {
    const open = before.lastIndexOf('<');
    const inLink = open > before.lastIndexOf('>') && !before.slice(open).includes('|');
    let esc: (v: string) => string = escapeMrkdwn;
    if (inLink && before.slice(open + 1) === '') esc = (v) => (hasScheme(v, WEB) ? escapeMrkdwn(v).replace(/\|/g, '%7C') : UNSAFE_URL);
    else if (inLink) esc = (v) => escapeMrkdwn(v).replace(/\|/g, '%7C');
    if (!inJsonString(before)) return esc;
    const inner = esc;
    return (v) => JSON.stringify(inner(v)).slice(1, -1);
  },
};

/** Teams: values are markdown-escaped; a value that starts a `[…](url)` target must be an http(s) URL. */
export const teamsEscaper: OutputEscaper = {
  at(before) {
    const open = before.lastIndexOf('](');
    const inLink = open >= 0 && !before.slice(open + 2).includes(')');
    const encode = (v: string) => v.replace(/[()\s<>\\]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
    if (inLink && before.slice(open + 2) === '') return (v) => (hasScheme(v, WEB) ? encode(v) : UNSAFE_URL);
    if (inLink) return encode;
    return escapeTeamsMarkdown;
  },
};

/** Attributes whose value is a URL. */
const URL_ATTRIBUTES = new Set([
  'href',
  'src',
  'action',
  'formaction',
  'cite',
  'poster',
  'background',
  'xlink:href',
  'srcset',
  'data',
  'codebase',
  'longdesc',
  'usemap',
  'manifest',
]);
/** The attribute (name, quote, value so far) the literal text ends in, if any. */
const IN_ATTRIBUTE = /<[a-zA-Z][^<>]*?\s([^\s"'<>/=]+)\s*=\s*(?:"([^"]*)|'([^']*)|([^\s"'=<>`]*))$/;

/**
 * HTML email: values are HTML-escaped; in a URL attribute (`href`, `src`…) a value that starts the
 * URL must be http, https or mailto; a value in an event handler (`on…`) or `style` attribute is
 * dropped; in an unquoted attribute, spaces are escaped too. `$HtmlEncode`, `$UrlEncode` and
 * `$XmlEncode` results are already escaped and kept.
 */
export const htmlEscaper: OutputEscaper = {
  raw: new Set(['htmlencode', 'urlencode', 'xmlencode']),
  at(before) {
    const m = IN_ATTRIBUTE.exec(before.slice(-4096));
    if (!m) return escapeHtml;
    const name = m[1]!.toLowerCase();
    const quoted = m[4] === undefined;
    const prefix = m[2] ?? m[3] ?? m[4] ?? '';
    const esc = quoted ? escapeHtml : (v: string) => escapeHtml(v).replace(/[\s=`]/g, (c) => `&#${c.charCodeAt(0)};`);
    if (name.startsWith('on') || name === 'style') return () => '';
    if (URL_ATTRIBUTES.has(name) && prefix.trim() === '') return (v) => (hasScheme(v, WEB_AND_MAIL) ? esc(v) : UNSAFE_URL);
    return esc;
  },
};
