/**
 * The `redis` store: several Node-RED instances with the same Redis and prefix share the outbox of every output node
 * (any instance delivers any pending dispatch; a claim is a lease, renewed while the instance works on it and taken
 * over once it lapses), the seen event ids, the history (live updates over pub/sub) and the per-destination limits
 * (`RateGate`). Everything that must not happen twice is one Lua script (./redis-scripts.ts).
 *
 * Redis down: commands fail at once (no offline queue: memory stays bounded), so an event is refused (503) rather
 * than accepted without storage; acknowledgements that could not be written are kept (bounded by the dispatches
 * being worked on) and written once Redis is back; the client reconnects by itself.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { AttemptLogEntry, DispatchRecord } from '../dispatch';
import { pageOf, prepareEntry, sortByLastRun, summarize } from '../history/entry';
import type { NotifierRecords } from '../history/entry';
import { DEFAULT_LIMIT, DEFAULT_MAX_EVENT_BYTES, validLimit } from '../history/store';
import type { HistoryEntry, HistoryStoreOptions, KeepOptions, NotifierSummary, RecordPage } from '../history/types';
import { DEFAULT_DEDUP_MAX, DEFAULT_DEDUP_WINDOW_MS } from './file-seen';
import { encodeHeld, heldOf, timingOf } from './file-groups';
import * as lua from './redis-scripts';
import { DEFAULT_STORE_LIMITS, NotOwnerError, StoreFullError, StoreUnavailableError } from './types';
import type {
  DigestGroups,
  ForwardedEvent,
  GroupTiming,
  GroupsOptions,
  HeldEvent,
  SharedGroups,
  StoredGroup,
  HistoryBackend,
  NewOutboxEntry,
  NotifierStore,
  Outbox,
  OutboxEntry,
  OutboxOptions,
  OutboxStats,
  RateGate,
  SeenClaim,
  SeenIds,
  StoreLimits,
} from './types';

export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_PREFIX = 'notifier';
/** How often an outbox looks for dispatches that became due or whose claim lapsed. */
const DEFAULT_POLL_MS = 1000;
/** Pauses remembered per destination (from every instance), at most. */
const MAX_PAUSES = 10_000;

export interface RedisStoreOptions extends Partial<StoreLimits> {
  /** redis://[user:password@]host:port[/db] or rediss:// (TLS) */
  url: string;
  /** every key starts with `<prefix>:` (default `notifier`): instances share what has the same Redis and prefix */
  prefix?: string;
  /** TLS options for the connection (true: TLS with the system's CAs); rediss:// URLs use TLS anyway */
  tls?: boolean | Record<string, unknown>;
  /** how long a claimed dispatch stays with the instance that took it without a renewal (default 30 s) */
  leaseMs?: number;
  pollMs?: number;
  dedupWindowMs?: number;
  dedupMax?: number;
  historyOptions?: HistoryStoreOptions;
  /** connection problems and recoveries (once per outage), never with the password */
  log?: (level: 'warn' | 'info', message: string) => void;
}

/** The URL with its user and password hidden: what logs, statuses and errors may show. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1***@');
}

/** Where the connection goes (host:port), for messages. */
function endpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return redactRedisUrl(url);
  }
}

type Reply = unknown;

/** A Lua script run by its digest (loaded once on NOSCRIPT, e.g. after Redis restarted). */
class Script {
  private readonly sha: string;
  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
  async run(client: Redis, keys: string[], args: Array<string | number>): Promise<Reply> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

const S = Object.fromEntries(Object.entries(lua).map(([name, src]) => [name, new Script(src)])) as Record<keyof typeof lua, Script>;

interface StoredState {
  n?: number;
  log?: AttemptLogEntry[];
  due?: number;
  r?: DispatchRecord;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An outbox entry from its stored dispatch and state (undefined when unreadable). */
function toEntry(id: string, stored: string, stateText: string): OutboxEntry | undefined {
  const e = parseJson(stored);
  if (!isObject(e) || !isObject(e.ev)) return undefined;
  const entry: OutboxEntry = { id, event: e.ev, createdAt: typeof e.at === 'number' ? e.at : Date.now(), attempts: 0, attemptLog: [], dueAt: 0 };
  if (isObject(e.m)) entry.msg = e.m;
  if (typeof e.rd === 'string') entry.redeliveryOf = e.rd;
  const st = stateText ? (parseJson(stateText) as StoredState | undefined) : undefined;
  if (isObject(st)) {
    if (typeof st.n === 'number') entry.attempts = st.n;
    if (Array.isArray(st.log)) entry.attemptLog = st.log as AttemptLogEntry[];
    if (typeof st.due === 'number') entry.dueAt = st.due;
    if (isObject(st.r)) entry.record = st.r as unknown as DispatchRecord;
  }
  return entry;
}

export class RedisStore implements NotifierStore {
  readonly type = 'redis';
  readonly prefix: string;
  readonly where: string;
  readonly limits: StoreLimits;
  readonly leaseMs: number;
  readonly pollMs: number;
  /** this process's claims carry this token */
  readonly token = randomUUID();
  readonly client: Redis;
  private readonly sub: Redis;
  private readonly options: RedisStoreOptions;
  private lastError: string | undefined;
  private down = false;
  private closed = false;
  private readonly boxes = new Set<RedisOutbox>();
  private readonly pauses = new Map<string, number>();
  private readonly historyListeners = new Set<(update: Record<string, unknown>) => void>();
  private seen: RedisSeenIds | undefined;
  private hist: RedisHistory | undefined;
  private readonly groupSets = new Set<RedisGroups>();

  constructor(options: RedisStoreOptions) {
    if (typeof options.url !== 'string' || !/^rediss?:\/\//i.test(options.url.trim())) {
      throw new Error(
        `notifierStore.url must be a redis:// or rediss:// URL, got ${options.url === undefined ? 'nothing' : JSON.stringify(redactRedisUrl(String(options.url)))}`,
      );
    }
    this.options = options;
    this.prefix = options.prefix && options.prefix.trim() ? options.prefix.trim() : DEFAULT_PREFIX;
    this.where = endpoint(options.url);
    this.limits = { maxItems: options.maxItems ?? DEFAULT_STORE_LIMITS.maxItems, maxBytes: options.maxBytes ?? DEFAULT_STORE_LIMITS.maxBytes };
    this.leaseMs = Math.max(1000, options.leaseMs ?? DEFAULT_LEASE_MS);
    this.pollMs = Math.max(50, options.pollMs ?? DEFAULT_POLL_MS);
    const common: RedisOptions = {
      // a command while Redis is away fails at once: nothing piles up in memory, and the caller answers 503
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5000,
      retryStrategy: (times) => Math.min(100 * times, 2000),
      ...(options.tls ? { tls: options.tls === true ? {} : options.tls } : {}),
    };
    // commands issued together (a burst of dispatches) go out in one write
    this.client = new Redis(options.url.trim(), { ...common, enableAutoPipelining: true, connectionName: `notifier-${this.token.slice(0, 8)}` });
    // subscriptions are made once and made again by the client after a reconnect
    this.sub = new Redis(options.url.trim(), { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null });
    for (const c of [this.client, this.sub]) c.on('error', (err: Error) => this.failed(err));
    this.client.on('ready', () => this.recovered());
    this.client.on('close', () => {
      if (!this.closed) this.failed(new Error('connection closed'));
    });
    this.sub.on('message', (channel: string, message: string) => this.message(channel, message));
    this.sub
      .subscribe(this.key('ch:avail'), this.key('ch:hist'), this.key('ch:pause'), this.key('ch:result'), this.key('ch:dg'))
      .catch((err: Error) => this.failed(err));
  }

  key(suffix: string): string {
    return `${this.prefix}:${suffix}`;
  }

  private log(level: 'warn' | 'info', message: string): void {
    try {
      this.options.log?.(level, message);
    } catch {
      // a logger cannot break the store
    }
  }

  private failed(err: Error): void {
    this.lastError = redactRedisUrl(err.message || String(err));
    if (this.down || this.closed) return;
    this.down = true;
    this.log('warn', `notifier: Redis at ${this.where} is unavailable (${this.lastError}); events are refused (503) until it is back`);
    for (const b of this.boxes) b.notify();
  }

  private recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.lastError = undefined;
    this.log('info', `notifier: Redis at ${this.where} is back`);
    for (const b of this.boxes) b.reconnected();
  }

  private message(channel: string, message: string): void {
    if (channel === this.key('ch:avail')) {
      for (const b of this.boxes) if (b.id === message) b.notify();
    } else if (channel === this.key('ch:hist')) {
      const update = parseJson(message);
      if (isObject(update)) for (const l of this.historyListeners) l(update);
    } else if (channel === this.key('ch:result')) {
      const m = parseJson(message) as { n?: unknown; id?: unknown; r?: unknown } | undefined;
      if (m && typeof m.id === 'string' && isObject(m.r))
        for (const b of this.boxes) if (b.id === m.n) b.result(m.id, m.r as unknown as DispatchRecord);
    } else if (channel === this.key('ch:dg')) {
      const what = message.startsWith('f:') ? 'forwarded' : message.startsWith('r:') ? 'resigned' : undefined;
      if (what) for (const g of this.groupSets) if (g.id === message.slice(2)) g.changed(what);
    } else if (channel === this.key('ch:pause')) {
      const p = parseJson(message) as { k?: unknown; u?: unknown } | undefined;
      if (p && typeof p.k === 'string' && typeof p.u === 'number') this.notePause(p.k, p.u);
    }
  }

  /** The failure to show while Redis cannot be used (undefined when it can). */
  problem(): string | undefined {
    if (this.closed) return 'the store is closed';
    if (this.client.status === 'ready') return undefined;
    return `Redis at ${this.where} is unavailable${this.lastError ? ` (${this.lastError})` : ''}`;
  }

  /** Fails fast with StoreUnavailableError when Redis cannot be used; `run` otherwise (its failure too). */
  async call<T>(what: string, run: (client: Redis) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('the Redis store is closed');
    try {
      return await run(this.client);
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      const text = redactRedisUrl((err as Error).message ?? String(err));
      throw new StoreUnavailableError(`Redis at ${this.where} could not ${what}: ${text}`, { cause: err });
    }
  }

  script(name: keyof typeof lua, what: string, keys: string[], args: Array<string | number>): Promise<Reply> {
    return this.call(what, (c) => S[name].run(c, keys, args));
  }

  /** Resolves once Redis answers (waits up to the connect timeout for a connection being made). */
  async whenReady(): Promise<void> {
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, 5000);
      t.unref?.();
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.client.once('ready', done);
    });
    if (this.problem() !== undefined) throw new StoreUnavailableError(this.problem() ?? 'Redis is unavailable');
  }

  async openOutbox(nodeId: string, options: OutboxOptions = {}): Promise<Outbox> {
    if (this.closed) throw new StoreUnavailableError('the Redis store is closed');
    const box = new RedisOutbox(this, nodeId, options, (b) => this.boxes.delete(b));
    this.boxes.add(box);
    await box.loadOwner(options.owner);
    return box;
  }

  async outboxIds(): Promise<string[]> {
    return this.call('list the outboxes', (c) => c.smembers(this.key('obs')));
  }

  seenIds(): Promise<SeenIds> {
    this.seen ??= new RedisSeenIds(
      this,
      this.options.dedupWindowMs ?? DEFAULT_DEDUP_WINDOW_MS,
      Math.max(1, this.options.dedupMax ?? DEFAULT_DEDUP_MAX),
    );
    return Promise.resolve(this.seen);
  }

  history(): HistoryBackend {
    this.hist ??= new RedisHistory(this, this.options.historyOptions ?? {});
    return this.hist;
  }

  releaseHistory(): Promise<void> {
    return Promise.resolve();
  }

  /** Sends a history change to every instance (and this one), over pub/sub. */
  broadcast(update: Record<string, unknown>): void {
    this.client.publish(this.key('ch:hist'), JSON.stringify(update)).catch(() => undefined);
  }

  onHistoryUpdate(listener: (update: Record<string, unknown>) => void): () => void {
    this.historyListeners.add(listener);
    return () => this.historyListeners.delete(listener);
  }

  private notePause(key: string, until: number): void {
    if ((this.pauses.get(key) ?? 0) >= until) return;
    if (this.pauses.size >= MAX_PAUSES) {
      const now = Date.now();
      for (const [k, u] of this.pauses) if (u <= now) this.pauses.delete(k);
      if (this.pauses.size >= MAX_PAUSES) this.pauses.delete(this.pauses.keys().next().value!);
    }
    this.pauses.set(key, until);
  }

  rateGate(): RateGate {
    // destination keys are URLs (a Slack webhook URL is a secret): Redis sees only their hash
    const hashed = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 32);
    return {
      acquire: async (key, intervalMs) => {
        const h = hashed(key);
        return Number(await this.script('ACQUIRE', 'take a slot', [this.key(`rl:${h}`), this.key(`rp:${h}`)], [Math.max(0, Math.ceil(intervalMs))]));
      },
      pause: (key, untilMs) => {
        const h = hashed(key);
        this.notePause(h, untilMs);
        const delay = Math.max(1, Math.ceil(untilMs - Date.now()));
        // Redis away: this instance still pauses; the others see the server's 429 or 503 themselves
        this.script('PAUSE', 'pause a destination', [this.key(`rp:${h}`)], [delay, this.key('ch:pause'), JSON.stringify({ k: h, u: untilMs })]).catch(
          () => undefined,
        );
      },
      pausedUntil: (key) => this.pauses.get(hashed(key)) ?? 0,
    };
  }

  /** The digest groups of a node, shared by every instance: one owns them at a time (see RedisGroups). */
  async openGroups(nodeId: string, options: GroupsOptions = {}): Promise<DigestGroups> {
    if (this.closed) throw new StoreUnavailableError('the Redis store is closed');
    const groups = new RedisGroups(this, nodeId, (g) => this.groupSets.delete(g));
    this.groupSets.add(groups);
    if (options.owner)
      await this.call('record the digest node', (c) => c.set(`${groups.base}:o`, JSON.stringify(options.owner))).catch(() => undefined);
    return groups;
  }

  async groupsIds(): Promise<string[]> {
    return this.call('list the digest nodes', (c) => c.smembers(this.key('dgs')));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.allSettled([...this.boxes].map((b) => b.close()));
    await Promise.allSettled([...this.groupSets].map((g) => g.close()));
    this.closed = true;
    this.historyListeners.clear();
    for (const c of [this.client, this.sub]) {
      if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
      else c.disconnect();
    }
  }
}

/** The outbox of one output node, shared by every instance. */
export class RedisOutbox implements Outbox {
  readonly id: string;
  owner: Record<string, string> = {};
  private readonly k: { q: string; e: string; c: string; s: string; o: string };
  /** ids this instance claimed and has not acknowledged or given back */
  private readonly held = new Set<string>();
  /** acknowledgements Redis did not take (it was away): written when it is back */
  private readonly unacked = new Set<string>();
  private listener: (() => void) | undefined;
  private failure: string | undefined;
  private pending = 0;
  private closed = false;
  private readonly renewTimer: NodeJS.Timeout;
  private readonly pollTimer: NodeJS.Timeout;

  constructor(
    private readonly store: RedisStore,
    nodeId: string,
    options: OutboxOptions,
    private readonly onClosed: (box: RedisOutbox) => void,
  ) {
    this.id = nodeId;
    const base = store.key(`ob:${nodeId}`);
    this.k = { q: `${base}:q`, e: `${base}:e`, c: `${base}:c`, s: `${base}:s`, o: `${base}:o` };
    if (options.owner) this.owner = { ...options.owner };
    this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(store.leaseMs / 3)));
    this.pollTimer = setInterval(() => this.notify(), store.pollMs);
    this.renewTimer.unref?.();
    this.pollTimer.unref?.();
  }

  /** Reads who owned the outbox (for a removed node), or records the given owner. */
  async loadOwner(owner: Record<string, string> | undefined): Promise<void> {
    try {
      if (owner) await this.store.client.set(this.k.o, JSON.stringify(owner));
      else {
        const o = parseJson((await this.store.client.get(this.k.o)) ?? '');
        if (isObject(o)) this.owner = o as Record<string, string>;
      }
    } catch {
      // Redis away: the owner is written with the first dispatch stored
    }
  }

  get problem(): string | undefined {
    return this.store.problem() ?? this.failure;
  }

  onAvailable(callback: () => void): void {
    this.listener = callback;
  }

  notify(): void {
    if (this.closed) return;
    try {
      this.listener?.();
    } catch {
      // a listener cannot break the outbox
    }
  }

  reconnected(): void {
    this.failure = undefined;
    void this.flushAcks().finally(() => this.notify());
  }

  private track<T>(p: Promise<T>): Promise<T> {
    return p.then(
      (v) => {
        this.failure = undefined;
        return v;
      },
      (err: Error) => {
        this.failure = err.message;
        throw err;
      },
    );
  }

  async add(entries: NewOutboxEntry[]): Promise<void> {
    if (this.closed) throw new StoreUnavailableError(`the outbox of node ${this.id} is closed`);
    if (entries.length === 0) return;
    const args: Array<string | number> = [
      this.store.limits.maxItems,
      this.store.limits.maxBytes,
      this.id,
      this.store.key('ch:avail'),
      entries.length,
    ];
    for (const e of entries) {
      const stored: Record<string, unknown> = { ev: e.event, at: e.createdAt };
      if (e.msg && Object.keys(e.msg).length > 0) stored.m = e.msg;
      if (e.redeliveryOf !== undefined) stored.rd = e.redeliveryOf;
      args.push(e.id, JSON.stringify(stored));
    }
    const r = (await this.track(
      this.store.script('ADD', 'store the dispatch', [this.k.q, this.k.e, this.store.key('usage'), this.store.key('obs')], args),
    )) as number[];
    if (r[0] !== 1) {
      const { maxItems, maxBytes } = this.store.limits;
      throw new StoreFullError(
        `the outbox is full (${r[1]} dispatches, ${r[2]} bytes stored in Redis; the bounds are ${maxItems} dispatches and ${maxBytes} bytes): nothing was sent`,
      );
    }
    this.pending = Number(r[3]);
    if (Object.keys(this.owner).length > 0) this.store.client.set(this.k.o, JSON.stringify(this.owner)).catch(() => undefined);
  }

  async take(max: number): Promise<OutboxEntry[]> {
    if (this.closed || max <= 0) return [];
    const r = (await this.track(
      this.store.script('TAKE', 'take dispatches', [this.k.q, this.k.e, this.k.c, this.k.s], [Math.floor(max), this.store.leaseMs, this.store.token]),
    )) as [number, string[]];
    this.pending = Number(r[0]);
    const out: OutboxEntry[] = [];
    const flat = r[1];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const id = flat[i]!;
      const entry = toEntry(id, flat[i + 1]!, flat[i + 2]!);
      this.held.add(id);
      if (entry) out.push(entry);
      else await this.ack(id); // unreadable: nothing can be sent from it
    }
    return out;
  }

  private async renew(): Promise<void> {
    if (this.closed || this.held.size === 0) return;
    await this.store
      .script('RENEW', 'renew claims', [this.k.q, this.k.c], [this.store.leaseMs, this.store.token, ...this.held])
      .catch(() => undefined);
    if (this.unacked.size > 0) await this.flushAcks();
  }

  private writeState(id: string, state: StoredState): Promise<void> {
    return this.track(
      this.store.script('STATE', 'record the state of a dispatch', [this.k.e, this.k.s, this.store.key('usage')], [id, JSON.stringify(state)]),
    ).then(() => undefined);
  }

  private readonly states = new Map<string, StoredState>();

  retryAt(id: string, attempts: number, attemptLog: AttemptLogEntry[], dueAt: number): Promise<void> {
    const st = { n: attempts, log: attemptLog, due: dueAt };
    this.states.set(id, st);
    return this.writeState(id, st);
  }

  async settle(id: string, record: DispatchRecord): Promise<void> {
    const st = { ...(this.states.get(id) ?? {}), r: record };
    this.states.delete(id);
    await this.writeState(id, st);
    // the instance that asked for a redelivery waits for its result, whichever instance made it
    if (record.redeliveryOf !== undefined) {
      this.store.client.publish(this.store.key('ch:result'), JSON.stringify({ n: this.id, id, r: record })).catch(() => undefined);
    }
  }

  private resultListener: ((id: string, record: DispatchRecord) => void) | undefined;

  onResult(callback: (id: string, record: DispatchRecord) => void): void {
    this.resultListener = callback;
  }

  result(id: string, record: DispatchRecord): void {
    try {
      this.resultListener?.(id, record);
    } catch {
      // a listener cannot break the outbox
    }
  }

  async ack(id: string): Promise<void> {
    this.states.delete(id);
    await this.removeFinished([id]);
  }

  /** Acknowledgements that Redis did not take, again. */
  private flushAcks(): Promise<void> {
    return this.unacked.size > 0 ? this.removeFinished([...this.unacked]) : Promise.resolve();
  }

  private async removeFinished(ids: string[]): Promise<void> {
    try {
      await this.store.script('ACK', 'remove finished dispatches', [this.k.q, this.k.e, this.k.c, this.k.s, this.store.key('usage')], ids);
      for (const id of ids) {
        this.unacked.delete(id);
        this.held.delete(id);
      }
      this.pending = Math.max(0, this.pending - ids.length);
    } catch {
      // kept (still claimed, so no other instance sends it again while this one is alive) and written once Redis is back
      for (const id of ids) this.unacked.add(id);
    }
  }

  stats(): OutboxStats {
    return { pending: Math.max(this.pending, this.held.size), bytes: 0, inMemory: this.held.size };
  }

  async *drain(): AsyncIterable<OutboxEntry> {
    let cursor = '0';
    do {
      const [next, flat] = await this.store.call('read the outbox', (c) => c.hscan(this.k.e, cursor, 'COUNT', 200));
      cursor = next;
      const ids = flat.filter((_, i) => i % 2 === 0);
      const states = ids.length ? await this.store.call('read the outbox', (c) => c.hmget(this.k.s, ...ids)) : [];
      for (let i = 0; i < ids.length; i++) {
        const entry = toEntry(ids[i]!, flat[2 * i + 1]!, states[i] ?? '');
        if (entry) yield entry;
      }
    } while (cursor !== '0');
  }

  private stop(): void {
    this.closed = true;
    clearInterval(this.renewTimer);
    clearInterval(this.pollTimer);
    this.onClosed(this);
  }

  async destroy(): Promise<void> {
    this.stop();
    this.held.clear();
    this.unacked.clear();
    await this.store.script(
      'DESTROY',
      'remove the outbox',
      [this.k.q, this.k.e, this.k.c, this.k.s, this.store.key('usage'), this.store.key('obs'), this.k.o],
      [this.id],
    );
  }

  /** Gives back what this instance claimed and did not finish (another instance, or the next start, takes it at its due time). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stop();
    await this.flushAcks();
    const ids = [...this.held].filter((id) => !this.unacked.has(id));
    this.held.clear();
    if (ids.length === 0) return;
    await this.store
      .script('RELEASE', 'give back claims', [this.k.q, this.k.c, this.k.s], [this.store.token, this.store.key('ch:avail'), this.id, ...ids])
      .catch(() => undefined); // Redis away: the claims lapse after the lease
  }
}

/**
 * The event ids accepted by any instance: a sorted set (id → when, the server's time), trimmed to the window and the
 * bound; it expires after the window. A delivery being handled is claimed (`P:sc:<id>`, lapsing after its TTL) so that
 * two instances receiving it at once do not both emit it.
 */
export class RedisSeenIds implements SeenIds {
  private count = 0;
  /** the token of each claim this instance holds, by id (only the holder gives a claim up) */
  private readonly claims = new Map<string, string>();
  constructor(
    private readonly store: RedisStore,
    private readonly windowMs: number,
    private readonly max: number,
  ) {}

  get size(): number {
    return this.count;
  }

  private claimKey(id: string): string {
    return this.store.key(`sc:${id}`);
  }

  async has(id: string): Promise<boolean> {
    const at = await this.store.call('read the seen event ids', (c) => c.zscore(this.store.key('seen'), id));
    return at !== null && Number(at) >= Date.now() - this.windowMs;
  }

  async add(id: string): Promise<void> {
    this.count = Number(
      await this.store.script('SEEN_ADD', 'record a seen event id', [this.store.key('seen'), this.claimKey(id)], [id, this.windowMs, this.max]),
    );
    this.claims.delete(id);
  }

  async claim(id: string, ttlMs: number): Promise<SeenClaim> {
    const token = randomUUID();
    const state = String(
      await this.store.script(
        'SEEN_CLAIM',
        'claim an event id',
        [this.store.key('seen'), this.claimKey(id)],
        [id, this.windowMs, Math.max(1, ttlMs), token],
      ),
    ) as SeenClaim;
    if (state === 'claimed') this.claims.set(id, token);
    return state;
  }

  async unclaim(id: string): Promise<void> {
    const token = this.claims.get(id);
    if (token === undefined) return;
    this.claims.delete(id);
    await this.store.script('SEEN_UNCLAIM', 'give up the claim of an event id', [this.claimKey(id)], [token]);
  }
}

/** The dispatch history shared by every instance (see KEEP in ./redis-scripts.ts for the keys). */
export class RedisHistory implements HistoryBackend {
  private readonly defaultLimit: number;
  private readonly maxEventBytes: number;
  private readonly now: () => Date;
  private warnFn: (message: string) => void;

  constructor(
    private readonly store: RedisStore,
    options: HistoryStoreOptions,
  ) {
    this.defaultLimit = validLimit(options.defaultLimit) ?? DEFAULT_LIMIT;
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.now = options.now ?? (() => new Date());
    this.warnFn = options.warn ?? (() => undefined);
  }

  setWarn(warn: (message: string) => void): void {
    this.warnFn = warn;
  }

  whenReady(): Promise<void> {
    return this.store.whenReady();
  }

  private keys(notifierId: string): { m: string; r: string; o: string } {
    const base = this.store.key(`h:${notifierId}`);
    return { m: `${base}:m`, r: `${base}:r`, o: `${base}:o` };
  }

  async keep(dispatch: unknown, event?: unknown, options: KeepOptions = {}): Promise<HistoryEntry> {
    const entry = prepareEntry(dispatch, event, { now: this.now, maxEventBytes: this.maxEventBytes, warn: (m) => this.warnFn(m) });
    const k = this.keys(entry.notifierId);
    const limit = validLimit(options.limit);
    const existing = await this.store.script(
      'KEEP',
      'keep a history record',
      [this.store.key('h:ns'), k.m, k.r, k.o, this.store.key('h:seq')],
      [
        entry.notifierId,
        entry.id,
        JSON.stringify(entry),
        entry.notifier ?? '',
        entry.channel ?? '',
        limit ?? '',
        typeof options.keptBy === 'string' ? options.keptBy : '',
        this.defaultLimit,
      ],
    );
    return typeof existing === 'string' ? (JSON.parse(existing) as HistoryEntry) : entry;
  }

  async setLimit(keptBy: string, limit: number): Promise<number> {
    const l = validLimit(limit);
    if (l === undefined) throw new RangeError(`limit must be an integer from 1 to 10000, got ${String(limit)}`);
    return Number(await this.store.script('SET_LIMIT', 'set a history limit', [this.store.key('h:ns')], [this.store.prefix, keptBy, l]));
  }

  async clear(notifierId: string): Promise<number> {
    const k = this.keys(notifierId);
    return Math.max(0, Number(await this.store.script('CLEAR', 'clear a history', [this.store.key('h:ns'), k.m, k.r, k.o], [notifierId])));
  }

  private async load(notifierId: string): Promise<NotifierRecords | undefined> {
    const k = this.keys(notifierId);
    const [flat, recs] = (await this.store.script('LOAD', 'read the history', [k.m, k.o, k.r], [])) as [string[], string[]];
    if (flat.length === 0) return undefined;
    const meta: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) meta[flat[i]!] = flat[i + 1]!;
    const records = recs.map((t) => parseJson(t)).filter((r): r is HistoryEntry => isObject(r));
    return {
      id: notifierId,
      name: meta.name ?? notifierId,
      channel: meta.ch ?? '',
      limit: Number(meta.l ?? this.defaultLimit),
      keptBy: meta.b,
      total: Number(meta.total ?? 0),
      records,
    };
  }

  private async ids(): Promise<string[]> {
    return this.store.call('read the history', (c) => c.smembers(this.store.key('h:ns')));
  }

  private async all(): Promise<NotifierRecords[]> {
    const loaded = await Promise.all((await this.ids()).map((id) => this.load(id)));
    return loaded.filter((n): n is NotifierRecords => n !== undefined);
  }

  async listNotifiers(): Promise<NotifierSummary[]> {
    return sortByLastRun((await this.all()).map(summarize));
  }

  async getNotifier(notifierId: string): Promise<NotifierSummary | undefined> {
    const st = await this.load(notifierId);
    return st ? summarize(st) : undefined;
  }

  async getRecords(notifierId: string, page: { offset?: number; limit?: number } = {}): Promise<RecordPage | undefined> {
    const st = await this.load(notifierId);
    return st ? pageOf(st, st.records, page) : undefined;
  }

  async getRecord(notifierId: string, recordId: string): Promise<HistoryEntry | undefined> {
    const text = await this.store.call('read the history', (c) => c.hget(this.keys(notifierId).r, recordId));
    const r = text ? parseJson(text) : undefined;
    return isObject(r) ? (r as unknown as HistoryEntry) : undefined;
  }

  async findNotifiers(nameOrId: string): Promise<string[]> {
    const ids = await this.ids();
    if (ids.includes(nameOrId)) return [nameOrId];
    const names = await Promise.all(ids.map((id) => this.store.call('read the history', (c) => c.hget(this.keys(id).m, 'name'))));
    return ids.filter((_, i) => names[i] === nameOrId);
  }

  async notifiersKeptBy(keptBy: string): Promise<NotifierSummary[]> {
    const ids = await this.ids();
    const by = await Promise.all(ids.map((id) => this.store.call('read the history', (c) => c.hget(this.keys(id).m, 'b'))));
    const loaded = await Promise.all(ids.filter((_, i) => by[i] === keptBy).map((id) => this.load(id)));
    return loaded.filter((n): n is NotifierRecords => n !== undefined).map(summarize);
  }

  broadcast(update: Record<string, unknown>): void {
    this.store.broadcast(update);
  }

  onUpdate(listener: (update: Record<string, unknown>) => void): () => void {
    return this.store.onHistoryUpdate(listener);
  }
}

// ------------------------------------------------------------------------------------------------------ registry

interface RegistryEntry {
  store: RedisStore;
  refs: number;
}
const registry = new Map<string, RegistryEntry>();

/** The one Redis store of (url, prefix) in this process; give it back with `releaseRedisStore`. */
export function acquireRedisStore(options: RedisStoreOptions): RedisStore {
  const key = `${options.url}\n${options.prefix ?? DEFAULT_PREFIX}`;
  let entry = registry.get(key);
  if (!entry) {
    entry = { store: new RedisStore(options), refs: 0 };
    registry.set(key, entry);
  }
  entry.refs++;
  return entry.store;
}

/** The last release closes the connections (after the outboxes gave back their claims). */
export async function releaseRedisStore(store: RedisStore): Promise<void> {
  for (const [key, entry] of registry) {
    if (entry.store !== store) continue;
    entry.refs--;
    if (entry.refs > 0) return;
    registry.delete(key);
    await store.close();
    return;
  }
}

/**
 * The digest groups of one notifier-digest node, shared by every instance (keys: DG_* in ./redis-scripts.ts). One
 * instance at a time owns them (a lease renewed by `claim`, given up by `resign` and taken over once it lapses):
 * it runs the timing and hands digests on; the others `forward` what they receive into a stream the owner takes in.
 * Every write is fenced by the lease: a write from an instance that lost it is refused (NotOwnerError), so two
 * instances never both run one group.
 */
export class RedisGroups implements DigestGroups, SharedGroups {
  readonly id: string;
  readonly base: string;
  readonly shared: SharedGroups = this;
  /** this open's own token: a reopen (a redeploy) is a new owner */
  private readonly token = randomUUID();
  private readonly k: { g: string; l: string; gen: string; in: string; dgs: string; o: string };
  private failure: string | undefined;
  private listener: ((what: 'forwarded' | 'resigned') => void) | undefined;
  private closed = false;

  constructor(
    private readonly store: RedisStore,
    nodeId: string,
    private readonly onClosed: (groups: RedisGroups) => void,
  ) {
    this.id = nodeId;
    this.base = store.key(`dg:${nodeId}`);
    this.k = { g: `${this.base}:g`, l: `${this.base}:l`, gen: `${this.base}:gen`, in: `${this.base}:in`, dgs: store.key('dgs'), o: `${this.base}:o` };
  }

  get leaseMs(): number {
    return this.store.leaseMs;
  }

  get problem(): string | undefined {
    return this.store.problem() ?? this.failure;
  }

  /** Runs a write, remembering its failure for `problem` while it lasts. */
  private async write<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('the digest groups are closed');
    try {
      const r = await run();
      this.failure = undefined;
      return r;
    } catch (err) {
      if (!(err instanceof NotOwnerError)) this.failure = (err as Error).message;
      throw err;
    }
  }

  private notOwner(): NotOwnerError {
    return new NotOwnerError(`another instance now runs the digest groups of node ${this.id}`);
  }

  async load(): Promise<StoredGroup[]> {
    const flat = (await this.store.script('DG_LOAD', 'read the digest groups', [this.k.g], [this.base])) as Array<string | string[]>;
    const groups: StoredGroup[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const key = flat[i] as string;
      const timing = timingOf(parseJson(flat[i + 1] as string));
      if (!timing) continue;
      const events: HeldEvent[] = [];
      for (const text of (flat[i + 2] as string[]) ?? []) {
        const h = heldOf(parseJson(text));
        if (h) events.push(h);
      }
      groups.push({ key, timing, events });
    }
    return groups;
  }

  hold(key: string, events: HeldEvent[], timing: GroupTiming, consumes?: string): Promise<void> {
    const args: Array<string | number> = [this.token, this.leaseMs, this.id, this.base, key, JSON.stringify(timing), consumes ?? '', events.length];
    for (const h of events) {
      args.push(h.seq, JSON.stringify(encodeHeld(h)));
    }
    return this.write(async () => {
      const ok = await this.store.script('DG_HOLD', 'hold the events', [this.k.g, this.k.l, this.k.gen, this.k.in, this.k.dgs], args);
      if (Number(ok) !== 1) throw this.notOwner();
    });
  }

  release(key: string, upTo: number, timing: GroupTiming | undefined): Promise<void> {
    return this.write(async () => {
      const ok = await this.store.script(
        'DG_RELEASE',
        'release the events',
        [this.k.g, this.k.l, this.k.gen],
        [this.token, this.leaseMs, this.base, key, upTo, timing ? JSON.stringify(timing) : ''],
      );
      if (Number(ok) !== 1) throw this.notOwner();
    });
  }

  async destroy(): Promise<void> {
    try {
      await this.write(async () => {
        const n = Number(await this.store.script('DG_DESTROY', 'remove the digest groups', Object.values(this.k), [this.token, this.base, this.id]));
        if (n < 0) throw this.notOwner();
      });
    } finally {
      await this.close();
    }
  }

  // ---- SharedGroups ---------------------------------------------------------------------------------------------

  async claim(): Promise<'owner' | 'acquired' | 'other'> {
    const r = String(
      await this.write(() => this.store.script('DG_CLAIM', 'take the digest groups', [this.k.l, this.k.gen], [this.token, this.leaseMs])),
    );
    return r === 'owner' || r === 'acquired' ? r : 'other';
  }

  async resign(): Promise<void> {
    await this.store.script('DG_RESIGN', 'give the digest groups up', [this.k.l, this.k.gen], [this.token, this.store.key('ch:dg'), `r:${this.id}`]);
  }

  async forward(event: unknown, msg?: Record<string, unknown>): Promise<void> {
    const json = JSON.stringify({ ev: event, ...(msg && Object.keys(msg).length > 0 ? { m: msg } : {}) });
    await this.write(() => this.store.script('DG_FORWARD', 'forward the event', [this.k.in, this.k.dgs], [this.id, json, this.store.key('ch:dg')]));
  }

  async inbox(max: number): Promise<ForwardedEvent[]> {
    const entries = await this.store.call('read the forwarded events', (c) => c.xrange(this.k.in, '-', '+', 'COUNT', Math.max(1, max)));
    return entries.map(([id, fields]) => {
      const at = fields.indexOf('d');
      const v = at >= 0 && at % 2 === 0 ? parseJson(fields[at + 1] ?? '') : undefined;
      return isObject(v) && isObject(v.ev) ? { id, event: v.ev, ...(isObject(v.m) ? { msg: v.m } : {}) } : { id, event: undefined };
    });
  }

  async ack(id: string): Promise<void> {
    await this.store.call('remove a forwarded event', (c) => c.xdel(this.k.in, id));
  }

  onChange(listener: (what: 'forwarded' | 'resigned') => void): void {
    this.listener = listener;
  }

  /** From the store's subscription. */
  changed(what: 'forwarded' | 'resigned'): void {
    if (this.closed) return;
    try {
      this.listener?.(what);
    } catch {
      // a listener cannot break the groups
    }
  }

  /** Stops listening; what is held stays in Redis (ownership is given up by `resign`, or lapses). */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.listener = undefined;
      this.onClosed(this);
    }
    return Promise.resolve();
  }
}
