// Where the runtime's store lives and how it is set up (settings.js `notifierStore`, `notifierIntake`), shared by
// the event node (seen ids) and the output nodes (outboxes).
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStore, RedisStore, acquireFileStore, acquireRedisStore, releaseFileStore, releaseRedisStore } from '../../core/store';
import type { FileStoreOptions, NotifierStore, RedisStoreOptions } from '../../core/store';

import type { NodeRED as RED } from './node-red';

export const DEFAULT_ACK_TIMEOUT_MS = 10_000;

export interface IntakeSettings {
  /** how long the event node waits for the flow to store an event before it answers (ms) */
  ackTimeoutMs: number;
  dedupWindowMs?: number;
  dedupMax?: number;
}

function settingsObject(RED: RED, name: string): Record<string, unknown> {
  let s: unknown;
  try {
    s = RED.settings?.[name];
  } catch {
    s = undefined;
  }
  return s && typeof s === 'object' ? (s as Record<string, unknown>) : {};
}

function positive(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

export function intakeSettings(RED: RED): IntakeSettings {
  const s = settingsObject(RED, 'notifierIntake');
  const out: IntakeSettings = { ackTimeoutMs: positive(s.ackTimeoutMs) ?? DEFAULT_ACK_TIMEOUT_MS };
  const w = positive(s.dedupWindowMs);
  if (w !== undefined) out.dedupWindowMs = w;
  const m = positive(s.dedupMax);
  if (m !== undefined) out.dedupMax = Math.floor(m);
  return out;
}

let fallbackDir: string | undefined;

/**
 * The store directory: `notifierStore.dir` (relative to the user directory), else `<userDir>/notifier-store`.
 * Without a user directory (a bare test harness) it is a directory of this process under the system's temp dir.
 */
export function storeDir(RED: RED): string {
  const settings = RED.settings ?? {};
  const userDir: unknown = settings.userDir;
  const custom = settingsObject(RED, 'notifierStore').dir;
  if (typeof userDir === 'string' && userDir) {
    return typeof custom === 'string' && custom.trim() ? path.resolve(userDir, custom) : path.join(userDir, 'notifier-store');
  }
  if (typeof custom === 'string' && path.isAbsolute(custom)) return custom;
  fallbackDir ??= path.join(os.tmpdir(), `notifier-store-${process.pid}`);
  return fallbackDir;
}

/**
 * The runtime's store (`notifierStore.type`: `file`, the default, or `redis`); give it back with
 * `releaseNotifierStore`. Throws a clear error for settings it cannot use (never with the Redis password).
 */
export function acquireNotifierStore(RED: RED): NotifierStore {
  const s = settingsObject(RED, 'notifierStore');
  const type: unknown = s.type ?? 'file';
  if (type !== 'file' && type !== 'redis') throw new Error(`settings.js notifierStore.type must be "file" or "redis", got ${JSON.stringify(type)}`);
  const intake = intakeSettings(RED);
  const limits: { maxItems?: number; maxBytes?: number; dedupWindowMs?: number; dedupMax?: number } = {};
  const maxItems = positive(s.maxItems);
  if (maxItems !== undefined) limits.maxItems = Math.floor(maxItems);
  const maxBytes = positive(s.maxBytes);
  if (maxBytes !== undefined) limits.maxBytes = Math.floor(maxBytes);
  if (intake.dedupWindowMs !== undefined) limits.dedupWindowMs = intake.dedupWindowMs;
  if (intake.dedupMax !== undefined) limits.dedupMax = intake.dedupMax;
  if (type === 'file') return acquireFileStore(storeDir(RED), limits satisfies FileStoreOptions);
  if (typeof s.url !== 'string' || !s.url.trim()) {
    throw new Error('settings.js notifierStore.url is missing: type "redis" needs a redis:// or rediss:// URL (e.g. url: process.env.NOTIFIER_REDIS_URL)');
  }
  if (s.prefix !== undefined && (typeof s.prefix !== 'string' || !/^[A-Za-z0-9._:{}-]{1,64}$/.test(s.prefix))) {
    throw new Error(`settings.js notifierStore.prefix must be 1 to 64 letters, digits or . _ : - { }, got ${JSON.stringify(s.prefix)}`);
  }
  if (s.tls !== undefined && typeof s.tls !== 'boolean' && (typeof s.tls !== 'object' || s.tls === null)) {
    throw new Error('settings.js notifierStore.tls must be true, false or an object of TLS options (ca, cert, key, servername…)');
  }
  const options: RedisStoreOptions = { url: s.url, ...limits, log: (level, message) => RED.log?.[level]?.(message) };
  if (typeof s.prefix === 'string') options.prefix = s.prefix;
  if (s.tls !== undefined) options.tls = s.tls as boolean | Record<string, unknown>;
  const lease = positive(s.leaseMs);
  if (lease !== undefined) options.leaseMs = lease;
  return acquireRedisStore(options);
}

export function releaseNotifierStore(store: NotifierStore): Promise<void> {
  if (store instanceof RedisStore) return releaseRedisStore(store);
  if (store instanceof FileStore) return releaseFileStore(store);
  return store.close();
}

const sweeps = new WeakMap<object, Set<string>>();

/**
 * Runs `sweep` each time the flows started, with the runtime's store and the ids of the nodes in the flows (not when
 * there are none: a stopped or empty runtime judges nothing orphaned). Registered once per `what` per runtime; a
 * failure is logged as "could not check <what>".
 */
export function afterFlowsStarted(RED: RED, what: string, sweep: (store: NotifierStore, known: Set<string>) => Promise<void>): void {
  const events = RED.events;
  if (!events || typeof events.on !== 'function') return;
  let done = sweeps.get(events);
  if (!done) sweeps.set(events, (done = new Set()));
  if (done.has(what)) return;
  done.add(what);
  events.on('flows:started', () => {
    void (async () => {
      const known = new Set<string>();
      RED.nodes.eachNode?.((n: { id: string }) => known.add(n.id));
      if (known.size === 0) return;
      let store: NotifierStore | undefined;
      try {
        store = acquireNotifierStore(RED);
        await sweep(store, known);
      } catch (err) {
        RED.log?.warn?.(`notifier: could not check ${what}: ${(err as Error).message}`);
      } finally {
        if (store) await releaseNotifierStore(store);
      }
    })();
  });
}
