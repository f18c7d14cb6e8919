import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { appendDurably, readLines, rewriteAtomically, syncDir } from './journal';

import { drainQueue, ensurePrivateDir, joinAsBytes } from '../store/writer';
import type { QueuedTask } from '../store/writer';
import { pageOf, prepareEntry, sortByLastRun, summarize } from './entry';
import type { HistoryEntry, HistoryStoreOptions, KeepOptions, NotifierSummary, RecordPage, StoreStats } from './types';

/** The journal's file name inside the store directory. */
export const JOURNAL_FILE = 'journal.jsonl';
export const DEFAULT_LIMIT = 50;
/** Largest `limit` accepted (records per notifier). */
export const MAX_LIMIT = 10000;
const DEFAULT_COMPACT_AFTER = 1000;
export const DEFAULT_MAX_EVENT_BYTES = 256 * 1024;
/** Appends flushed together with one fsync, at most. */
const MAX_BATCH = 4096;

/**
 * Journal lines (JSON, one per line):
 * - `{t:"r", n, r, l?, b?, s?}`: a record `r` kept for notifier `n` (`l`: its limit from now on, `b`: the history
 *   node that kept it, `s`: written by a compaction, so not a new dispatch);
 * - `{t:"n", n, name, ch, l, b?, total}`: a notifier's state (limit changes, and the head of each notifier in a
 *   compacted journal);
 * - `{t:"c", n}`: the notifier was cleared.
 */
type JournalLine =
  | { t: 'r'; n: string; r: HistoryEntry; l?: number; b?: string; s?: 1 }
  | { t: 'n'; n: string; name: string; ch: string; l: number; b?: string; total: number }
  | { t: 'c'; n: string };

interface NotifierState {
  id: string;
  name: string;
  channel: string;
  limit: number;
  keptBy?: string;
  total: number;
  /** oldest first; never longer than `limit` */
  records: HistoryEntry[];
  /** ids of `records` */
  ids: Set<string>;
}

type Append = { kind: 'append'; lines: string[]; apply: () => void; resolve: () => void; reject: (err: Error) => void };
type Op = Append | QueuedTask;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function validLimit(limit: unknown): number | undefined {
  return typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIMIT ? limit : undefined;
}

/** Thrown when a store cannot be used (closed, or its directory could not be opened). */
export class HistoryStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HistoryStoreError';
  }
}

/**
 * The durable dispatch history of one directory: the last `limit` records per notifier, kept apart by notifier id.
 *
 * Every change is a line appended to one journal and synced to the disk before the promise that made it resolves
 * (writes are serialized; appends waiting together share one fsync). The journal is compacted (rewritten atomically
 * from memory) once it holds as many stale lines as live ones. Memory holds at most `limit` records per notifier.
 * Loading skips a torn last write (and any unreadable line) with a warning.
 */
export class HistoryStore {
  readonly dir: string;
  readonly file: string;
  private readonly defaultLimit: number;
  private readonly compactAfter: number;
  private readonly maxEventBytes: number;
  private readonly now: () => Date;
  private warnFn: (message: string) => void;
  private readonly notifiers = new Map<string, NotifierState>();
  private readonly queue: Op[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly ready: Promise<void>;
  private fileSynced = false;
  private prefixNewline = false;
  private linesSinceCompaction = 0;
  private journalLines = 0;
  private recordsWritten = 0;
  private compactions = 0;
  private skippedLines = 0;

  constructor(dir: string, options: HistoryStoreOptions = {}, after?: Promise<unknown>) {
    this.dir = path.resolve(dir);
    this.file = path.join(this.dir, JOURNAL_FILE);
    this.defaultLimit = validLimit(options.defaultLimit) ?? DEFAULT_LIMIT;
    this.compactAfter = Math.max(1, options.compactAfterLines ?? DEFAULT_COMPACT_AFTER);
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.now = options.now ?? (() => new Date());
    this.warnFn = options.warn ?? (() => undefined);
    this.ready = (async () => {
      await after?.catch(() => undefined);
      await this.load();
    })();
    // Failures surface through every operation (and whenReady); never as an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /** Replaces the warning callback (e.g. when the runtime's logger becomes known). */
  setWarn(warn: (message: string) => void): void {
    this.warnFn = warn;
  }

  /** Resolves once the journal is loaded; rejects with a HistoryStoreError if the directory cannot be used. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---------------------------------------------------------------------------------------------------- loading

  private async load(): Promise<void> {
    try {
      await ensurePrivateDir(this.dir);
      await fs.chmod(this.file, 0o600).catch(() => undefined);
      // A compaction interrupted before its rename leaves a partial temp file; the journal itself is intact.
      await fs.rm(`${this.file}.tmp`, { force: true });
    } catch (err) {
      throw new HistoryStoreError(`notifier-history: cannot use the history directory ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
    let torn: number | undefined;
    const bad: number[] = [];
    let result;
    try {
      result = await readLines(this.file, (text, index, isLast) => {
        if (text.trim() === '') return;
        let line: unknown;
        try {
          line = JSON.parse(text);
        } catch {
          if (isLast()) torn = index + 1;
          else bad.push(index + 1);
          return;
        }
        if (!this.applyLine(line)) bad.push(index + 1);
      });
    } catch (err) {
      throw new HistoryStoreError(`notifier-history: cannot read ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    this.journalLines = result.lines;
    this.fileSynced = result.exists;
    if (torn !== undefined) {
      this.skippedLines++;
      this.warn(`notifier-history: skipped a torn last write (line ${torn}) in ${this.file}; every record before it is kept`);
    }
    if (bad.length > 0) {
      this.skippedLines += bad.length;
      this.warn(
        `notifier-history: skipped ${bad.length} unreadable line(s) in ${this.file} (line ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''})`,
      );
    }
    if (torn !== undefined || bad.length > 0 || result.unterminated) {
      // Rewrite a clean journal before anything is appended to it (a new line must not continue a torn one).
      try {
        await this.compact();
      } catch (err) {
        this.prefixNewline = result.unterminated;
        this.warn(`notifier-history: could not rewrite ${this.file} after skipping damaged lines: ${(err as Error).message}`);
      }
    }
  }

  /** Applies one journal line to memory; false if it is not a valid line. */
  private applyLine(line: unknown): boolean {
    if (!isObject(line) || typeof line.n !== 'string' || line.n === '') return false;
    switch (line.t) {
      case 'r': {
        const r = line.r;
        if (!isObject(r) || typeof r.id !== 'string' || r.notifierId !== line.n) return false;
        this.applyRecord(line as Extract<JournalLine, { t: 'r' }>);
        return true;
      }
      case 'n': {
        const limit = validLimit(line.l);
        if (limit === undefined) return false;
        this.applyMeta({
          t: 'n',
          n: line.n,
          name: typeof line.name === 'string' ? line.name : line.n,
          ch: typeof line.ch === 'string' ? line.ch : '',
          l: limit,
          b: typeof line.b === 'string' ? line.b : undefined,
          total: typeof line.total === 'number' ? line.total : 0,
        });
        return true;
      }
      case 'c':
        this.notifiers.delete(line.n);
        return true;
      default:
        return false;
    }
  }

  private state(id: string, name: string, channel: string): NotifierState {
    let st = this.notifiers.get(id);
    if (!st) {
      st = { id, name, channel, limit: this.defaultLimit, total: 0, records: [], ids: new Set() };
      this.notifiers.set(id, st);
    }
    return st;
  }

  private static trim(st: NotifierState): number {
    const excess = st.records.length - st.limit;
    if (excess <= 0) return 0;
    for (const r of st.records.splice(0, excess)) st.ids.delete(r.id);
    return excess;
  }

  /** Adds a record to memory (skipped if that record id is already kept: redeliveries may be reported twice). */
  private applyRecord(line: Extract<JournalLine, { t: 'r' }>): boolean {
    const r = line.r;
    const st = this.state(line.n, r.notifier, r.channel);
    const limit = validLimit(line.l);
    if (limit !== undefined) st.limit = limit;
    if (typeof line.b === 'string') st.keptBy = line.b;
    if (st.ids.has(r.id)) return false;
    st.records.push(r);
    st.ids.add(r.id);
    st.name = typeof r.notifier === 'string' && r.notifier !== '' ? r.notifier : st.name;
    st.channel = typeof r.channel === 'string' && (r.channel as string) !== '' ? r.channel : st.channel;
    if (line.s !== 1) st.total++;
    HistoryStore.trim(st);
    return true;
  }

  private applyMeta(line: Extract<JournalLine, { t: 'n' }>): void {
    const st = this.state(line.n, line.name, line.ch);
    st.name = line.name || st.name;
    st.channel = line.ch || st.channel;
    st.limit = line.l;
    if (line.b !== undefined) st.keptBy = line.b;
    st.total = line.total;
    HistoryStore.trim(st);
  }

  private metaLine(st: NotifierState, limit = st.limit): JournalLine {
    const line: JournalLine = { t: 'n', n: st.id, name: st.name, ch: st.channel, l: limit, total: st.total };
    if (st.keptBy !== undefined) line.b = st.keptBy;
    return line;
  }

  // ---------------------------------------------------------------------------------------------------- writing

  private assertOpen(): void {
    if (this.closed) throw new HistoryStoreError(`notifier-history: the history store of ${this.dir} is closed`);
  }

  private append(lines: JournalLine[], apply: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'append', lines: lines.map((l) => JSON.stringify(l)), apply, resolve, reject });
      this.kick();
    });
  }

  private task(run: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'task', run, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  /** The single writer: runs queued appends (batched: one write + one fsync per batch) and tasks in order. */
  private async drain(): Promise<void> {
    try {
      await this.ready;
    } catch (err) {
      for (const op of this.queue.splice(0)) op.reject(err as Error);
      return;
    }
    await drainQueue(this.queue, MAX_BATCH, async (batch: Append[]) => {
      const lines = batch.flatMap((op) => op.lines.map((l) => l + '\n'));
      const count = lines.length;
      const text = joinAsBytes(lines, this.prefixNewline ? '\n' : undefined);
      try {
        await this.write(text);
        this.prefixNewline = false;
      } catch (err) {
        // part of the text may be on disk: the next write starts on a line of its own, so no record joins a torn one
        this.prefixNewline = true;
        const e = new HistoryStoreError(`notifier-history: could not write to ${this.file}: ${(err as Error).message}`, { cause: err });
        for (const op of batch) op.reject(e);
        return;
      }
      this.linesSinceCompaction += count;
      this.journalLines += count;
      for (const op of batch) {
        op.apply();
        op.resolve();
      }
      if (this.linesSinceCompaction >= Math.max(this.compactAfter, this.recordCount())) {
        try {
          await this.compact();
        } catch (err) {
          this.linesSinceCompaction = 0; // retry after as many lines again, not on every append
          this.warn(`notifier-history: compaction of ${this.file} failed: ${(err as Error).message}`);
        }
      }
    });
  }

  private async write(text: Buffer): Promise<void> {
    try {
      await appendDurably(this.file, text);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // The directory was removed under us: recreate it (the records in memory are rewritten at the next compaction).
      await ensurePrivateDir(this.dir);
      this.fileSynced = false;
      await appendDurably(this.file, text);
    }
    if (!this.fileSynced) {
      await syncDir(this.dir);
      this.fileSynced = true;
    }
  }

  /** Rewrites the journal from memory (atomically). Only ever called from the writer. */
  private async compact(): Promise<void> {
    let lines = 0;
    await rewriteAtomically(this.file, async (put) => {
      for (const st of this.notifiers.values()) {
        await put(JSON.stringify(this.metaLine(st)) + '\n');
        lines++;
        for (const r of st.records) {
          await put(JSON.stringify({ t: 'r', n: st.id, r, s: 1 } satisfies JournalLine) + '\n');
          lines++;
        }
      }
    });
    this.fileSynced = true;
    this.journalLines = lines;
    this.linesSinceCompaction = 0;
    this.compactions++;
  }

  private warn(message: string): void {
    try {
      this.warnFn(message);
    } catch {
      // a logger must not break the store
    }
  }

  /**
   * Keeps a dispatch record (msg.dispatch) and the event it dispatched (msg.event, for redelivery). Resolves once
   * the record is on disk, with the entry as kept (redacted). Rejects with HistoryInputError for an invalid record.
   */
  async keep(dispatch: unknown, event?: unknown, options: KeepOptions = {}): Promise<HistoryEntry> {
    this.assertOpen();
    const entry = prepareEntry(dispatch, event, { now: this.now, maxEventBytes: this.maxEventBytes, warn: (m) => this.warn(m) });
    const record = entry;
    // a record reported twice (by the output node while it stops, or again after a restart) is kept once
    const existing = this.notifiers.get(record.notifierId);
    if (existing?.ids.has(record.id)) {
      const kept = existing.records.find((r) => r.id === record.id);
      if (kept) return kept;
    }
    const line: Extract<JournalLine, { t: 'r' }> = { t: 'r', n: record.notifierId, r: entry };
    const limit = validLimit(options.limit);
    if (limit !== undefined) line.l = limit;
    if (typeof options.keptBy === 'string' && options.keptBy !== '') line.b = options.keptBy;
    await this.append([line], () => {
      if (this.applyRecord(line)) this.recordsWritten++;
    });
    return entry;
  }

  /**
   * Sets the limit of every notifier kept by history node `keptBy` (a node's `limit` changed): a lower limit
   * drops the oldest records at once. Resolves with the number of records dropped, once the change is on disk.
   */
  async setLimit(keptBy: string, limit: number): Promise<number> {
    this.assertOpen();
    const l = validLimit(limit);
    if (l === undefined) throw new RangeError(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${String(limit)}`);
    await this.ready;
    const targets = [...this.notifiers.values()].filter((st) => st.keptBy === keptBy && st.limit !== l);
    if (targets.length === 0) return 0;
    let dropped = 0;
    await this.append(
      targets.map((st) => this.metaLine(st, l)),
      () => {
        for (const st of targets) {
          if (this.notifiers.get(st.id) !== st) continue;
          st.limit = l;
          dropped += HistoryStore.trim(st);
        }
      },
    );
    if (dropped > 0) await this.task(() => this.compact());
    return dropped;
  }

  /** Removes every record of a notifier (the history's Clear). Resolves with the number removed (0: unknown). */
  async clear(notifierId: string): Promise<number> {
    this.assertOpen();
    await this.ready;
    if (!this.notifiers.has(notifierId)) return 0;
    let removed = 0;
    await this.append([{ t: 'c', n: notifierId }], () => {
      removed = this.notifiers.get(notifierId)?.records.length ?? 0;
      this.notifiers.delete(notifierId);
    });
    // The cleared records must not linger in the file: rewrite it now.
    await this.task(() => this.compact());
    return removed;
  }

  /** Waits for every pending write, then closes the store (later writes reject). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.draining) await this.draining;
  }

  /** Resolves when every write queued so far is done. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  // ---------------------------------------------------------------------------------------------------- reading

  private recordCount(): number {
    let n = 0;
    for (const st of this.notifiers.values()) n += st.records.length;
    return n;
  }

  private summary(st: NotifierState): NotifierSummary {
    return summarize(st);
  }

  /** Every notifier with records, the most recently run first. */
  listNotifiers(): NotifierSummary[] {
    return sortByLastRun([...this.notifiers.values()].map((st) => this.summary(st)));
  }

  getNotifier(notifierId: string): NotifierSummary | undefined {
    const st = this.notifiers.get(notifierId);
    return st ? this.summary(st) : undefined;
  }

  /** A page of a notifier's records, newest first; undefined for an unknown notifier. */
  getRecords(notifierId: string, page: { offset?: number; limit?: number } = {}): RecordPage | undefined {
    const st = this.notifiers.get(notifierId);
    return st ? pageOf(st, st.records, page) : undefined;
  }

  getRecord(notifierId: string, recordId: string): HistoryEntry | undefined {
    return this.notifiers.get(notifierId)?.records.find((r) => r.id === recordId);
  }

  /** Ids of the notifiers whose id, or else name, is `nameOrId`. */
  findNotifiers(nameOrId: string): string[] {
    if (this.notifiers.has(nameOrId)) return [nameOrId];
    return [...this.notifiers.values()].filter((st) => st.name === nameOrId).map((st) => st.id);
  }

  /** Notifiers last kept by history node `keptBy`. */
  notifiersKeptBy(keptBy: string): NotifierSummary[] {
    return [...this.notifiers.values()].filter((st) => st.keptBy === keptBy).map((st) => this.summary(st));
  }

  stats(): StoreStats {
    return {
      notifiers: this.notifiers.size,
      recordsInMemory: this.recordCount(),
      recordsWritten: this.recordsWritten,
      journalLines: this.journalLines,
      compactions: this.compactions,
      skippedLines: this.skippedLines,
    };
  }
}

// ------------------------------------------------------------------------------------------------------ registry

interface RegistryEntry {
  store: HistoryStore;
  refs: number;
}

const registry = new Map<string, RegistryEntry>();
/** Stores being closed, by directory: a new store of the same directory loads only after they finished writing. */
const closing = new Map<string, Promise<void>>();

/**
 * The one store of `dir` in this process (opened on first use, shared by every history node and the admin API).
 * Each acquire needs a matching `releaseHistoryStore`; the store closes when the last one is released.
 */
export function acquireHistoryStore(dir: string, options?: HistoryStoreOptions): HistoryStore {
  const key = path.resolve(dir);
  let entry = registry.get(key);
  if (!entry || entry.store.isClosed) {
    entry = { store: new HistoryStore(key, options, closing.get(key)), refs: 0 };
    registry.set(key, entry);
  }
  entry.refs++;
  return entry.store;
}

/** Gives back a store from `acquireHistoryStore`; the last release closes it (after its pending writes). */
export async function releaseHistoryStore(store: HistoryStore): Promise<void> {
  const entry = registry.get(store.dir);
  if (!entry || entry.store !== store) return;
  entry.refs--;
  if (entry.refs > 0) return;
  registry.delete(store.dir);
  const done = store.close().finally(() => {
    if (closing.get(store.dir) === done) closing.delete(store.dir);
  });
  closing.set(store.dir, done);
  await done;
}

/** References held on the store of `dir` (0 when none is open), for tests and diagnostics. */
export function historyStoreRefs(dir: string): number {
  return registry.get(path.resolve(dir))?.refs ?? 0;
}
