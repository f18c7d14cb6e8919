/**
 * Behaviour of the .NET calls behind ProGet's functions: decimal parsing and comparison
 * (`decimal.TryParse`, `decimal.Compare`), culture-aware `string.Compare`, custom date formats,
 * `WebUtility.HtmlEncode`, `Uri.EscapeDataString`, `HttpUtility.JavaScriptStringEncode`, and the
 * arithmetic of `$Expr`.
 */

/** A parsed decimal: sign, integer digits without leading zeros, fraction digits without trailing zeros. */
export interface Dec {
  neg: boolean;
  int: string;
  frac: string;
}

const DEC_MAX = '79228162514264337593543950335';

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
}

/**
 * `decimal.TryParse` with the invariant culture (NumberStyles.Number: surrounding whitespace, a
 * leading sign, thousands separators, a decimal point): undefined when not a number. A hand-written
 * scanner, as it runs on every `$Compare` and `<`/`>` comparison.
 */
export function parseDecimal(s: string): Dec | undefined {
  const n = s.length;
  if (n === 0 || n > 100) return undefined;
  let i = 0;
  while (i < n && isSpace(s.charCodeAt(i))) i++;
  let end = n;
  while (end > i && isSpace(s.charCodeAt(end - 1))) end--;
  let neg = false;
  const c0 = s.charCodeAt(i);
  if (c0 === 45 || c0 === 43) {
    neg = c0 === 45;
    i++;
  }
  // integer part: digits and (after the first digit) commas
  const intStart = i;
  let int: string;
  let commas = false;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) i++;
    else if (c === 44 && i > intStart) {
      commas = true;
      i++;
    } else break;
  }
  const intEnd = i;
  let frac = '';
  let hasFrac = false;
  if (i < end && s.charCodeAt(i) === 46) {
    i++;
    const fracStart = i;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c >= 48 && c <= 57) i++;
      else break;
    }
    frac = s.slice(fracStart, i);
    hasFrac = true;
  }
  if (i !== end) return undefined;
  if (intEnd === intStart && frac === '') return undefined;
  if (intEnd === intStart && !hasFrac) return undefined;
  int = s.slice(intStart, intEnd);
  if (commas) int = int.replace(/,/g, '');
  let z = 0;
  while (z < int.length && int.charCodeAt(z) === 48) z++;
  if (z) int = int.slice(z);
  if (int.length > DEC_MAX.length || (int.length === DEC_MAX.length && int > DEC_MAX)) return undefined;
  let fe = frac.length;
  while (fe > 0 && frac.charCodeAt(fe - 1) === 48) fe--;
  if (fe !== frac.length) frac = frac.slice(0, fe);
  const zero = int === '' && frac === '';
  return { neg: !zero && neg, int, frac };
}

/** `decimal.Compare`. */
export function compareDecimal(a: Dec, b: Dec): number {
  if (a.neg !== b.neg) return a.neg ? -1 : 1;
  const sign = a.neg ? -1 : 1;
  if (a.int.length !== b.int.length) return (a.int.length < b.int.length ? -1 : 1) * sign;
  if (a.int !== b.int) return (a.int < b.int ? -1 : 1) * sign;
  if (a.frac === b.frac) return 0;
  const n = Math.max(a.frac.length, b.frac.length);
  const fa = a.frac.padEnd(n, '0');
  const fb = b.frac.padEnd(n, '0');
  return (fa < fb ? -1 : 1) * sign;
}

const collator = new Intl.Collator('en', { usage: 'sort', sensitivity: 'variant' });

/** `string.Compare(a, b)`: culture-aware, case-sensitive (lowercase sorts before uppercase). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const c = collator.compare(a, b);
  if (c !== 0) return c;
  return a < b ? -1 : 1; // strings the collation sees as equal but that differ
}

/** ProGet's `$Compare` rule: as numbers when both parse as decimals, else as strings. */
export function compareValues(a: string, b: string, bDec?: Dec | null): number {
  const da = parseDecimal(a);
  const db = bDec === undefined ? parseDecimal(b) : (bDec ?? undefined);
  if (da && db) return compareDecimal(da, db);
  return compareStrings(a, b);
}

// ---------------------------------------------------------------- integers and booleans

export function parseIntArg(s: string): number | undefined {
  if (!/^\s*[+-]?\d{1,10}\s*$/.test(s)) return undefined;
  const n = Number(s.trim());
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}

export function parseBoolArg(s: string): boolean | undefined {
  const t = s.trim().toLowerCase();
  return t === 'true' ? true : t === 'false' ? false : undefined;
}

/**
 * A boolean as OtterScript renders it: `true` / `false`. The functions return .NET booleans, but the
 * engine's values are text in lower case, so Inedo's idiom `$Compare(…) == true` (a case-sensitive ==) holds.
 */
export function scriptBool(b: boolean): string {
  return b ? 'true' : 'false';
}

// ---------------------------------------------------------------- encoders

/** `WebUtility.HtmlEncode`. */
export function htmlEncode(s: string): string {
  if (!/[<>&"'\u00a0-\u00ff\ud800-\udfff]/.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 60:
        out += '&lt;';
        break;
      case 62:
        out += '&gt;';
        break;
      case 38:
        out += '&amp;';
        break;
      case 34:
        out += '&quot;';
        break;
      case 39:
        out += '&#39;';
        break;
      default:
        if (c >= 0xa0 && c <= 0xff) out += `&#${c};`;
        else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
          const d = s.charCodeAt(i + 1);
          if (d >= 0xdc00 && d <= 0xdfff) {
            out += `&#${(c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000};`;
            i++;
          } else out += '\ufffd';
        } else if (c >= 0xd800 && c <= 0xdfff) out += '\ufffd';
        else out += s[i];
    }
  }
  return out;
}

/** `Uri.EscapeDataString`: everything but RFC 3986 unreserved characters is percent-encoded (UTF-8). */
export function urlEncode(s: string): string {
  return encodeURIComponent(wellFormed(s)).replace(/[!'()*]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase());
}

function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** XML escaping of the five special characters. */
export function xmlEncode(s: string): string {
  return s.replace(/[<>&"']/g, (ch) => (ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : ch === '&' ? '&amp;' : ch === '"' ? '&quot;' : '&apos;'));
}

/** `HttpUtility.JavaScriptStringEncode` (no surrounding quotes). */
export function jsEncode(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are the ones JavaScriptStringEncode escapes
  if (!/[\u0000-\u001f"\\'<>&\u0085\u2028\u2029]/.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = ch.charCodeAt(0);
    switch (ch) {
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\f':
        out += '\\f';
        break;
      default:
        if (c < 0x20 || ch === "'" || ch === '<' || ch === '>' || ch === '&' || c === 0x85 || c === 0x2028 || c === 0x2029) {
          out += '\\u' + c.toString(16).padStart(4, '0');
        } else out += ch;
    }
  }
  return out;
}

// ---------------------------------------------------------------- dates

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const STANDARD: Record<string, string> = {
  d: 'MM/dd/yyyy',
  D: 'dddd, dd MMMM yyyy',
  f: 'dddd, dd MMMM yyyy HH:mm',
  F: 'dddd, dd MMMM yyyy HH:mm:ss',
  g: 'MM/dd/yyyy HH:mm',
  G: 'MM/dd/yyyy HH:mm:ss',
  m: 'MMMM dd',
  M: 'MMMM dd',
  o: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  O: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  r: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  R: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  s: "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
  t: 'HH:mm',
  T: 'HH:mm:ss',
  u: "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
  y: 'yyyy MMMM',
  Y: 'yyyy MMMM',
};

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** Formats a date with a .NET date format string (invariant culture); `utc` picks the UTC fields. */
export function formatDate(date: Date, format: string, utc: boolean): string {
  let fmt = format;
  let asUtc = utc;
  if (fmt.length === 1) {
    const std = STANDARD[fmt];
    if (std === undefined) throw new Error(`"${fmt}" is not a date format`);
    if (fmt === 'r' || fmt === 'R' || fmt === 'u') asUtc = true;
    fmt = std;
  }
  const Y = asUtc ? date.getUTCFullYear() : date.getFullYear();
  const Mo = asUtc ? date.getUTCMonth() : date.getMonth();
  const D = asUtc ? date.getUTCDate() : date.getDate();
  const wd = asUtc ? date.getUTCDay() : date.getDay();
  const H = asUtc ? date.getUTCHours() : date.getHours();
  const Mi = asUtc ? date.getUTCMinutes() : date.getMinutes();
  const S = asUtc ? date.getUTCSeconds() : date.getSeconds();
  const ms = asUtc ? date.getUTCMilliseconds() : date.getMilliseconds();
  const offMin = asUtc ? 0 : -date.getTimezoneOffset();
  const offSign = offMin < 0 ? '-' : '+';
  const offAbs = Math.abs(offMin);
  let out = '';
  let i = 0;
  while (i < fmt.length) {
    const ch = fmt[i]!;
    if (ch === "'" || ch === '"') {
      const close = fmt.indexOf(ch, i + 1);
      if (close === -1) throw new Error('unclosed quote in the date format');
      out += fmt.slice(i + 1, close);
      i = close + 1;
      continue;
    }
    if (ch === '\\') {
      out += fmt[i + 1] ?? '';
      i += 2;
      continue;
    }
    if (ch === '%') {
      i++;
      continue;
    }
    let n = 1;
    while (fmt[i + n] === ch) n++;
    i += n;
    switch (ch) {
      case 'y':
        out += n === 2 ? pad(Y % 100, 2) : n === 1 ? String(Y % 100) : pad(Y, n);
        break;
      case 'M':
        out += n >= 4 ? MONTHS[Mo] : n === 3 ? MONTHS[Mo]!.slice(0, 3) : n === 2 ? pad(Mo + 1, 2) : String(Mo + 1);
        break;
      case 'd':
        out += n >= 4 ? DAYS[wd] : n === 3 ? DAYS[wd]!.slice(0, 3) : n === 2 ? pad(D, 2) : String(D);
        break;
      case 'H':
        out += n >= 2 ? pad(H, 2) : String(H);
        break;
      case 'h': {
        const h12 = H % 12 === 0 ? 12 : H % 12;
        out += n >= 2 ? pad(h12, 2) : String(h12);
        break;
      }
      case 'm':
        out += n >= 2 ? pad(Mi, 2) : String(Mi);
        break;
      case 's':
        out += n >= 2 ? pad(S, 2) : String(S);
        break;
      case 'f':
      case 'F': {
        if (n > 7) throw new Error('too many "f" in the date format');
        let frac = (pad(ms, 3) + '0000').slice(0, n);
        if (ch === 'F') frac = frac.replace(/0+$/, '');
        out += frac;
        break;
      }
      case 't':
        out += n >= 2 ? (H < 12 ? 'AM' : 'PM') : H < 12 ? 'A' : 'P';
        break;
      case 'z': {
        const hh = Math.floor(offAbs / 60);
        const mm = offAbs % 60;
        out += n >= 3 ? `${offSign}${pad(hh, 2)}:${pad(mm, 2)}` : n === 2 ? `${offSign}${pad(hh, 2)}` : `${offSign}${hh}`;
        break;
      }
      case 'K':
        out += asUtc ? 'Z' : `${offSign}${pad(Math.floor(offAbs / 60), 2)}:${pad(offAbs % 60, 2)}`;
        break;
      case 'g':
        out += 'A.D.';
        break;
      default:
        out += ch.repeat(n);
    }
  }
  return out;
}

// ---------------------------------------------------------------- $Expr

export const MAX_EXPR_LENGTH = 1000;

/** Evaluates `+ - * / %` arithmetic with parentheses over decimal numbers. */
export function evaluateArithmetic(text: string): number {
  if (text.length > MAX_EXPR_LENGTH) throw new Error(`expression longer than ${MAX_EXPR_LENGTH} characters`);
  let i = 0;
  let depth = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const primary = (): number => {
    ws();
    const ch = text[i];
    if (ch === '(') {
      if (++depth > 32) throw new Error('parentheses nested too deep');
      i++;
      const v = sum();
      ws();
      if (text[i] !== ')') throw new Error(`expected ")" at position ${i + 1}`);
      i++;
      depth--;
      return v;
    }
    if (ch === '-' || ch === '+') {
      if (++depth > 32) throw new Error('too many signs');
      i++;
      const v = primary();
      depth--;
      return ch === '-' ? -v : v;
    }
    const m = /^\d+(?:\.\d*)?|^\.\d+/.exec(text.slice(i));
    if (!m) throw new Error(ch === undefined ? 'expected a number at the end' : `expected a number at position ${i + 1}, found "${ch}"`);
    i += m[0].length;
    return Number(m[0]);
  };
  const product = (): number => {
    let v = primary();
    for (;;) {
      ws();
      const op = text[i];
      if (op !== '*' && op !== '/' && op !== '%') return v;
      i++;
      const r = primary();
      if ((op === '/' || op === '%') && r === 0) throw new Error('division by zero');
      v = op === '*' ? v * r : op === '/' ? v / r : v % r;
    }
  };
  const sum = (): number => {
    let v = product();
    for (;;) {
      ws();
      const op = text[i];
      if (op !== '+' && op !== '-') return v;
      i++;
      const r = product();
      v = op === '+' ? v + r : v - r;
    }
  };
  const v = sum();
  ws();
  if (i < text.length) throw new Error(`unexpected "${text[i]}" at position ${i + 1}`);
  if (!Number.isFinite(v)) throw new Error('result out of range');
  return v;
}

export function formatNumber(n: number): string {
  if (Object.is(n, -0)) return '0';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const s = n.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 });
  return s;
}
