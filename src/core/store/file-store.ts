/**
 * The `file` store: under one directory (by default `<userDir>/notifier-store`, 0700), `outbox/<nodeId>/` per output
 * node, `digest/<nodeId>/` per digest node (its open groups) and `seen.jsonl` for accepted event ids. One store per directory in a process (`acquireFileStore`), shared by
 * the nodes of the runtime; an outbox is opened by one node at a time, and a node redeployed opens it again once the
 * old one has closed it.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { FileOutbox } from './file-outbox';
import type { Budget } from './file-outbox';
import { FileSeenIds } from './file-seen';
import { FileGroups } from './file-groups';
import { ensurePrivateDir } from './writer';
import { DEFAULT_STORE_LIMITS, StoreUnavailableError } from './types';
import type { DigestGroups, GroupsOptions, HistoryBackend, NotifierStore, Outbox, OutboxOptions, SeenIds, StoreLimits } from './types';
import { HistoryStore, acquireHistoryStore, releaseHistoryStore } from '../history/store';
import type { HistoryStoreOptions } from '../history/types';

export interface FileStoreOptions extends Partial<StoreLimits> {
  /** where the history lives (default `<dir>/../notifier-history`, beside the store under the user directory) */
  historyDir?: string;
  historyOptions?: HistoryStoreOptions;
  dedupWindowMs?: number;
  dedupMax?: number;
  now?: () => number;
}

/** Outbox directory names: node ids are [A-Za-z0-9._-]; anything else is hex-encoded. */
function dirName(nodeId: string): string {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,100}$/.test(nodeId) ? nodeId : 'x' + Buffer.from(nodeId).toString('hex').slice(0, 120);
}

/** Outboxes being closed, by directory (module-wide: a store opened again after a full redeploy waits for them too). */
const closing = new Map<string, Promise<void>>();

export class FileStore implements NotifierStore {
  readonly type = 'file';
  readonly dir: string;
  private readonly budget: Budget;
  private readonly options: FileStoreOptions;
  private readonly ready: Promise<void>;
  private seen: Promise<FileSeenIds> | undefined;
  private readonly boxes = new Set<FileOutbox>();
  private readonly groupSets = new Set<FileGroups>();

  constructor(dir: string, options: FileStoreOptions = {}) {
    this.dir = path.resolve(dir);
    this.options = options;
    this.budget = {
      items: 0,
      bytes: 0,
      maxItems: options.maxItems ?? DEFAULT_STORE_LIMITS.maxItems,
      maxBytes: options.maxBytes ?? DEFAULT_STORE_LIMITS.maxBytes,
    };
    this.ready = ensurePrivateDir(path.join(this.dir, 'outbox')).catch((err: Error) => {
      throw new StoreUnavailableError(`cannot use the store directory ${this.dir}: ${err.message}`, { cause: err });
    });
    this.ready.catch(() => undefined);
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  /** Opens the outbox of `nodeId`, once the previous opener has closed it. Close it with `outbox.close()`. */
  async openOutbox(nodeId: string, options: OutboxOptions = {}): Promise<Outbox> {
    await this.ready;
    const key = path.join(this.dir, 'outbox', dirName(nodeId));
    await closing.get(key);
    const box = await FileOutbox.open(nodeId, key, this.budget, options);
    this.boxes.add(box);
    this.remember(key, box, (b) => this.boxes.delete(b as FileOutbox));
    return box;
  }

  async outboxIds(): Promise<string[]> {
    await this.ready;
    return this.nodeIdsIn('outbox');
  }

  private async nodeIdsIn(sub: string): Promise<string[]> {
    const names = await fs.readdir(path.join(this.dir, sub)).catch(() => [] as string[]);
    return names.map((n) => (n.startsWith('x') && /^x[0-9a-f]+$/.test(n) && n.length % 2 === 1 ? Buffer.from(n.slice(1), 'hex').toString() : n));
  }

  /** Opens the digest groups of `nodeId`, once the previous opener has closed them. Close them with `groups.close()`. */
  async openGroups(nodeId: string, options: GroupsOptions = {}): Promise<DigestGroups> {
    await this.ready;
    const key = path.join(this.dir, 'digest', dirName(nodeId));
    await closing.get(key);
    const groups = await FileGroups.open(nodeId, key, options);
    this.groupSets.add(groups);
    this.remember(key, groups, (g) => this.groupSets.delete(g as FileGroups));
    return groups;
  }

  async groupsIds(): Promise<string[]> {
    await this.ready;
    return this.nodeIdsIn('digest');
  }

  /** Closing and destroying are remembered, so that the next opener of the same node waits for them. */
  private remember(key: string, target: { close(): Promise<void>; destroy(): Promise<void> }, forget: (t: unknown) => void): void {
    const close = target.close.bind(target);
    const destroy = target.destroy.bind(target);
    const wrap = (fn: () => Promise<void>) => () => {
      const p = fn().finally(() => {
        forget(target);
        if (closing.get(key) === p) closing.delete(key);
      });
      closing.set(key, p);
      return p;
    };
    target.close = wrap(close);
    target.destroy = wrap(destroy);
  }

  seenIds(): Promise<SeenIds> {
    if (!this.seen) {
      this.seen = this.ready.then(() =>
        FileSeenIds.open(this.dir, {
          ...(this.options.dedupWindowMs !== undefined ? { windowMs: this.options.dedupWindowMs } : {}),
          ...(this.options.dedupMax !== undefined ? { max: this.options.dedupMax } : {}),
          ...(this.options.now ? { now: this.options.now } : {}),
        }),
      );
      this.seen.catch(() => {
        this.seen = undefined;
      });
    }
    return this.seen;
  }

  history(): HistoryBackend {
    return acquireHistoryStore(this.options.historyDir ?? path.join(path.dirname(this.dir), 'notifier-history'), this.options.historyOptions);
  }

  releaseHistory(history: HistoryBackend): Promise<void> {
    return history instanceof HistoryStore ? releaseHistoryStore(history) : Promise.resolve();
  }

  problem(): string | undefined {
    for (const b of this.boxes) if (b.problem) return b.problem;
    for (const g of this.groupSets) if (g.problem) return g.problem;
    return undefined;
  }

  /** How full the store is (over every open outbox). */
  usage(): { items: number; bytes: number; maxItems: number; maxBytes: number } {
    return { ...this.budget };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.boxes, ...this.groupSets].map((b) => b.close()));
    if (this.seen) await (await this.seen.catch(() => undefined))?.close();
  }
}

interface RegistryEntry {
  store: FileStore;
  refs: number;
}
const registry = new Map<string, RegistryEntry>();

/** The one file store of `dir` in this process; give it back with `releaseFileStore`. */
export function acquireFileStore(dir: string, options?: FileStoreOptions): FileStore {
  const key = path.resolve(dir);
  let entry = registry.get(key);
  if (!entry) {
    entry = { store: new FileStore(key, options), refs: 0 };
    registry.set(key, entry);
  }
  entry.refs++;
  return entry.store;
}

/** The last release closes the store's seen ids (outboxes are closed by their nodes). */
export async function releaseFileStore(store: FileStore): Promise<void> {
  const entry = registry.get(store.dir);
  if (!entry || entry.store !== store) return;
  entry.refs--;
  if (entry.refs > 0) return;
  registry.delete(store.dir);
  await store.close();
}
