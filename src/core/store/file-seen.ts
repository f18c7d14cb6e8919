/**
 * Event ids already accepted, in `<dir>/seen.jsonl` (`{"id", "at"}` per line), kept for `windowMs` and at most
 * `max` of them (the oldest go first). The file is rewritten from memory once it holds twice as many lines as
 * live ids. A torn last line is skipped when reading.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { AppendWriter, ensurePrivateDir, rewriteFile } from './writer';
import type { SeenIds } from './types';

export const DEFAULT_DEDUP_WINDOW_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_DEDUP_MAX = 100_000;

export class FileSeenIds implements SeenIds {
  private readonly file: string;
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
        const v = JSON.parse(line) as { id?: unknown; at?: unknown };
        if (typeof v.id === 'string' && typeof v.at === 'number' && v.at >= cutoff) {
          seen.ids.delete(v.id);
          seen.ids.set(v.id, v.at);
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
    const at = this.ids.get(id);
    return at !== undefined && at >= this.now() - this.windowMs;
  }

  private trim(): void {
    const cutoff = this.now() - this.windowMs;
    for (const [id, at] of this.ids) {
      if (this.ids.size <= this.max && at >= cutoff) break;
      this.ids.delete(id);
    }
  }

  async add(id: string): Promise<void> {
    const at = this.now();
    this.ids.delete(id);
    this.ids.set(id, at);
    this.trim();
    this.lines++;
    await this.writer.append(this.file, JSON.stringify({ id, at }) + '\n');
    if (this.lines > 2 * this.ids.size + 1000) {
      this.lines = this.ids.size;
      const snapshot = [...this.ids].map(([i, t]) => JSON.stringify({ id: i, at: t }) + '\n').join('');
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
