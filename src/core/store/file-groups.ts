/**
 * The file implementation of a digest node's groups: one journal `<dir>/groups.jsonl` (0600, in a 0700 directory),
 * appended through the AppendWriter (group commit: one write and one fdatasync for the events of a burst). Lines:
 * - `{t:"h", k, e:[{s, at, ev, m?}], tm}`: events held in group `k`, and the group's timing;
 * - `{t:"r", k, u, tm?}`: the events of `k` up to seq `u` went on; `tm` is the new timing, absent when the group
 *   closed.
 * Read back in order (a torn last line is skipped). When most of the journal is released events, it is rewritten
 * (atomically: temp file, fsync, rename) with one line per open group.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { AppendWriter, ensurePrivateDir, rewriteAtomically, rewriteFile } from './writer';
import { StoreUnavailableError } from './types';
import type { DigestGroups, GroupTiming, GroupsOptions, HeldEvent, StoredGroup } from './types';

/** Rewrite the journal once it holds this many more event lines than events held (and is this large). */
const COMPACT_DEAD_EVENTS = 5000;
const COMPACT_MIN_BYTES = 1024 * 1024;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A group's timing read back (undefined when unreadable); shared with the Redis store. */
export function timingOf(v: unknown): GroupTiming | undefined {
  if (!isObject(v) || typeof v.dueAt !== 'number') return undefined;
  const t: GroupTiming = { dueAt: v.dueAt };
  if (typeof v.lastDigestAt === 'number') t.lastDigestAt = v.lastDigestAt;
  if (typeof v.windowStart === 'number') t.windowStart = v.windowStart;
  if (typeof v.passed === 'number') t.passed = v.passed;
  return t;
}

/** A held event read back from its stored form `{s, at, ev, m?}` (undefined when unreadable). */
export function heldOf(v: unknown): HeldEvent | undefined {
  if (!isObject(v) || typeof v.s !== 'number' || !isObject(v.ev)) return undefined;
  const h: HeldEvent = { seq: v.s, at: typeof v.at === 'number' ? v.at : 0, event: v.ev };
  if (isObject(v.m)) h.msg = v.m;
  return h;
}

/** The stored form of a held event. */
export function encodeHeld(h: HeldEvent): Record<string, unknown> {
  return { s: h.seq, at: h.at, ev: h.event, ...(h.msg && Object.keys(h.msg).length > 0 ? { m: h.msg } : {}) };
}

/** Replays journal text into groups (in the order lines were written). */
function replay(text: string, groups: Map<string, StoredGroup>): { events: number } {
  let events = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) {
      let line: unknown;
      try {
        line = JSON.parse(text.slice(start, end));
      } catch {
        line = undefined; // a torn write
      }
      if (isObject(line) && typeof line.k === 'string') {
        const key = line.k;
        const timing = timingOf(line.tm);
        if (line.t === 'h' && Array.isArray(line.e) && timing) {
          let g = groups.get(key);
          if (!g) groups.set(key, (g = { key, timing, events: [] }));
          g.timing = timing;
          for (const raw of line.e) {
            const h = heldOf(raw);
            if (h) {
              g.events.push(h);
              events++;
            }
          }
        } else if (line.t === 'r' && typeof line.u === 'number') {
          const g = groups.get(key);
          if (g) {
            const upTo = line.u;
            let n = 0;
            while (n < g.events.length && g.events[n]!.seq <= upTo) n++;
            if (n > 0) g.events.splice(0, n);
            if (timing) g.timing = timing;
            else if (g.events.length === 0) groups.delete(key);
          }
        }
      }
    }
    start = end + 1;
  }
  return { events };
}

export class FileGroups implements DigestGroups {
  readonly id: string;
  readonly dir: string;
  private readonly file: string;
  private readonly writer = new AppendWriter();
  private closed = false;
  private failure: Error | undefined;
  /** event lines in the journal, and events held (not released) */
  private written = 0;
  private live = 0;
  private bytes = 0;
  private compacting = false;
  /** seqs held per group (to count what a release lets go) */
  private readonly seqs = new Map<string, number[]>();
  owner: Record<string, string> = {};

  private constructor(id: string, dir: string) {
    this.id = id;
    this.dir = dir;
    this.file = path.join(dir, 'groups.jsonl');
  }

  static async open(id: string, dir: string, options: GroupsOptions = {}): Promise<FileGroups> {
    const g = new FileGroups(id, dir);
    try {
      await ensurePrivateDir(dir);
      const ownerFile = path.join(dir, 'owner.json');
      g.owner = JSON.parse(await fs.readFile(ownerFile, 'utf8').catch(() => '{}')) as Record<string, string>;
      if (options.owner && JSON.stringify(options.owner) !== JSON.stringify(g.owner)) {
        g.owner = { ...options.owner };
        await rewriteFile(ownerFile, JSON.stringify(g.owner));
      }
    } catch (err) {
      throw new StoreUnavailableError(`cannot open the digest groups in ${dir}: ${(err as Error).message}`, { cause: err });
    }
    return g;
  }

  get problem(): string | undefined {
    return this.failure?.message;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError(`the digest groups of node ${this.id} are closed`);
  }

  private async read(): Promise<Map<string, StoredGroup>> {
    let text = '';
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const groups = new Map<string, StoredGroup>();
    const { events } = replay(text, groups);
    this.written = events;
    this.bytes = Buffer.byteLength(text);
    this.live = 0;
    this.seqs.clear();
    for (const g of groups.values()) {
      this.live += g.events.length;
      this.seqs.set(
        g.key,
        g.events.map((e) => e.seq),
      );
    }
    if (text && !text.endsWith('\n')) this.writer.breakLine(this.file);
    return groups;
  }

  async load(): Promise<StoredGroup[]> {
    this.assertOpen();
    try {
      let groups!: Map<string, StoredGroup>;
      await this.writer.task(async () => {
        groups = await this.read();
        // start from a compact journal: one line per open group
        if (this.written > this.live || (this.bytes > 0 && groups.size === 0)) await this.rewrite(groups);
      });
      return [...groups.values()];
    } catch (err) {
      throw this.fail(err);
    }
  }

  private fail(err: unknown): StoreUnavailableError {
    const e =
      err instanceof StoreUnavailableError
        ? err
        : new StoreUnavailableError(`cannot write the digest groups in ${this.dir}: ${(err as Error).message}`, { cause: err });
    this.failure = e;
    return e;
  }

  private async append(line: Record<string, unknown>): Promise<void> {
    this.assertOpen();
    const text = JSON.stringify(line) + '\n';
    try {
      await this.writer.append(this.file, text);
      this.bytes += Buffer.byteLength(text);
      this.failure = undefined;
    } catch (err) {
      throw this.fail(err);
    }
  }

  async hold(key: string, events: HeldEvent[], timing: GroupTiming): Promise<void> {
    await this.append({ t: 'h', k: key, e: events.map(encodeHeld), tm: timing });
    let seqs = this.seqs.get(key);
    if (!seqs) this.seqs.set(key, (seqs = []));
    for (const e of events) seqs.push(e.seq);
    this.written += events.length;
    this.live += events.length;
  }

  async release(key: string, upTo: number, timing: GroupTiming | undefined): Promise<void> {
    await this.append({ t: 'r', k: key, u: upTo, ...(timing ? { tm: timing } : {}) });
    const seqs = this.seqs.get(key);
    if (seqs) {
      let n = 0;
      while (n < seqs.length && seqs[n]! <= upTo) n++;
      if (n > 0) seqs.splice(0, n);
      this.live = Math.max(0, this.live - n);
      if (seqs.length === 0 && !timing) this.seqs.delete(key);
    }
    this.maybeCompact();
  }

  private maybeCompact(): void {
    if (this.compacting || this.closed) return;
    if (this.written - this.live < COMPACT_DEAD_EVENTS + this.live || this.bytes < COMPACT_MIN_BYTES) return;
    this.compacting = true;
    this.writer
      .task(async () => {
        const groups = await this.read();
        await this.rewrite(groups);
      })
      .catch(() => undefined) // the journal stays as it was: still correct, only longer
      .finally(() => {
        this.compacting = false;
      });
  }

  /** Replaces the journal with one line per open group. Run from a writer task. */
  private async rewrite(groups: Map<string, StoredGroup>): Promise<void> {
    await this.writer.release(this.file, true);
    let bytes = 0;
    await rewriteAtomically(this.file, async (put) => {
      for (const g of groups.values()) {
        const text = JSON.stringify({ t: 'h', k: g.key, e: g.events.map(encodeHeld), tm: g.timing }) + '\n';
        bytes += Buffer.byteLength(text);
        await put(text);
      }
    });
    this.bytes = bytes;
    this.written = this.live = [...groups.values()].reduce((n, g) => n + g.events.length, 0);
  }

  async destroy(): Promise<void> {
    this.closed = true;
    await this.writer.close();
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.writer.close();
  }
}
