/**
 * Event ids already accepted, in `<dir>/seen.jsonl` (`{"k", "at"}` per line), kept for `windowMs` and at most
 * `max` of them (the oldest go first). The file is rewritten from memory once it holds twice as many lines as
 * live ids. A torn last line is skipped when reading.
 *
 * An id is kept as a 96-bit digest (16 base64url characters) with the second it was accepted: about 60 bytes an id
 * in memory whatever the sender's id looks like, so 100,000 of them stay a few MB (a burst of new ids grows the
 * live heap, and V8 lets the heap grow to a multiple of that before it collects). Two different ids share a digest
 * with a probability of about 10^-24 per check, far below the disk's own error rate.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { AppendWriter, ensurePrivateDir, rewriteFile } from './writer';
import type { SeenIds } from './types';

export const DEFAULT_DEDUP_WINDOW_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_DEDUP_MAX = 100_000;

/** Seconds are counted from here, so that they stay small integers (V8 keeps them unboxed). */
const EPOCH_S = 1_700_000_000;

/** The key an id is kept by. */
export function seenKey(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 16);
}

/** A time (ms) as the seconds it is kept as. */
function secondsOf(ms: number): number {
  return Math.floor(ms / 1000) - EPOCH_S;
}

export class FileSeenIds implements SeenIds {
  private readonly file: string;
  /** digest of the id → second it was accepted (since EPOCH_S), in the order they were accepted */
  private readonly ids = new Map<string, number>();
  private readonly writer = new AppendWriter();
  private lines = 0;

  private constructor(
    dir: string,
    private readonly windowMs: number,
    private readonly max: number,
    private readonly now: () => number,
  ) {
    this.file = path.join(dir, 'seen.jsonl');
  }

  static async open(dir: string, options: { windowMs?: number; max?: number; now?: () => number } = {}): Promise<FileSeenIds> {
    const seen = new FileSeenIds(
      dir,
      options.windowMs ?? DEFAULT_DEDUP_WINDOW_MS,
      Math.max(1, options.max ?? DEFAULT_DEDUP_MAX),
      options.now ?? Date.now,
    );
    await ensurePrivateDir(dir);
    let text = '';
    try {
      text = await fs.readFile(seen.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const cutoff = seen.now() - seen.windowMs;
    for (const line of text.split('\n')) {
      if (!line) continue;
      seen.lines++;
      try {
        // `k`: the digest; `id`: the id itself (files written before digests were kept)
        const v = JSON.parse(line) as { k?: unknown; id?: unknown; at?: unknown };
        const key = typeof v.k === 'string' ? v.k : typeof v.id === 'string' ? seenKey(v.id) : undefined;
        if (key !== undefined && typeof v.at === 'number' && v.at >= cutoff) {
          seen.ids.delete(key);
          seen.ids.set(key, secondsOf(v.at));
        }
      } catch {
        // a torn write
      }
    }
    if (text && !text.endsWith('\n')) seen.writer.breakLine(seen.file);
    seen.trim();
    return seen;
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    const at = this.ids.get(seenKey(id));
    return at !== undefined && at >= secondsOf(this.now() - this.windowMs);
  }

  private trim(): void {
    const cutoff = secondsOf(this.now() - this.windowMs);
    for (const [key, at] of this.ids) {
      if (this.ids.size <= this.max && at >= cutoff) break;
      this.ids.delete(key);
    }
  }

  async add(id: string): Promise<void> {
    const at = this.now();
    const key = seenKey(id);
    this.ids.delete(key);
    this.ids.set(key, secondsOf(at));
    this.trim();
    this.lines++;
    await this.writer.append(this.file, `{"k":"${key}","at":${at}}\n`);
    if (this.lines > 2 * this.ids.size + 1000) {
      this.lines = this.ids.size;
      let snapshot = '';
      for (const [k, t] of this.ids) snapshot += `{"k":"${k}","at":${(t + EPOCH_S) * 1000}}\n`;
      await this.writer.task(async () => {
        // the open append handle points at the file being replaced
        await this.writer.release(this.file);
        await rewriteFile(this.file, snapshot);
      });
    }
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}
