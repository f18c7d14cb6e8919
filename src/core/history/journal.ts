import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { rewriteAtomically, syncDir, writeAll } from '../store/writer';

export { rewriteAtomically, syncDir };

/** Appends `text` to `file` and flushes it to the disk (fdatasync) before resolving. */
export async function appendDurably(file: string, text: string | Buffer): Promise<void> {
  const fh = await fs.open(file, 'a', 0o600);
  try {
    await writeAll(fh, text);
    await fh.datasync();
  } finally {
    await fh.close();
  }
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
