/**
 * Regular expressions for `$MatchesRegex`, `$RegexReplace` and `@RegexFind`, run by RE2 (`re2js`, a
 * pure JavaScript port): matching time is linear in the length of the text whatever the pattern, so
 * event data cannot stall the runtime (no backtracking: `(a+)+b`, `(a|a)*b` are safe). What RE2
 * cannot run (backreferences, lookahead and lookbehind, atomic groups) is refused when the pattern
 * compiles, with the reason. Limits: the pattern is at most MAX_PATTERN_LENGTH characters, the text
 * at most MAX_REGEX_INPUT characters. .NET syntax handled: leading inline options `(?i)`, `(?m)`,
 * `(?s)`, `(?n)`; `\A`, `\z`, `\Z` anchors; `(?<name>…)` groups; `$1`, `${name}` in replacements.
 */
import { RE2JS } from 're2js';

export const MAX_PATTERN_LENGTH = 1024;
export const MAX_REGEX_INPUT = 64 * 1024;

export class RegexLimitError extends Error {}

/** A compiled pattern: the three operations OtterScript needs. */
export interface Regex {
  readonly source: string;
  test(text: string): boolean;
  /** Every match, as the whole match or the group named or numbered by `group`. */
  findAll(text: string, group: string | undefined, max: number): string[];
  /** Replaces every match; `$0`, `$1`, `${name}` and `$$` in `replacement` as .NET reads them; undefined past `max` characters. */
  replaceAll(text: string, replacement: string, max?: number): string | undefined;
}

const cache = new Map<string, Regex>();
const CACHE_SIZE = 200;

function unsupported(body: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\') {
      const next = body[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || next === 'k')) return 'backreferences (\\1, \\k<name>)';
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') inClass = true;
    else if (ch === '(' && body[i + 1] === '?') {
      const rest = body.slice(i + 2, i + 4);
      if (rest[0] === '=' || rest[0] === '!' || rest === '<=' || rest === '<!') return 'lookahead and lookbehind ((?=…), (?!…), (?<=…), (?<!…))';
      if (rest[0] === '>') return 'atomic groups ((?>…))';
    }
  }
  return undefined;
}

/** Compiles a .NET-style pattern for RE2; throws RegexLimitError with a clear reason. */
export function compileRegex(pattern: string): Regex {
  const hit = cache.get(pattern);
  if (hit) return hit;
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new RegexLimitError(`regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  let flags = 0;
  let body = pattern;
  const opts = /^\(\?([imsn]+)\)/.exec(body);
  if (opts) {
    for (const f of opts[1]!) {
      if (f === 'i') flags |= RE2JS.CASE_INSENSITIVE;
      else if (f === 'm') flags |= RE2JS.MULTILINE;
      else if (f === 's') flags |= RE2JS.DOTALL;
    }
    body = body.slice(opts[0].length);
  }
  const bad = unsupported(body);
  if (bad) throw new RegexLimitError(`${bad} are not supported in regular expressions here (they cannot run in linear time)`);
  // .NET anchors: \A = start of text; \z = end of text; \Z = end or before a final newline
  body = body.replace(/\\\\|\\A|\\[zZ]/g, (m) => (m === '\\A' ? '^' : m === '\\\\' ? m : m === '\\z' ? '\\z' : '(?:\\n?\\z)'));
  let re: RE2JS;
  try {
    re = RE2JS.compile(body, flags);
  } catch (err) {
    throw new RegexLimitError(`invalid regular expression: ${(err as Error).message.replace(/^error parsing regexp: /, '')}`);
  }
  const regex = wrap(pattern, re);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(pattern, regex);
  return regex;
}

function wrap(source: string, re: RE2JS): Regex {
  const group = (m: ReturnType<RE2JS['matcher']>, g: string): string | undefined => {
    try {
      return (/^\d+$/.test(g) ? m.group(Number(g)) : m.group(g)) ?? undefined;
    } catch {
      return undefined;
    }
  };
  return {
    source,
    test: (text) => re.matcher(text).find(),
    findAll(text, g, max) {
      const out: string[] = [];
      const m = re.matcher(text);
      while (m.find()) {
        out.push((g === undefined ? m.group() : group(m, g)) ?? '');
        if (out.length > max) break;
      }
      return out;
    },
    replaceAll(text, replacement, max = Infinity) {
      const m = re.matcher(text);
      let out = '';
      let last = 0;
      let any = false;
      while (m.find()) {
        any = true;
        out += text.slice(last, m.start());
        out += replacement.replace(/\$(\$|\d+|\{([A-Za-z_][A-Za-z0-9_]*|\d+)\})/g, (all, tok: string, name?: string) => {
          if (tok === '$') return '$';
          const v = group(m, name ?? tok);
          return v === undefined ? all : v;
        });
        last = m.end();
        if (out.length > max) return undefined;
      }
      return any ? out + text.slice(last) : text;
    },
  };
}

export function checkInput(text: string, what = 'text'): void {
  if (text.length > MAX_REGEX_INPUT) {
    throw new RegexLimitError(`${what} is longer than ${MAX_REGEX_INPUT / 1024} KiB, the limit for regular expressions`);
  }
}
