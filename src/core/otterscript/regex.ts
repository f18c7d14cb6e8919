/**
 * Regular expressions for `$MatchesRegex`, `$RegexReplace` and `@RegexFind`, with limits so that
 * event data cannot stall the runtime: the pattern is at most MAX_PATTERN_LENGTH characters, the
 * text at most MAX_REGEX_INPUT characters, and patterns whose run time can explode are refused:
 * nested quantifiers such as `(a+)+` or `(\w*)*`, and backreferences. .NET syntax differences
 * handled: leading inline options `(?i)`, `(?m)`, `(?s)`, `(?x)`-free; `\A`, `\z`, `\Z` anchors.
 */

export const MAX_PATTERN_LENGTH = 1024;
export const MAX_REGEX_INPUT = 64 * 1024;

export class RegexLimitError extends Error {}

const cache = new Map<string, RegExp>();
const CACHE_SIZE = 200;

/** Compiles a .NET-style pattern into a JS RegExp; throws RegexLimitError with a clear reason. */
export function compileRegex(pattern: string, global = false): RegExp {
  const key = (global ? 'g:' : ':') + pattern;
  const hit = cache.get(key);
  if (hit) {
    hit.lastIndex = 0;
    return hit;
  }
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new RegexLimitError(`regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  let flags = global ? 'g' : '';
  let body = pattern;
  const opts = /^\(\?([imsn]+)\)/.exec(body);
  if (opts) {
    for (const f of opts[1]!) {
      if (f === 'n') continue;
      if (!flags.includes(f)) flags += f;
    }
    body = body.slice(opts[0].length);
  }
  body = body.replace(/\\\\|\\A|\\[zZ]/g, (m) => (m === '\\A' ? '^' : m === '\\\\' ? m : '$'));
  checkComplexity(body);
  let re: RegExp;
  try {
    re = new RegExp(body, flags);
  } catch (err) {
    throw new RegexLimitError(`invalid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, re);
  return re;
}

export function checkInput(text: string, what = 'text'): void {
  if (text.length > MAX_REGEX_INPUT) {
    throw new RegexLimitError(`${what} is longer than ${MAX_REGEX_INPUT / 1024} KiB, the limit for regular expressions`);
  }
}

/**
 * Refuses patterns with a quantified group that itself contains a quantifier (star height > 1),
 * and backreferences: the shapes that make backtracking exponential.
 */
function checkComplexity(p: string): void {
  // stack of groups: does the group contain an unbounded or repeated quantifier?
  const stack: boolean[] = [];
  let inClass = false;
  let lastGroupHadQuant = false;
  let lastWasGroupEnd = false;
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    if (ch === '\\') {
      const next = p[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || next === 'k')) {
        throw new RegexLimitError('backreferences (\\1, \\k<name>) are not allowed in regular expressions here');
      }
      i++;
      lastWasGroupEnd = false;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      lastWasGroupEnd = false;
      continue;
    }
    if (ch === '(') {
      stack.push(false);
      lastWasGroupEnd = false;
      continue;
    }
    if (ch === ')') {
      lastGroupHadQuant = stack.pop() ?? false;
      if (lastGroupHadQuant && stack.length) stack[stack.length - 1] = true;
      lastWasGroupEnd = true;
      continue;
    }
    const isQuant = ch === '*' || ch === '+' || (ch === '{' && /^\{\d*,?\d*\}/.test(p.slice(i)) && !/^\{\d+\}|^\{[01],?1?\}/.test(p.slice(i)));
    if (isQuant) {
      if (lastWasGroupEnd && lastGroupHadQuant) {
        throw new RegexLimitError('nested quantifiers such as (a+)+ can take exponential time and are not allowed in regular expressions here');
      }
      if (stack.length) stack[stack.length - 1] = true;
    }
    if (ch === '?' && lastWasGroupEnd) {
      // (x+)? is fine
    }
    lastWasGroupEnd = false;
  }
}
