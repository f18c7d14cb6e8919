/**
 * Group commit for journals: appends queued while a write runs go out together, one write and one fdatasync per
 * file per batch, in the order they were queued. A failed write rejects the appends of that file in its batch and
 * the next write to that file starts on a fresh line, so that a torn line never swallows the next record. Files
 * are created 0600 and directories 0700 (they hold event data, requests and responses).
 */
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { createInterface } from 'node:readline';
import * as path from 'node:path';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** Work run alone, in its place in a writer's queue (a rewrite, a release). */
export type QueuedTask = { kind: 'task'; run: () => Promise<void>; resolve: () => void; reject: (err: Error) => void };
type Append = { kind: 'append'; file: string; text: string; sync: boolean; resolve: () => void; reject: (err: Error) => void };
type Op = Append | QueuedTask;

/**
 * Runs a single writer's queue in order: each task alone, and the appends between two tasks in batches of at most
 * `maxBatch` (one `splice` per batch: taking ops one by one with `shift()` made a long queue quadratic).
 */
export async function drainQueue<A extends { kind: 'append' }>(
  queue: Array<A | QueuedTask>,
  maxBatch: number,
  writeBatch: (batch: A[]) => Promise<void>,
): Promise<void> {
  while (queue.length > 0) {
    const first = queue[0]!;
    if (first.kind === 'task') {
      queue.shift();
      try {
        await first.run();
        first.resolve();
      } catch (err) {
        first.reject(err as Error);
      }
      continue;
    }
    let n = 0;
    while (n < maxBatch && n < queue.length && queue[n]!.kind === 'append') n++;
    await writeBatch(queue.splice(0, n) as A[]);
  }
}

/** Bytes of texts encoded one by one and joined (one string of a large batch would go straight to V8's old space). */
export function joinAsBytes(texts: Iterable<string>, first?: string): Buffer {
  const parts: Buffer[] = first ? [Buffer.from(first)] : [];
  for (const t of texts) parts.push(Buffer.from(t, 'utf8'));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Appends flushed together at most. */
const MAX_BATCH = 8192;
/** Append handles kept open per writer, and how long they stay open once it is idle. */
const MAX_OPEN = 8;
const IDLE_CLOSE_MS = 500;

/**
 * Writes all of `text`: a write may take only part of it (a full disk answers a short write before it answers
 * ENOSPC), so write the rest until done, and fail if the file takes nothing more.
 */
export async function writeAll(fh: fs.FileHandle, text: string | Buffer): Promise<void> {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    if (bytesWritten <= 0) {
      throw Object.assign(new Error(`ENOSPC: no space left on device, wrote ${off} of ${buf.length} bytes`), { code: 'ENOSPC' });
    }
    off += bytesWritten;
  }
}

/** Creates `dir` (and parents) as 0700, and tightens an existing one. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
  const st = await fs.stat(dir);
  if ((st.mode & 0o777) !== DIR_MODE) await fs.chmod(dir, DIR_MODE).catch(() => undefined);
}

/** Flushes a directory's entries (a created, renamed or removed file) to the disk, where directories can be opened. */
export async function syncDir(dir: string): Promise<void> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(dir, 'r');
    await fh.sync();
  } catch {
    // Windows cannot fsync a directory
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

export class AppendWriter {
  private readonly queue: Op[] = [];
  private draining: Promise<void> | undefined;
  /** files whose next write must begin with a newline (a failed or torn write before) */
  private readonly fresh = new Set<string>();
  /** files whose directory entry this writer has synced */
  private readonly known = new Set<string>();
  /** open append handles, most recently used last (a burst writes to the same few files: no open/close per batch) */
  private readonly handles = new Map<string, fs.FileHandle>();
  /** closes the handles once the writer has been idle a while (nothing held open for a quiet node) */
  private idleTimer: NodeJS.Timeout | undefined;

  /** The next append to `file` starts on a new line (its last line may be torn). */
  breakLine(file: string): void {
    this.fresh.add(file);
  }

  /**
   * Appends `text` to `file`. With `sync` (the default) it is flushed to the disk before the promise resolves; without,
   * it is in the operating system's cache (it survives the process being killed, not a power cut) — for state whose
   * loss only repeats work (a delivery made again, at least once).
   */
  append(file: string, text: string, sync = true): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'append', file, text, sync, resolve, reject });
      this.kick();
    });
  }

  /** Runs `run` after everything queued before it, before anything queued after it. */
  task(run: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'task', run, resolve, reject });
      this.kick();
    });
  }

  /** Resolves when everything queued so far is written. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  get backlog(): number {
    return this.queue.length;
  }

  private kick(): void {
    if (this.draining) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0) this.kick();
      else if (this.handles.size > 0) {
        this.idleTimer = setTimeout(() => {
          this.idleTimer = undefined;
          if (!this.draining && this.queue.length === 0) void this.task(() => this.releaseAll());
        }, IDLE_CLOSE_MS);
        this.idleTimer.unref?.();
      }
    });
  }

  private async releaseAll(): Promise<void> {
    for (const file of [...this.handles.keys()]) await this.release(file);
  }

  private drain(): Promise<void> {
    return drainQueue(this.queue, MAX_BATCH, async (batch: Append[]) => {
      const byFile = new Map<string, Append[]>();
      for (const op of batch) {
        let list = byFile.get(op.file);
        if (!list) byFile.set(op.file, (list = []));
        list.push(op);
      }
      await Promise.all(
        [...byFile].map(async ([file, ops]) => {
          const text = joinAsBytes(
            ops.map((op) => op.text),
            this.fresh.has(file) ? '\n' : undefined,
          );
          const sync = ops.some((op) => op.sync);
          try {
            await this.write(file, text, sync);
            this.fresh.delete(file);
          } catch (err) {
            // part of the text may have reached the file: the next record starts on a line of its own
            this.fresh.add(file);
            for (const op of ops) op.reject(err as Error);
            return;
          }
          for (const op of ops) op.resolve();
        }),
      );
    });
  }

  private async handle(file: string): Promise<fs.FileHandle> {
    let fh = this.handles.get(file);
    if (fh) {
      this.handles.delete(file);
      this.handles.set(file, fh);
      return fh;
    }
    fh = await fs.open(file, 'a', FILE_MODE);
    this.handles.set(file, fh);
    if (this.handles.size > MAX_OPEN) {
      const [oldest, old] = this.handles.entries().next().value as [string, fs.FileHandle];
      this.handles.delete(oldest);
      await old.close().catch(() => undefined);
    }
    return fh;
  }

  private async write(file: string, text: string | Buffer, sync: boolean): Promise<void> {
    try {
      const fh = await this.handle(file);
      await writeAll(fh, text);
      if (sync) await fh.datasync();
    } catch (err) {
      // open again next time (the file or its directory may have been removed or replaced)
      await this.release(file, true);
      throw err;
    }
    if (sync && !this.known.has(file)) {
      await syncDir(path.dirname(file));
      this.known.add(file);
    }
  }

  /**
   * Closes the handle of `file` (before it is removed or replaced: `removing`). Call it from a task, after the writes
   * to it.
   */
  async release(file: string, removing = false): Promise<void> {
    const fh = this.handles.get(file);
    this.handles.delete(file);
    if (removing) this.known.delete(file);
    await fh?.close().catch(() => undefined);
  }

  /** Waits for everything queued, then closes every handle. */
  async close(): Promise<void> {
    await this.flush();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    await this.releaseAll();
  }
}

/**
 * Replaces `file` atomically with the chunks `write` produces: they go to `<file>.tmp` (0600), which is synced and
 * renamed over `file`, then the directory is synced. A crash leaves either the old or the new file, never a mix.
 */
export async function rewriteAtomically(file: string, write: (put: (chunk: string) => Promise<void>) => Promise<void>): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await fs.open(tmp, 'w', FILE_MODE);
  try {
    let buffer = '';
    const put = async (chunk: string): Promise<void> => {
      buffer += chunk;
      if (buffer.length >= 256 * 1024) {
        await writeAll(fh, buffer);
        buffer = '';
      }
    };
    await write(put);
    if (buffer) await writeAll(fh, buffer);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await fs.rename(tmp, file);
  await syncDir(path.dirname(file));
}

/** Replaces `file` atomically with `text` (see rewriteAtomically). */
export function rewriteFile(file: string, text: string): Promise<void> {
  return rewriteAtomically(file, (put) => put(text));
}

export interface ReadResult {
  /** lines read (parsed or not) */
  lines: number;
  /** the file did not end with a newline (its last line may be a torn write) */
  unterminated: boolean;
  exists: boolean;
}

/** Calls `onLine` for every line of `file` in order (streamed: memory does not grow with the file). */
export async function readLines(file: string, onLine: (line: string, index: number, isLast: () => boolean) => void): Promise<ReadResult> {
  let size: number;
  try {
    size = (await fs.stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: 0, unterminated: false, exists: false };
    throw err;
  }
  if (size === 0) return { lines: 0, unterminated: false, exists: true };
  let unterminated: boolean;
  {
    const fh = await fs.open(file, 'r');
    try {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      unterminated = last[0] !== 0x0a;
    } finally {
      await fh.close();
    }
  }
  // readline gives a line only when the next one has begun, so "last" is known when the stream ends; keep one behind.
  let pending: string | undefined;
  let index = 0;
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8', end: size - 1 }), crlfDelay: Infinity });
  for await (const line of rl) {
    if (pending !== undefined) onLine(pending, index++, () => false);
    pending = line;
  }
  if (pending !== undefined) onLine(pending, index++, () => true);
  return { lines: index, unterminated, exists: true };
}
