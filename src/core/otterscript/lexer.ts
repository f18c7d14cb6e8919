/**
 * Lexical layer of the OtterScript engine.
 *
 * Templates are processed tags-first (as OtterScript's "full" template syntax is): `segmentTemplate`
 * cuts the source into text segments and `<% … %>` tags, honouring backtick escapes (`` <`% `` is
 * a literal `<%`). A tag alone on its line (only whitespace around it) is "standalone": its whole
 * line, indentation and line break included, produces no output, so that block tags written on
 * their own lines leave no blank lines behind.
 *
 * The character classes used by the parser (names, whitespace, swim-string sentinels) live here too.
 */
import { OtterScriptError } from './errors';

/** Longest template or predicate source accepted. */
export const MAX_SOURCE_LENGTH = 1024 * 1024;

export type Segment = { k: 'text'; start: number; end: number } | { k: 'tag'; start: number; end: number; innerStart: number; innerEnd: number };

const BACKTICK = 96; // `
const LT = 60; // <
const PERCENT = 37; // %
const GT = 62; // >
const NL = 10;

export function segmentTemplate(src: string): Segment[] {
  const tags: Array<{ start: number; end: number; innerStart: number; innerEnd: number }> = [];
  const n = src.length;
  let i = 0;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === BACKTICK) {
      i += 2;
      continue;
    }
    if (c === LT && src.charCodeAt(i + 1) === PERCENT) {
      const start = i;
      let j = i + 2;
      let end = -1;
      while (j < n) {
        const d = src.charCodeAt(j);
        if (d === BACKTICK) {
          j += 2;
          continue;
        }
        if (d === PERCENT && src.charCodeAt(j + 1) === GT) {
          end = j + 2;
          break;
        }
        if (d === LT && src.charCodeAt(j + 1) === PERCENT) break;
        j++;
      }
      if (end === -1) {
        throw new OtterScriptError('Tag "<%" is not closed with "%>" (write <`% for a literal "<%")', src, start);
      }
      tags.push({ start, end, innerStart: start + 2, innerEnd: end - 2 });
      i = end;
      continue;
    }
    i++;
  }

  // Standalone tags: the line holds only whitespace and this one tag.
  const cutBefore = new Array<number>(tags.length);
  const cutAfter = new Array<number>(tags.length);
  for (let t = 0; t < tags.length; t++) {
    const tag = tags[t]!;
    cutBefore[t] = tag.start;
    cutAfter[t] = tag.end;
    const prevEnd = t > 0 ? tags[t - 1]!.end : 0;
    const nextStart = t + 1 < tags.length ? tags[t + 1]!.start : n;
    let ls = tag.start;
    while (ls > prevEnd && isBlank(src.charCodeAt(ls - 1))) ls--;
    const atLineStart = ls === 0 || (ls - 1 >= prevEnd && src.charCodeAt(ls - 1) === NL);
    if (!atLineStart) continue;
    let le = tag.end;
    while (le < nextStart && (isBlank(src.charCodeAt(le)) || src.charCodeAt(le) === 13)) le++;
    const atLineEnd = le === n || (le < nextStart && src.charCodeAt(le) === NL);
    if (!atLineEnd) continue;
    cutBefore[t] = ls;
    cutAfter[t] = le < n ? le + 1 : le;
  }

  const segments: Segment[] = [];
  let pos = 0;
  for (let t = 0; t < tags.length; t++) {
    const tag = tags[t]!;
    const before = Math.max(pos, cutBefore[t]!);
    if (before > pos) segments.push({ k: 'text', start: pos, end: before });
    segments.push({ k: 'tag', ...tag });
    pos = Math.max(tag.end, cutAfter[t]!);
  }
  if (pos < n) segments.push({ k: 'text', start: pos, end: n });
  return segments;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

export function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12 || c === 0xa0 || c === 0xfeff;
}

export function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

export function isNameChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45;
}

/**
 * Reads a variable or function name at `i` (a letter, then letters, digits, `_` and `-`; a name
 * never ends with `-` or `_`). Returns the offset after the name, or `i` when there is none.
 */
export function scanName(src: string, i: number, end: number): number {
  if (i >= end || !isLetter(src.charCodeAt(i))) return i;
  let j = i + 1;
  while (j < end && isNameChar(src.charCodeAt(j))) j++;
  while (j > i + 1 && (src.charCodeAt(j - 1) === 45 || src.charCodeAt(j - 1) === 95)) j--;
  return j;
}

/** Reads a map key or dotted index name: letters, digits, `_` and `-`. */
export function scanKey(src: string, i: number, end: number): number {
  let j = i;
  while (j < end && isNameChar(src.charCodeAt(j))) j++;
  return j;
}

/**
 * A swim string starts with a fish sentinel: `>`, 0 to 5 characters other than `>` (and, here, no
 * whitespace, commas or parentheses), `>`. Returns the sentinel, or undefined.
 */
export function swimSentinel(src: string, i: number, end: number): string | undefined {
  if (src.charCodeAt(i) !== GT) return undefined;
  let j = i + 1;
  while (j < end && j <= i + 6) {
    const c = src.charCodeAt(j);
    if (c === GT) return src.slice(i, j + 1);
    if (isWs(c) || c === 44 || c === 40 || c === 41) return undefined;
    j++;
  }
  return undefined;
}
