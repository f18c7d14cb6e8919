/**
 * Custom webhook headers: one `Name: value` per line (ProGet), or the legacy `Name=value`. Names are
 * literal HTTP tokens; values are OtterScript templates. Anything that could split a header (CR, LF,
 * NUL, the OtterScript escapes `` `r `` and `` `n ``) is refused at deploy, and a rendered value that
 * still contains one (from a variable) fails the dispatch without sending it.
 */
import { ConfigError } from '../delivery/config';

export interface HeaderLine {
  /** 1-based line number in the headers text */
  line: number;
  name: string;
  /** the value's template source */
  value: string;
}

const TOKEN = /^[!#%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers that control message framing; the transport sets them. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer']);

export function parseHeaderLines(text: string, property = 'headers'): HeaderLine[] {
  const out: HeaderLine[] = [];
  if (!text) return out;
  if (/\r(?!\n)/.test(text)) {
    const line = text.slice(0, text.search(/\r(?!\n)/)).split('\n').length;
    throw new ConfigError(property, `${property} line ${line}: a carriage return (CR) inside a line is refused (it could inject a header)`);
  }
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    // eslint-disable-next-line no-control-regex -- control characters in a header line are refused on purpose
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(raw)) {
      throw new ConfigError(property, `${property} line ${line}: control characters are not allowed in headers`);
    }
    const colon = raw.indexOf(':');
    const equals = raw.indexOf('=');
    const sep = colon < 0 ? equals : equals < 0 ? colon : Math.min(colon, equals);
    if (sep < 0) {
      throw new ConfigError(property, `${property} line ${line}: expected "Name: value" (or the legacy "Name=value")`);
    }
    const name = raw.slice(0, sep).trim();
    const value = raw.slice(sep + 1).trim();
    if (name === '') throw new ConfigError(property, `${property} line ${line}: the header name is empty`);
    if (name.includes('$') || name.includes('@')) {
      throw new ConfigError(property, `${property} line ${line}: header names are literal and cannot use variables ("${name.slice(0, 60)}")`);
    }
    if (!TOKEN.test(name)) {
      throw new ConfigError(
        property,
        `${property} line ${line}: "${name.slice(0, 60)}" is not a valid header name (letters, digits and !#%&'*+.^_\`|~- only)`,
      );
    }
    if (FRAMING.has(name.toLowerCase())) {
      throw new ConfigError(property, `${property} line ${line}: ${name} is set by the transport and cannot be given`);
    }
    if (/`[rn0]/i.test(value.replace(/``/g, ''))) {
      throw new ConfigError(
        property,
        `${property} line ${line}: the escapes \`r and \`n would put a line break in header ${name} (header injection); refused`,
      );
    }
    const prev = seen.get(name.toLowerCase());
    if (prev !== undefined) {
      throw new ConfigError(property, `${property} line ${line}: header ${name} is already given on line ${prev}`);
    }
    seen.set(name.toLowerCase(), line);
    out.push({ line, name, value });
  });
  return out;
}

/** Checks a rendered header value; returns an error message, or undefined when it is fine. */
export function checkHeaderValue(name: string, value: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- a NUL in a header value is refused on purpose
  if (/[\r\n\u0000]/.test(value)) {
    return `header ${name}: the rendered value contains a line break or NUL (from a variable); refused to prevent header injection`;
  }
  if (/[^\t\u0020-\u007e\u0080-\u00ff]/.test(value)) {
    return `header ${name}: the rendered value contains characters not allowed in HTTP headers (control characters or non-Latin-1); encode it, e.g. with $UrlEncode`;
  }
  return undefined;
}
