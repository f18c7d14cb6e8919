/**
 * The digest event: many events of one group as one normalized event of type `digest` (category `digest`), with
 * the variables templates and conditions read:
 * - `$GroupKey`, `$EventCount` (every event of the digest), `$OmittedCount` (counted, not listed);
 * - `@Events`: the listed events (at most `maxEvents`, and as many as fit the caps of one event), each a map of
 *   `Type` (code), `Label`, `OccurredAt`, `Summary` (one line), `Url` (a link into ProGet, or empty) and the
 *   event's own variables;
 * - `%CountsByType`: label → count, over every event;
 * - `$FirstOccurredAt`, `$LastOccurredAt`; `$FeedName` (and `msg.event.feed`) when every event has that one feed;
 *   `$WebBaseUrl` when every listed event has that one base URL.
 */
import { summarizeEvent } from '../dispatch';
import { getVar, normalizeEvent } from '../events';
import type { NotifierEvent, Value, Vars } from '../events';
import { MAX_TOTAL_VALUES, MAX_VALUE_DEPTH } from '../events/schemas';
import { truncateChars } from '../channels/limits';

/** Longest `Summary` of a listed event, and longest group key. */
export const MAX_SUMMARY_CHARS = 1000;

/** What a digest is made of: the listed events and a count of every event (listed or not). */
export interface DigestSummary {
  count: number;
  /** label → count */
  countsByType: Map<string, number>;
  first: string;
  last: string;
  /** the feeds seen (up to two: enough to know whether all share one); `noFeed` when an event had none */
  feeds: Set<string>;
  noFeed: boolean;
}

export function emptySummary(): DigestSummary {
  return { count: 0, countsByType: new Map(), first: '', last: '', feeds: new Set(), noFeed: false };
}

/** Counts `event` in `s`. */
export function countEvent(s: DigestSummary, event: NotifierEvent): void {
  s.count++;
  s.countsByType.set(event.label, (s.countsByType.get(event.label) ?? 0) + 1);
  if (!s.first || event.occurredAt < s.first) s.first = event.occurredAt;
  if (!s.last || event.occurredAt > s.last) s.last = event.occurredAt;
  if (event.feed === undefined) s.noFeed = true;
  else if (s.feeds.size < 2) s.feeds.add(event.feed);
}

/** Adds the counts of `b` to `a`. */
export function mergeSummary(a: DigestSummary, b: DigestSummary): void {
  a.count += b.count;
  for (const [k, n] of b.countsByType) a.countsByType.set(k, (a.countsByType.get(k) ?? 0) + n);
  if (b.first && (!a.first || b.first < a.first)) a.first = b.first;
  if (b.last && (!a.last || b.last > a.last)) a.last = b.last;
  a.noFeed ||= b.noFeed;
  for (const f of b.feeds) if (a.feeds.size < 2) a.feeds.add(f);
}

/** Values (list items and map keys, as normalizeEvent counts them) in `v`, and its nesting depth; without recursion. */
function measure(v: Value): { count: number; depth: number } {
  let count = 0;
  let depth = 0;
  const stack: Array<[Value, number]> = [[v, 0]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (typeof x === 'string') continue;
    depth = Math.max(depth, d + 1);
    const items = Array.isArray(x) ? x : Object.values(x);
    count += items.length;
    for (const i of items) if (typeof i !== 'string') stack.push([i, d + 1]);
  }
  return { count, depth };
}

function text(vars: Vars, name: string): string {
  const v = getVar(vars, name);
  return typeof v === 'string' ? v : '';
}

const GONE = new Set(['package.deleted', 'package.purged']);

/** A link into ProGet for one event (as the default single-event messages link), or '' without a web base URL. */
export function eventUrl(event: NotifierEvent): string {
  // an event of another system links where that system said (its $Url)
  if (event.category === 'other') return /^https?:\/\//i.test(text(event.vars, 'Url')) ? text(event.vars, 'Url') : '';
  const base = text(event.vars, 'WebBaseUrl').replace(/\/+$/, '');
  if (!/^https?:\/\//i.test(base)) return '';
  const enc = encodeURIComponent;
  const feed = event.feed ?? text(event.vars, 'FeedName');
  if (event.type === 'sca.build-issues-opened') {
    const build = text(event.vars, 'BuildId');
    return build ? `${base}/projects/build/issues?projectBuildId=${enc(build)}&resolved=Unresolved` : '';
  }
  if (!feed) return '';
  const feedUrl = `${base}/feeds/${enc(feed)}`;
  const pkg = text(event.vars, 'PackageId');
  const version = text(event.vars, 'PackageVersion');
  if (GONE.has(event.type) || event.type === 'sca.new-vulnerability' || !pkg || !version) return feedUrl;
  return `${feedUrl}/${enc(pkg)}/${enc(version)}`;
}

/**
 * The group key of `event` under a node's `groupBy` template: the rendered text, trimmed and cut to
 * MAX_SUMMARY_CHARS; the event type's label when the template names a variable the event lacks (or renders empty).
 */
export function digestGroupKey(groupBy: (vars: Vars) => string, event: NotifierEvent): string {
  let key: string;
  try {
    key = groupBy(event.vars);
  } catch {
    key = event.label;
  }
  key = key.trim();
  return truncateChars(key || event.label, MAX_SUMMARY_CHARS, '…');
}

/** The map of one event in `@Events`. */
export function digestItem(event: NotifierEvent): Record<string, Value> {
  return {
    ...event.vars,
    Type: event.type,
    Label: event.label,
    OccurredAt: event.occurredAt,
    Summary: truncateChars(summarizeEvent(event), MAX_SUMMARY_CHARS, '…'),
    Url: eventUrl(event),
  };
}

/** Values kept free for the digest's own variables and %CountsByType. */
const RESERVED_VALUES = 200;

/**
 * The digest of `listed` events (in order) and `summary` (every event, listed or not): a normalized, frozen
 * event. Lists at most `maxEvents`, and no more than the caps of one event allow (the rest are counted in
 * `$OmittedCount`).
 */
export function buildDigestEvent(
  groupKey: string,
  listed: readonly NotifierEvent[],
  summary: DigestSummary,
  options: { maxEvents: number; now: Date; id?: string },
): NotifierEvent {
  const items: Array<Record<string, Value>> = [];
  let budget = MAX_TOTAL_VALUES - RESERVED_VALUES - summary.countsByType.size;
  const bases = new Set<string>();
  for (const event of listed) {
    if (items.length >= options.maxEvents) break;
    const item = digestItem(event);
    const { count, depth } = measure(item);
    // an item sits two levels down (vars.Events[i]): one nested deeper than an event may be is counted, not listed
    if (depth + 2 > MAX_VALUE_DEPTH) continue;
    const cost = 1 + count;
    if (cost > budget) break;
    budget -= cost;
    items.push(item);
    if (bases.size < 2) bases.add(text(event.vars, 'WebBaseUrl'));
  }
  const counts: Record<string, string> = {};
  for (const [label, n] of [...summary.countsByType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) counts[label] = String(n);
  const vars: Record<string, Value> = {
    GroupKey: groupKey,
    EventCount: String(summary.count),
    Events: items,
    CountsByType: counts,
    FirstOccurredAt: summary.first,
    LastOccurredAt: summary.last,
    OmittedCount: String(Math.max(0, summary.count - items.length)),
    EventName: 'Digest',
    WebBaseUrl: bases.size === 1 ? [...bases][0]! : '',
  };
  if (!summary.noFeed && summary.feeds.size === 1) vars.FeedName = [...summary.feeds][0]!;
  return normalizeEvent(
    { type: 'digest', ...(options.id ? { id: options.id } : {}), occurredAt: options.now.toISOString(), vars },
    { allowDigest: true, source: 'input' },
  );
}

/**
 * `digest` shortened to fit `maxBytes` as JSON (the history keeps events up to a size): the first events stay
 * listed, the rest join `$OmittedCount`; `$EventCount` and `%CountsByType` are unchanged. Undefined when even an
 * empty list does not fit. Linear in the digest's size.
 */
export function shortenDigest(digest: NotifierEvent, maxBytes: number): { event: NotifierEvent; listed: number; was: number } | undefined {
  const items = Array.isArray(digest.vars.Events) ? digest.vars.Events : [];
  const omitted = Number(digest.vars.OmittedCount ?? 0) || 0;
  const bare: NotifierEvent = { ...digest, vars: { ...digest.vars, Events: [], OmittedCount: String(omitted + items.length) } };
  let size = Buffer.byteLength(JSON.stringify(bare));
  if (size > maxBytes) return undefined;
  let listed = 0;
  for (; listed < items.length; listed++) {
    const more = Buffer.byteLength(JSON.stringify(items[listed])) + 1;
    if (size + more > maxBytes) break;
    size += more;
  }
  const event: NotifierEvent = {
    ...digest,
    vars: { ...digest.vars, Events: items.slice(0, listed), OmittedCount: String(omitted + items.length - listed) },
  };
  return { event, listed, was: items.length };
}
