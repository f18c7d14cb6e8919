/**
 * The grouping and timing of a notifier-digest node, on a Clock (tests use ManualClock) and a DigestGroups store.
 *
 * Each event goes to the group its `groupBy` key names (an event whose variables the template does not have groups
 * by its type). A group that is quiet (no digest in the last `interval`):
 * - `wait > 0`: the first event opens it; events are held for `wait`. When the wait ends, fewer than `threshold`
 *   events go on one by one, unchanged; `threshold` or more go on as one digest event.
 * - `wait = 0`: events pass through at once until `threshold` of them arrived within `interval` (a burst); from
 *   the `threshold`-th on they are held, until the end of that interval.
 * After a digest, the group waits `interval` before the next one: events arriving meanwhile are held (each at
 * least `wait`) and go when the interval ends, by the same rule. A digest lists at most `maxEvents` events and
 * counts the rest.
 *
 * Held events are in the store before `accept` resolves; they leave it once `deliver` has handed them on. A
 * restart loads the groups with their due times; those already due go at once. A failed hand-over is tried again
 * (at least once: a crash between the hand-over and the release repeats it).
 */
import type { Clock, TimerHandle } from '../delivery/clock';
import type { EventSource, NotifierEvent } from '../events';
import { SOURCE_SYSTEMS, isVia, normalizeEvent } from '../events';
import type { DigestGroups, GroupTiming, HeldEvent, StoredGroup } from '../store/types';
import type { DigestConfig } from './config';
import { buildDigestEvent, countEvent, digestGroupKey, emptySummary, mergeSummary } from './event';
import type { DigestSummary } from './event';

/** What a flush hands on: one digest, or the events one by one (with the other properties of their messages). */
export type FlushOutput =
  | { kind: 'digest'; event: NotifierEvent; count: number }
  | { kind: 'single'; events: Array<{ event: NotifierEvent; msg?: Record<string, unknown> }> };

export interface DigestSink {
  /** Hands `output` on; resolves once the flow has it (stored by the nodes after), rejects to have it tried again. */
  deliver(groupKey: string, output: FlushOutput): Promise<void>;
  /** A problem the node should report (a failed hand-over, a store write that failed after a flush). */
  problem?(message: string): void;
  /** The counts changed (for the status). */
  changed?(): void;
}

/** Delay before a failed hand-over is tried again. */
export const RETRY_DELAY_MS = 5000;

interface Held {
  seq: number;
  event: NotifierEvent;
  msg?: Record<string, unknown>;
}

interface Batch {
  listed: Held[];
  /** every event of the batch, listed or not */
  summary: DigestSummary;
  upTo: number;
}

interface Group {
  key: string;
  timing: GroupTiming;
  /** full events, oldest first (at most `keep`) */
  listed: Held[];
  /** every held event, listed or only counted */
  summary: DigestSummary;
  maxSeq: number;
  /** holds being written to the store */
  holds: Set<Promise<void>>;
  /** due, waiting for the holds that began before it to be written (they take part in the decision) */
  settling: boolean;
  timer: TimerHandle;
  flushing: boolean;
}

export interface DigestStats {
  groups: number;
  held: number;
}

/** An event read back from the store, checked again (its source and way of arrival kept). */
export function eventOf(raw: unknown): NotifierEvent | undefined {
  const { source, via } = (raw ?? {}) as { source?: unknown; via?: unknown };
  const known = isVia(source) || (SOURCE_SYSTEMS as readonly unknown[]).includes(source);
  try {
    return normalizeEvent(raw, { allowDigest: true, source: known ? (source as EventSource) : 'input', ...(isVia(via) ? { via } : {}) });
  } catch {
    return undefined;
  }
}

export class DigestEngine {
  private readonly groups = new Map<string, Group>();
  private seq = 0;
  private closed = false;
  private paused = false;
  /** events passed on through the node's life (for the status and tests) */
  readonly counters = { held: 0, digests: 0, singles: 0, passed: 0 };
  private readonly flushes = new Set<Promise<void>>();

  constructor(
    private readonly config: DigestConfig,
    private readonly store: DigestGroups,
    private readonly sink: DigestSink,
    private readonly clock: Clock,
  ) {}

  /** Full events kept per group: enough to list a digest, and to pass a short group on one by one. */
  private get keep(): number {
    return Math.max(this.config.maxEvents, this.config.threshold);
  }

  /**
   * Loads the stored groups and schedules them at their stored due times (`paused`: not before `resume`, so that
   * events still to be taken in join them first). Unreadable events are skipped (and counted).
   */
  async start(options: { paused?: boolean } = {}): Promise<{ groups: number; events: number; skipped: number }> {
    this.paused = options.paused === true;
    const stored: StoredGroup[] = await this.store.load();
    let events = 0;
    let skipped = 0;
    for (const s of stored) {
      const g = this.group(s.key);
      g.timing = { ...s.timing };
      for (const h of s.events) {
        this.seq = Math.max(this.seq, h.seq);
        const event = eventOf(h.event);
        if (!event) {
          // left in the store until the group's next release covers it
          skipped++;
          continue;
        }
        this.add(g, { seq: h.seq, event, ...(h.msg ? { msg: h.msg } : {}) });
        events++;
      }
      for (const h of s.events) g.maxSeq = Math.max(g.maxSeq, h.seq);
      this.schedule(g);
    }
    this.sink.changed?.();
    return { groups: stored.length, events, skipped };
  }

  /** The group key of `event` (its type's label when the template names a variable the event lacks). */
  groupKeyOf(event: NotifierEvent): string {
    return digestGroupKey(this.config.groupKey, event);
  }

  private group(key: string): Group {
    let g = this.groups.get(key);
    if (!g) {
      g = {
        key,
        timing: { dueAt: 0 },
        listed: [],
        summary: emptySummary(),
        maxSeq: 0,
        holds: new Set(),
        settling: false,
        timer: undefined,
        flushing: false,
      };
      this.groups.set(key, g);
    }
    return g;
  }

  private add(g: Group, h: Held): void {
    if (g.listed.length < this.keep) g.listed.push(h);
    countEvent(g.summary, h.event);
    g.maxSeq = Math.max(g.maxSeq, h.seq);
  }

  /**
   * Takes one event. `pass`: it goes on now, unchanged (the caller sends it); `held`: it is in the store, in its
   * group. Rejects (StoreUnavailableError; NotOwnerError when another instance took the groups) when the store could
   * not keep it: nothing was held. `consumes`: the forwarded event it is (it leaves the inbox when it is held).
   */
  async accept(event: NotifierEvent, msg?: Record<string, unknown>, consumes?: string): Promise<'held' | 'pass'> {
    if (this.closed) throw new Error('the digest node is stopping');
    // a digest passes through (no digest of digests)
    if (event.type === 'digest') return 'pass';
    const now = this.clock.now();
    const { waitMs, intervalMs, threshold } = this.config;
    const key = this.groupKeyOf(event);
    const g = this.group(key);
    const t = g.timing;
    const holding = g.summary.count + g.holds.size > 0 || g.flushing || g.settling;
    const cooldownEnd = t.lastDigestAt !== undefined ? t.lastDigestAt + intervalMs : 0;
    if (!holding) {
      if (now < cooldownEnd) t.dueAt = Math.max(cooldownEnd, now + waitMs);
      else if (waitMs > 0) t.dueAt = now + waitMs;
      else {
        if (t.windowStart === undefined || now >= t.windowStart + intervalMs) {
          t.windowStart = now;
          t.passed = 0;
        }
        t.dueAt = t.windowStart + intervalMs;
        if ((t.passed ?? 0) + 1 < threshold) {
          t.passed = (t.passed ?? 0) + 1;
          this.schedule(g);
          this.counters.passed++;
          // the count of this interval is kept so that a restart does not let a burst through
          await this.store.hold(key, [], { ...t });
          return 'pass';
        }
      }
    }
    const held: Held = { seq: ++this.seq, event, ...(msg ? { msg } : {}) };
    const written = this.store.hold(key, [{ seq: held.seq, at: now, event, ...(msg ? { msg } : {}) } satisfies HeldEvent], { ...t }, consumes);
    g.holds.add(written);
    try {
      await written;
    } finally {
      g.holds.delete(written);
    }
    this.add(g, held);
    this.counters.held++;
    this.schedule(g);
    this.sink.changed?.();
    return 'held';
  }

  /** Schedules every group (after `start({ paused: true })`). */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const g of this.groups.values()) this.schedule(g);
  }

  private schedule(g: Group): void {
    if (this.closed || this.paused || g.flushing || g.settling) return;
    if (g.timer !== undefined) this.clock.clearTimeout(g.timer);
    g.timer = this.clock.setTimeout(
      () => {
        g.timer = undefined;
        this.due(g);
      },
      Math.max(0, g.timing.dueAt - this.clock.now()),
    );
  }

  /** When a group is quiet again: after its interval since the last digest, and after the current pass-through interval. */
  private quietAt(g: Group): number {
    const t = g.timing;
    return Math.max(
      t.lastDigestAt !== undefined ? t.lastDigestAt + this.config.intervalMs : 0,
      t.windowStart !== undefined ? t.windowStart + this.config.intervalMs : 0,
    );
  }

  private due(g: Group): void {
    if (this.closed || g.flushing || g.settling) return;
    if (g.holds.size > 0) {
      // events that arrived before the due time and are still being written join this decision (a burst's first
      // write may take a while); later arrivals do not hold it up
      g.settling = true;
      void Promise.allSettled([...g.holds]).then(() => {
        g.settling = false;
        this.due(g);
      });
      return;
    }
    const now = this.clock.now();
    if (g.summary.count === 0) {
      if (now < this.quietAt(g)) {
        g.timing.dueAt = this.quietAt(g);
        this.schedule(g);
        return;
      }
      this.forget(g);
      return;
    }
    const batch: Batch = { listed: g.listed, summary: g.summary, upTo: g.maxSeq };
    g.listed = [];
    g.summary = emptySummary();
    const digest = batch.summary.count >= this.config.threshold;
    const before = { ...g.timing };
    if (digest) g.timing.lastDigestAt = now;
    const quiet = this.quietAt(g);
    g.timing.dueAt = quiet > now ? quiet : now;
    void this.flush(g, batch, digest, before);
  }

  /** A quiet, empty group leaves memory and the store. */
  private forget(g: Group): void {
    if (this.groups.get(g.key) === g) this.groups.delete(g.key);
    this.store.release(g.key, g.maxSeq, undefined).catch((err: Error) => this.sink.problem?.(`could not close group ${g.key}: ${err.message}`));
    this.sink.changed?.();
  }

  private flush(g: Group, batch: Batch, digest: boolean, before: GroupTiming): Promise<void> {
    g.flushing = true;
    const output = (): FlushOutput =>
      digest
        ? {
            kind: 'digest',
            count: batch.summary.count,
            event: buildDigestEvent(
              g.key,
              batch.listed.map((h) => h.event),
              batch.summary,
              { maxEvents: this.config.maxEvents, now: new Date(this.clock.now()) },
            ),
          }
        : { kind: 'single', events: batch.listed.map((h) => ({ event: h.event, ...(h.msg ? { msg: h.msg } : {}) })) };
    const p = Promise.resolve()
      .then(() => this.sink.deliver(g.key, output()))
      .then(
        async () => {
          if (digest) this.counters.digests++;
          else this.counters.singles += batch.listed.length;
          try {
            await this.store.release(g.key, batch.upTo, { ...g.timing });
          } catch (err) {
            // handed on but still stored: a restart hands it on again (at least once)
            this.sink.problem?.(`group ${g.key}: handed on, but the store could not record it: ${(err as Error).message}`);
          }
        },
        (err: Error) => {
          // back in front of what arrived meanwhile, tried again shortly
          this.sink.problem?.(`group ${g.key}: could not hand on ${batch.summary.count} event(s), trying again: ${err.message}`);
          const later = g.listed;
          const laterSummary = g.summary;
          g.listed = batch.listed;
          g.summary = batch.summary;
          for (const h of later) if (g.listed.length < this.keep) g.listed.push(h);
          mergeSummary(g.summary, laterSummary);
          g.timing = { ...before, dueAt: this.clock.now() + RETRY_DELAY_MS };
        },
      )
      .finally(() => {
        g.flushing = false;
        this.flushes.delete(p);
        this.schedule(g);
        this.sink.changed?.();
      });
    this.flushes.add(p);
    return p;
  }

  /** Hands on everything held now, whatever the timing (a removed node). Resolves when every hand-over settled. */
  async flushAll(): Promise<void> {
    await Promise.allSettled([...this.flushes, ...[...this.groups.values()].flatMap((g) => [...g.holds])]);
    for (const g of [...this.groups.values()]) {
      if (g.timer !== undefined) this.clock.clearTimeout(g.timer);
      g.timer = undefined;
      if (g.summary.count === 0) continue;
      const batch: Batch = { listed: g.listed, summary: g.summary, upTo: g.maxSeq };
      g.listed = [];
      g.summary = emptySummary();
      const before = { ...g.timing };
      await this.flush(g, batch, batch.summary.count >= this.config.threshold, before);
      if (g.timer !== undefined) this.clock.clearTimeout(g.timer);
      g.timer = undefined;
    }
  }

  stats(): DigestStats {
    let held = 0;
    let groups = 0;
    for (const g of this.groups.values()) {
      if (g.summary.count === 0 && !g.flushing) continue;
      groups++;
      held += g.summary.count;
    }
    return { groups, held };
  }

  /** Stops every timer and waits for hand-overs in progress; what is held stays in the store. */
  async close(): Promise<void> {
    this.closed = true;
    for (const g of this.groups.values()) {
      if (g.timer !== undefined) this.clock.clearTimeout(g.timer);
      g.timer = undefined;
    }
    await Promise.allSettled([...this.flushes]);
    for (const g of this.groups.values()) {
      if (g.timer !== undefined) this.clock.clearTimeout(g.timer);
      g.timer = undefined;
    }
  }
}
