/**
 * The store behind durable delivery: one interface for the outbox of every output node, the event ids already
 * accepted (de-duplication), the open groups of every digest node and, through `history`, the dispatch history.
 * `file` (journals under the Node-RED user directory) is the default; `redis` (./redis-store.ts) is shared by several
 * Node-RED instances. Reads that the file store answers from memory answer a `MaybePromise` (the Redis store asks the
 * server): callers always `await` them.
 */
import type { AttemptLogEntry, DispatchRecord } from '../dispatch';
import type { HistoryEntry, KeepOptions, NotifierSummary, RecordPage } from '../history/types';

/** A value, or a promise of it: what the file store knows at once, the Redis store has to ask for. */
export type MaybePromise<T> = T | Promise<T>;

/** Every failure of a store to keep what it was given: the caller must not report the work as stored. */
export class StoreUnavailableError extends Error {
  readonly code: string = 'store_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * A write to digest groups that another instance now runs (a shared store: its lease went to another instance).
 * Nothing was written; the caller hands the event to the instance that owns the groups instead.
 */
export class NotOwnerError extends Error {
  readonly code: string = 'not_owner';
  constructor(message: string) {
    super(message);
    this.name = 'NotOwnerError';
  }
}

/** The outbox is at its bound (`maxItems` or `maxBytes`): nothing more is accepted until it drains. */
export class StoreFullError extends StoreUnavailableError {
  override readonly code = 'queue_full';
  constructor(message: string) {
    super(message);
    this.name = 'StoreFullError';
  }
}

/** A dispatch to store: the event it sends (JSON) and what the flow's message carried besides. */
export interface NewOutboxEntry {
  /** the dispatch id: its delivery id for every attempt, across restarts */
  id: string;
  /** the normalized event (plain JSON) */
  event: unknown;
  /** other properties of the message that brought it (plain JSON), given back with the result */
  msg?: Record<string, unknown>;
  /** when it was accepted (ms since the epoch) */
  createdAt: number;
  /** set when this dispatch re-sends a history record */
  redeliveryOf?: string;
}

/** A stored dispatch as the output node works on it. */
export interface OutboxEntry extends NewOutboxEntry {
  /** attempts made so far (0 for a new dispatch) */
  attempts: number;
  attemptLog: AttemptLogEntry[];
  /** when the next attempt is due (ms since the epoch); 0 = now */
  dueAt: number;
  /** set once the dispatch has its result: the record still has to reach the flow (then `ack`) */
  record?: DispatchRecord;
}

export interface OutboxStats {
  /** dispatches stored and not yet finished (including those whose result waits to reach the flow) */
  pending: number;
  /** bytes the outbox takes in the store */
  bytes: number;
  /** of `pending`, how many are held in memory now */
  inMemory: number;
}

/**
 * The outbox of one output node. Entries are durable once `add` resolves. The node takes entries (`take`) to deliver
 * them, records retries (`retryAt`) and results (`settle`), and removes an entry (`ack`) once its result reached the
 * flow. Memory holds a bounded window of entries; the rest waits in the store and is loaded as the window drains
 * (`onAvailable` tells when there is more to take).
 */
export interface Outbox {
  readonly id: string;
  /** why the last write or read failed, while the outbox is failing */
  readonly problem: string | undefined;
  /** the owner given when the outbox was last opened with one */
  readonly owner: Record<string, string>;
  add(entries: NewOutboxEntry[]): Promise<void>;
  /**
   * Up to `max` entries not taken yet, oldest first (each is given out once per open outbox). A shared store gives
   * out only entries that are due and not claimed by another instance, and claims them (a lease, renewed while the
   * outbox holds them: until `ack`, or `close`, which gives them back).
   */
  take(max: number): MaybePromise<OutboxEntry[]>;
  /** Registers the callback told when new entries can be taken. */
  onAvailable(callback: () => void): void;
  /**
   * A shared outbox: registers the callback told the result of a redelivery settled by any instance (the one that
   * asked for it waits for it, whichever instance delivered it).
   */
  onResult?(callback: (id: string, record: DispatchRecord) => void): void;
  retryAt(id: string, attempts: number, attemptLog: AttemptLogEntry[], dueAt: number): Promise<void>;
  settle(id: string, record: DispatchRecord): Promise<void>;
  ack(id: string): Promise<void>;
  stats(): OutboxStats;
  /** Every pending entry (loaded or not), oldest first; for a node that was removed. */
  drain(): AsyncIterable<OutboxEntry>;
  /** Removes the outbox and everything in it. */
  destroy(): Promise<void>;
  /** Waits for pending writes and closes; entries not finished stay stored for the next open. */
  close(): Promise<void>;
}

/** What `SeenIds.claim` found: the id was accepted, another instance is handling it, or it is now the caller's. */
export type SeenClaim = 'seen' | 'busy' | 'claimed';

/** Event ids already accepted, kept for a window so that a repeat is not emitted twice. */
export interface SeenIds {
  /** true when `id` was accepted within the window */
  has(id: string): MaybePromise<boolean>;
  /** Records `id` as accepted (durable once resolved); gives up the caller's claim of it, if any. */
  add(id: string): Promise<void>;
  /**
   * A store shared by several instances: checks and claims `id` in one step, so that a delivery arriving at two
   * instances at once is handled by one. 'seen': accepted within the window (a repeat); 'busy': another caller
   * claimed it and has neither added nor given it up (its claim lapses after the `ttlMs` it gave); 'claimed': the
   * caller's now, until it calls `add` (accepted) or `unclaim` (not accepted: a retry may go through at once), or
   * `ttlMs` passed (a caller that died blocks the id no longer). Absent (the file store: one process, whose own
   * requests the event node already serializes): `has` then `add`.
   */
  claim?(id: string, ttlMs: number): Promise<SeenClaim>;
  /** Gives up the caller's claim of `id` (nothing when it holds none, or it lapsed). */
  unclaim?(id: string): Promise<void>;
  readonly size: number;
}

export interface OutboxOptions {
  /** who owns the outbox (e.g. the node's name and channel), kept with it for when the node is gone */
  owner?: Record<string, string>;
  /** dispatches held in memory at most (the rest waits in the store) */
  windowItems?: number;
  windowBytes?: number;
}

/** The dispatch history as the store keeps it: the last `limit` records per notifier (see src/core/history). */
export interface HistoryBackend {
  whenReady(): Promise<void>;
  keep(dispatch: unknown, event?: unknown, options?: KeepOptions): Promise<HistoryEntry>;
  setLimit(keptBy: string, limit: number): Promise<number>;
  clear(notifierId: string): Promise<number>;
  listNotifiers(): MaybePromise<NotifierSummary[]>;
  getNotifier(notifierId: string): MaybePromise<NotifierSummary | undefined>;
  getRecords(notifierId: string, page?: { offset?: number; limit?: number }): MaybePromise<RecordPage | undefined>;
  getRecord(notifierId: string, recordId: string): MaybePromise<HistoryEntry | undefined>;
  findNotifiers(nameOrId: string): MaybePromise<string[]>;
  notifiersKeptBy(keptBy: string): MaybePromise<NotifierSummary[]>;
  /** Sets the warning callback (damaged lines skipped, events too large to keep). */
  setWarn?(warn: (message: string) => void): void;
  /**
   * A shared history tells every instance about a change (`broadcast`, and `onUpdate` in each instance, including
   * the one that broadcast it): the runtime relays it to its editors. Absent: the change is only local.
   */
  broadcast?(update: Record<string, unknown>): void;
  onUpdate?(listener: (update: Record<string, unknown>) => void): () => void;
}

/**
 * The attempts per destination shared by every instance of a shared store: the rate limit (`ratePerSecond` of a
 * lane becomes one spacing for all) and the pauses a server asked for (`Retry-After`). The delivery engine's gate.
 */
export type { SharedGate as RateGate } from '../delivery/engine';
import type { SharedGate as RateGate } from '../delivery/engine';

export interface NotifierStore {
  readonly type: string;
  /**
   * The dispatch history. Give it back with `releaseHistory` (the file store shares one history per directory in a
   * process, counted by reference).
   */
  history(): HistoryBackend;
  releaseHistory(history: HistoryBackend): Promise<void>;
  /** Resolves once the store can be used; rejects with StoreUnavailableError otherwise. */
  whenReady(): Promise<void>;
  /** The outbox of output node `nodeId` (one open at a time per node; opening waits for the previous close). */
  openOutbox(nodeId: string, options?: OutboxOptions): Promise<Outbox>;
  /** Ids of outboxes that hold pending dispatches (e.g. of nodes removed while the runtime was down). */
  outboxIds(): Promise<string[]>;
  seenIds(): Promise<SeenIds>;
  /** The digest groups of notifier-digest node `nodeId` (one open at a time per node; opening waits for the previous close). */
  openGroups(nodeId: string, options?: GroupsOptions): Promise<DigestGroups>;
  /** Ids of digest nodes that have groups stored (e.g. of nodes removed while the runtime was down). */
  groupsIds(): Promise<string[]>;
  /** A readable, writable check of the store (answers why not, or undefined when it is healthy). */
  problem(): string | undefined;
  /** Present on a store shared by several instances: the per-destination limits they share. */
  rateGate?(): RateGate;
  close(): Promise<void>;
}

export interface StoreLimits {
  /** dispatches stored at most, over all outboxes (default 1,000,000) */
  maxItems: number;
  /** bytes of stored dispatches at most, over all outboxes (default 1 GiB) */
  maxBytes: number;
}

export const DEFAULT_STORE_LIMITS: Readonly<StoreLimits> = Object.freeze({ maxItems: 1_000_000, maxBytes: 1024 * 1024 * 1024 });

// ---- digest groups ---------------------------------------------------------------------------------------------

/** The timing of one digest group (all times in ms since the epoch), stored with it so that a restart keeps it. */
export interface GroupTiming {
  /** when the group is next looked at: its held events go on, or (none held) it is forgotten */
  dueAt: number;
  /** when its last digest went out (no second digest before `lastDigestAt + interval`) */
  lastDigestAt?: number;
  /** `wait: 0`: when the current interval began, and how many events passed through in it */
  windowStart?: number;
  passed?: number;
}

/** One event held in a group. `seq` rises with every event the node holds (over all its groups). */
export interface HeldEvent {
  seq: number;
  /** when it was held */
  at: number;
  /** the normalized event (plain JSON) */
  event: unknown;
  /** other properties of the message that brought it (plain JSON), given back when it passes on alone */
  msg?: Record<string, unknown>;
}

export interface StoredGroup {
  key: string;
  timing: GroupTiming;
  /** held and not released, by `seq` */
  events: HeldEvent[];
}

/**
 * The open groups of one notifier-digest node. Everything is durable once the promise resolves; a rejection is a
 * StoreUnavailableError (nothing was kept: the caller must not report the events as held). Calls are applied in
 * the order they are made. Nothing here names a file: a shared store (Redis) implements the same.
 */
export interface DigestGroups {
  readonly id: string;
  /** why the last write failed, while the groups are failing */
  readonly problem: string | undefined;
  /** Every group with its held events and timing, as stored (read when the node starts). */
  load(): Promise<StoredGroup[]>;
  /**
   * Adds `events` to group `key` (created if new) and sets its timing. `consumes`: the forwarded event (an id from
   * `shared.inbox`) these events are, which leaves the inbox in the same write.
   */
  hold(key: string, events: HeldEvent[], timing: GroupTiming, consumes?: string): Promise<void>;
  /**
   * The events of group `key` with `seq <= upTo` went on (pass `upTo` 0 to release none): they leave the store.
   * `timing` is the group's new timing; undefined closes the group (it must hold nothing newer).
   */
  release(key: string, upTo: number, timing: GroupTiming | undefined): Promise<void>;
  /** Removes every group of the node. */
  destroy(): Promise<void>;
  /** Waits for pending writes and closes; what is held stays stored for the node's next start. */
  close(): Promise<void>;
  /**
   * Present when several instances share the groups (Redis): one instance at a time owns them (a lease), runs the
   * timing and hands digests on; the others forward what they receive to it. Without it, this instance owns them.
   */
  readonly shared?: SharedGroups;
}

/** A held event forwarded to the instance that owns the groups, as stored. */
export interface ForwardedEvent {
  id: string;
  /** the normalized event (plain JSON); undefined when the stored entry could not be read */
  event: unknown;
  msg?: Record<string, unknown>;
}

/**
 * The ownership of a node's groups among the instances sharing a store. Writes to the groups (`hold`, `release`,
 * `destroy`) are refused with NotOwnerError unless this instance owns them.
 */
export interface SharedGroups {
  /** how long ownership lasts without a renewal */
  readonly leaseMs: number;
  /**
   * Takes or renews ownership: `owner` (renewed), `acquired` (this instance just became the owner: load the groups
   * afresh, another may have changed them), `other` (another instance owns them).
   */
  claim(): Promise<'owner' | 'acquired' | 'other'>;
  /** Gives ownership up (the others are told at once). */
  resign(): Promise<void>;
  /** Stores an event for the owner (durable once resolved). */
  forward(event: unknown, msg?: Record<string, unknown>): Promise<void>;
  /** Forwarded events not yet taken in, oldest first. */
  inbox(max: number): Promise<ForwardedEvent[]>;
  /** A forwarded event was taken care of (handed on, or unreadable). */
  ack(id: string): Promise<void>;
  /** Called when an event was forwarded, or the owner resigned (for any instance). */
  onChange(listener: (what: 'forwarded' | 'resigned') => void): void;
}

export interface GroupsOptions {
  /** who owns the groups (e.g. the node's name), kept with them for when the node is gone */
  owner?: Record<string, string>;
}
