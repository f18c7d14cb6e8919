/**
 * The file outbox of one output node: segment journals `<dir>/<seq>.jsonl`, each self-contained. Lines:
 * - `{t:"i", id, ev, m?, at, rd?}`: a dispatch stored (its event, the message's other properties, when, what it redelivers);
 * - `{t:"w", id, n, log, due}`: it waits to retry (attempts made, their log, when the next one is due);
 * - `{t:"s", id, r}`: it has its result (the record), which still has to reach the flow;
 * - `{t:"a", id}`: finished; the entry is gone.
 * The state lines of an entry go to the segment that holds it, so a segment whose entries are all finished is
 * deleted whole. New entries go to the head segment. Memory holds the entries of the loaded segments only: when the
 * window is full, new entries go to a segment that is not loaded, read back once the window has drained (bursts go
 * to disk, not memory). A torn last line (a crash mid-write) is skipped when reading.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { AttemptLogEntry, DispatchRecord } from '../dispatch';
import { AppendWriter, ensurePrivateDir, readLines, rewriteFile, syncDir } from './writer';
import { StoreFullError, StoreUnavailableError } from './types';
import type { NewOutboxEntry, Outbox, OutboxEntry, OutboxOptions, OutboxStats, StoreLimits } from './types';

export const DEFAULT_WINDOW_ITEMS = 1000;
export const DEFAULT_WINDOW_BYTES = 16 * 1024 * 1024;
/** A segment takes new entries until it holds this many bytes or entries. */
const SEGMENT_BYTES = 4 * 1024 * 1024;
const SEGMENT_ITEMS = 1000;
const SEGMENT_NAME = /^(\d{10})\.jsonl$/;

/** The bounds shared by every outbox of one store. */
export interface Budget extends StoreLimits {
  items: number;
  bytes: number;
}

interface Segment {
  seq: number;
  file: string;
  loaded: boolean;
  /** entries stored in it and not finished */
  pending: number;
  bytes: number;
  /** entries ever stored in it */
  items: number;
}

interface Held {
  entry: OutboxEntry;
  seg: Segment;
  size: number;
}

type Line =
  | { t: 'i'; id: string; ev: unknown; m?: Record<string, unknown>; at: number; rd?: string }
  | { t: 'w'; id: string; n: number; log: AttemptLogEntry[]; due: number }
  | { t: 's'; id: string; r: DispatchRecord }
  | { t: 'a'; id: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Applies one journal line to the entries of a segment being read. */
function applyLine(entries: Map<string, { entry: OutboxEntry; size: number }>, text: string): void {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    return; // a torn write (the last line of a crashed run)
  }
  if (!isObject(line) || typeof line.id !== 'string') return;
  const id = line.id;
  switch (line.t) {
    case 'i': {
      if (!isObject(line.ev)) return;
      const entry: OutboxEntry = {
        id,
        event: line.ev,
        createdAt: typeof line.at === 'number' ? line.at : Date.now(),
        attempts: 0,
        attemptLog: [],
        dueAt: 0,
      };
      if (isObject(line.m)) entry.msg = line.m;
      if (typeof line.rd === 'string') entry.redeliveryOf = line.rd;
      entries.set(id, { entry, size: text.length + 1 });
      return;
    }
    case 'w': {
      const held = entries.get(id);
      if (!held) return;
      if (typeof line.n === 'number') held.entry.attempts = line.n;
      if (Array.isArray(line.log)) held.entry.attemptLog = line.log as AttemptLogEntry[];
      if (typeof line.due === 'number') held.entry.dueAt = line.due;
      return;
    }
    case 's': {
      const held = entries.get(id);
      if (held && isObject(line.r)) held.entry.record = line.r as unknown as DispatchRecord;
      return;
    }
    case 'a':
      entries.delete(id);
      return;
  }
}

/** Reads a segment line by line (streamed: no string of the whole file, which V8 would put in its old space). */
async function readSegment(file: string): Promise<{ entries: Map<string, { entry: OutboxEntry; size: number }>; bytes: number; torn: boolean }> {
  const entries = new Map<string, { entry: OutboxEntry; size: number }>();
  let bytes = 0;
  // a head segment that never took an entry has no file
  const read = await readLines(file, (line) => {
    bytes += Buffer.byteLength(line) + 1;
    if (line) applyLine(entries, line);
  });
  if (read.unterminated) bytes -= 1;
  return { entries, bytes, torn: read.unterminated };
}

export class FileOutbox implements Outbox {
  readonly id: string;
  readonly dir: string;
  private readonly budget: Budget;
  private readonly windowItems: number;
  private readonly windowBytes: number;
  private readonly writer = new AppendWriter();
  private segments: Segment[] = [];
  private readonly held = new Map<string, Held>();
  /** ids held and not taken, oldest first */
  private readonly untaken = new Set<string>();
  private memItems = 0;
  private memBytes = 0;
  private loading: Promise<void> | undefined;
  private listener: (() => void) | undefined;
  private closed = false;
  private failure: Error | undefined;
  owner: Record<string, string> = {};

  private constructor(id: string, dir: string, budget: Budget, options: OutboxOptions) {
    this.id = id;
    this.dir = dir;
    this.budget = budget;
    this.windowItems = Math.max(1, options.windowItems ?? DEFAULT_WINDOW_ITEMS);
    this.windowBytes = Math.max(1024, options.windowBytes ?? DEFAULT_WINDOW_BYTES);
  }

  /** Opens (or creates) the outbox in `dir`: loads what fits the window and counts the rest. */
  static async open(id: string, dir: string, budget: Budget, options: OutboxOptions = {}): Promise<FileOutbox> {
    const box = new FileOutbox(id, dir, budget, options);
    await box.load();
    const ownerFile = path.join(dir, 'owner.json');
    try {
      box.owner = JSON.parse(await fs.readFile(ownerFile, 'utf8')) as Record<string, string>;
    } catch {
      box.owner = {};
    }
    if (options.owner && JSON.stringify(options.owner) !== JSON.stringify(box.owner)) {
      box.owner = { ...options.owner };
      await rewriteFile(ownerFile, JSON.stringify(box.owner)).catch(() => undefined);
    }
    return box;
  }

  private get head(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  private segmentFile(seq: number): string {
    return path.join(this.dir, `${String(seq).padStart(10, '0')}.jsonl`);
  }

  private roomInWindow(): boolean {
    return this.memItems < this.windowItems && this.memBytes < this.windowBytes;
  }

  private async load(): Promise<void> {
    try {
      await ensurePrivateDir(this.dir);
      const names = (await fs.readdir(this.dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
      let unloaded = false;
      for (const name of names) {
        const seq = Number(SEGMENT_NAME.exec(name)![1]);
        const file = path.join(this.dir, name);
        const { entries, bytes, torn } = await readSegment(file);
        if (entries.size === 0) {
          await fs.rm(file, { force: true });
          continue;
        }
        if (torn) this.writer.breakLine(file);
        const seg: Segment = { seq, file, loaded: false, pending: entries.size, bytes, items: entries.size };
        this.segments.push(seg);
        this.budget.items += seg.pending;
        this.budget.bytes += bytes;
        if (!unloaded && this.roomInWindow()) {
          seg.loaded = true;
          for (const { entry, size } of entries.values()) this.hold(entry, seg, size);
        } else {
          unloaded = true;
        }
      }
    } catch (err) {
      throw new StoreUnavailableError(`cannot open the outbox in ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
    this.newHead();
  }

  /** Starts a new head segment (loaded when no segment before it waits on disk and the window has room). */
  private newHead(): void {
    const last = this.segments[this.segments.length - 1];
    const seq = last ? last.seq + 1 : 1;
    const loaded = this.segments.every((s) => s.loaded) && this.roomInWindow();
    this.segments.push({ seq, file: this.segmentFile(seq), loaded, pending: 0, bytes: 0, items: 0 });
  }

  private hold(entry: OutboxEntry, seg: Segment, size: number): void {
    this.held.set(entry.id, { entry, seg, size });
    this.untaken.add(entry.id);
    this.memItems++;
    this.memBytes += size;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError(`the outbox of node ${this.id} is closed`);
  }

  onAvailable(callback: () => void): void {
    this.listener = callback;
  }

  private notify(): void {
    try {
      this.listener?.();
    } catch {
      // a listener cannot break the outbox
    }
  }

  async add(entries: NewOutboxEntry[]): Promise<void> {
    this.assertOpen();
    if (entries.length === 0) return;
    const lines = entries.map((e) => {
      const line: Line = { t: 'i', id: e.id, ev: e.event, at: e.createdAt };
      if (e.msg && Object.keys(e.msg).length > 0) line.m = e.msg;
      if (e.redeliveryOf !== undefined) line.rd = e.redeliveryOf;
      return JSON.stringify(line) + '\n';
    });
    const sizes = lines.map((l) => Buffer.byteLength(l));
    const size = sizes.reduce((a, b) => a + b, 0);
    const b = this.budget;
    if (b.items + entries.length > b.maxItems || b.bytes + size > b.maxBytes) {
      throw new StoreFullError(
        `the outbox is full (${b.items} dispatches, ${b.bytes} bytes stored; the bounds are ${b.maxItems} dispatches and ${b.maxBytes} bytes): nothing was sent`,
      );
    }
    let head = this.head;
    if (head.bytes >= SEGMENT_BYTES || head.items >= SEGMENT_ITEMS || (head.loaded && !this.roomInWindow())) {
      this.newHead();
      head = this.head;
    }
    // reserve before writing, so that appends queued together respect the bounds
    b.items += entries.length;
    b.bytes += size;
    head.pending += entries.length;
    head.items += entries.length;
    head.bytes += size;
    const toMemory = head.loaded;
    if (toMemory) {
      this.memItems += entries.length;
      this.memBytes += size;
    }
    try {
      await this.writer.append(head.file, lines.join(''));
    } catch (err) {
      b.items -= entries.length;
      b.bytes -= size;
      head.pending -= entries.length;
      if (toMemory) {
        this.memItems -= entries.length;
        this.memBytes -= size;
      }
      this.failure = err as Error;
      throw new StoreUnavailableError(`could not store in ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
    this.failure = undefined;
    if (toMemory) {
      entries.forEach((e, i) => {
        const entry: OutboxEntry = { ...e, attempts: 0, attemptLog: [], dueAt: 0 };
        this.held.set(e.id, { entry, seg: head, size: sizes[i]! });
        this.untaken.add(e.id);
      });
      this.notify();
    }
  }

  take(max: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    if (this.closed) return out;
    for (const id of this.untaken) {
      if (out.length >= max) break;
      this.untaken.delete(id);
      const h = this.held.get(id);
      if (h) out.push(h.entry);
    }
    return out;
  }

  /**
   * A retry's state or a result: written without waiting for the disk (it survives the process being killed; a power
   * cut can lose it, and then the dispatch is made again: at-least-once).
   */
  private async writeState(id: string, line: Line): Promise<void> {
    this.assertOpen();
    const h = this.held.get(id);
    if (!h) return;
    const text = JSON.stringify(line) + '\n';
    const size = Buffer.byteLength(text);
    h.seg.bytes += size;
    this.budget.bytes += size;
    await this.writer.append(h.seg.file, text, false);
  }

  retryAt(id: string, attempts: number, attemptLog: AttemptLogEntry[], dueAt: number): Promise<void> {
    const h = this.held.get(id);
    if (h) {
      h.entry.attempts = attempts;
      h.entry.attemptLog = attemptLog;
      h.entry.dueAt = dueAt;
    }
    return this.writeState(id, { t: 'w', id, n: attempts, log: attemptLog, due: dueAt });
  }

  settle(id: string, record: DispatchRecord): Promise<void> {
    const h = this.held.get(id);
    if (h) h.entry.record = record;
    return this.writeState(id, { t: 's', id, r: record });
  }

  async ack(id: string): Promise<void> {
    const h = this.held.get(id);
    if (!h) return;
    this.held.delete(id);
    this.untaken.delete(id);
    this.memItems--;
    this.memBytes -= h.size;
    const seg = h.seg;
    seg.pending--;
    this.budget.items--;
    try {
      if (seg.pending === 0 && seg !== this.head && seg.loaded) {
        await this.removeSegment(seg);
      } else if (!this.closed) {
        const text = JSON.stringify({ t: 'a', id } satisfies Line) + '\n';
        seg.bytes += text.length;
        this.budget.bytes += text.length;
        await this.writer.append(seg.file, text, false);
      }
    } finally {
      this.maybeLoad();
    }
  }

  private removeSegment(seg: Segment): Promise<void> {
    this.segments = this.segments.filter((s) => s !== seg);
    this.budget.bytes -= seg.bytes;
    return this.writer.task(async () => {
      await this.writer.release(seg.file, true);
      await fs.rm(seg.file, { force: true });
    });
  }

  /** Reads the next segment waiting on disk once the window has drained to half. */
  private maybeLoad(): void {
    if (this.loading || this.closed) return;
    if (this.memItems > this.windowItems / 2 || this.memBytes > this.windowBytes / 2) return;
    const seg = this.segments.find((s) => !s.loaded);
    if (!seg) return;
    if (seg === this.head) this.newHead(); // new entries go to a fresh (loaded) head while this one is read
    this.loading = (async () => {
      await this.writer.flush();
      const { entries } = await readSegment(seg.file);
      if (this.closed) return;
      seg.loaded = true;
      seg.pending = entries.size;
      for (const { entry, size } of entries.values()) this.hold(entry, seg, size);
      if (entries.size === 0 && seg !== this.head) await this.removeSegment(seg);
    })()
      .catch((err: Error) => {
        this.failure = err;
      })
      .finally(() => {
        this.loading = undefined;
        this.notify();
        this.maybeLoad();
      });
  }

  stats(): OutboxStats {
    let pending = 0;
    let bytes = 0;
    for (const s of this.segments) {
      pending += s.pending;
      bytes += s.bytes;
    }
    return { pending, bytes, inMemory: this.memItems };
  }

  /** The last error reading or writing, when the outbox is failing now. */
  get problem(): string | undefined {
    return this.failure?.message;
  }

  async *drain(): AsyncIterable<OutboxEntry> {
    await this.loading;
    for (const h of [...this.held.values()]) yield h.entry;
    for (const seg of this.segments.filter((s) => !s.loaded)) {
      await this.writer.flush();
      const { entries } = await readSegment(seg.file);
      for (const { entry } of entries.values()) yield entry;
    }
  }

  async destroy(): Promise<void> {
    this.closed = true;
    await this.loading;
    await this.writer.close();
    for (const s of this.segments) {
      this.budget.items -= s.pending;
      this.budget.bytes -= s.bytes;
    }
    this.segments = [];
    this.held.clear();
    this.untaken.clear();
    await fs.rm(this.dir, { recursive: true, force: true });
    await syncDir(path.dirname(this.dir));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.loading?.catch(() => undefined);
    await this.writer.close();
    for (const s of this.segments) {
      this.budget.items -= s.pending;
      this.budget.bytes -= s.bytes;
    }
    this.held.clear();
    this.untaken.clear();
  }
}
