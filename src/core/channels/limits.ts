/** Visible truncation shared by the chat channels. */

export const TRUNCATED = '… (truncated)';

/** Cuts `text` to at most `max` characters (UTF-16 units, never inside a surrogate pair), ending with "… (truncated)". */
export function truncateChars(text: string, max: number, marker = TRUNCATED): string {
  if (text.length <= max) return text;
  if (max <= marker.length) return marker.slice(0, max);
  let cut = text.slice(0, max - marker.length);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + marker;
}

/** UTF-8 size of a value's JSON. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
