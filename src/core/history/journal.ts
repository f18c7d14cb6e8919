import * as fs from 'node:fs/promises';
import { readLines, rewriteAtomically, syncDir, writeAll } from '../store/writer';
import type { ReadResult } from '../store/writer';

export { readLines, rewriteAtomically, syncDir };
export type { ReadResult };

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
