/**
 * `$ToJson` and `$FromJson`. ToJson writes maps as objects, lists as arrays and every scalar as a
 * JSON string (ProGet: `"score":"7.5"`), escaping like .NET's Utf8JsonWriter with its default
 * encoder: non-ASCII and the HTML-sensitive characters `< > & ' + \`` and `"` as `\uXXXX`.
 */
import { type MapValue, type Value, mapSet, norm } from './values';

export const MAX_JSON_DEPTH = 64;
export const MAX_FROM_JSON_LENGTH = 1024 * 1024;

export class JsonValueError extends Error {}

const NEEDS_ESCAPE = /[^\x20-\x7e]|["\\<>&'+`]/;
const HEX = '0123456789ABCDEF';

/** A JSON string literal for `s`, escaped as .NET's default JavaScriptEncoder does. */
export function jsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c >= 0x20 && c <= 0x7e) {
      if (c === 0x5c) esc = '\\\\';
      else if (c === 0x22 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x27 || c === 0x2b || c === 0x60) esc = unicodeEscape(c);
    } else if (c === 0x0a) esc = '\\n';
    else if (c === 0x0d) esc = '\\r';
    else if (c === 0x09) esc = '\\t';
    else if (c === 0x08) esc = '\\b';
    else if (c === 0x0c) esc = '\\f';
    else esc = unicodeEscape(c);
    if (esc !== undefined) {
      if (i > run) out += s.slice(run, i);
      out += esc;
      run = i + 1;
    }
  }
  if (run < s.length) out += s.slice(run);
  return out + '"';
}

function unicodeEscape(c: number): string {
  return '\\u' + HEX[(c >> 12) & 15] + HEX[(c >> 8) & 15] + HEX[(c >> 4) & 15] + HEX[c & 15];
}

/** Serializes an OtterScript value; throws JsonValueError when nested too deep (or circular). */
export function toJson(v: Value, depth = 0): string {
  if (typeof v === 'string') return jsonString(v);
  if (depth >= MAX_JSON_DEPTH) throw new JsonValueError(`value nested deeper than ${MAX_JSON_DEPTH} levels (or circular)`);
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i) out += ',';
      const item = v[i];
      out += toJson(typeof item === 'string' ? item : norm(item), depth + 1);
    }
    return out + ']';
  }
  let out = '{';
  let first = true;
  for (const key of Object.keys(v)) {
    const item = v[key];
    if (item === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += jsonString(key) + ':' + toJson(typeof item === 'string' ? item : norm(item), depth + 1);
  }
  return out + '}';
}

/** Parses JSON into OtterScript values: objects → maps, arrays → lists, everything else → text. */
export function fromJson(text: string): Value {
  if (text.length > MAX_FROM_JSON_LENGTH) throw new JsonValueError(`JSON text is longer than ${MAX_FROM_JSON_LENGTH / 1024} KiB`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new JsonValueError(`invalid JSON: ${(err as Error).message}`);
  }
  return convert(parsed, 0);
}

function convert(v: unknown, depth: number): Value {
  if (v === null) return '';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- not an object: JSON.parse gives a number or a boolean here
  if (typeof v !== 'object') return typeof v === 'string' ? v : String(v);
  if (depth >= MAX_JSON_DEPTH) throw new JsonValueError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(v)) return v.map((x) => convert(x, depth + 1));
  const out: MapValue = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) mapSet(out, k, convert(x, depth + 1));
  return out;
}
