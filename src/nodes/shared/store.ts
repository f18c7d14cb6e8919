// Where the runtime's store lives and how it is set up (settings.js `notifierStore`, `notifierIntake`), shared by
// the event node (seen ids) and the output nodes (outboxes).
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireFileStore, releaseFileStore } from '../../core/store';
import type { FileStore, FileStoreOptions } from '../../core/store';

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

/** The runtime's store; give it back with `releaseStore`. Throws for a store type this version does not have. */
export function acquireNotifierStore(RED: RED): FileStore {
  const s = settingsObject(RED, 'notifierStore');
  const type: unknown = s.type ?? 'file';
  if (type !== 'file') throw new Error(`notifierStore.type "${String(type)}" is not available in this version (use "file")`);
  const intake = intakeSettings(RED);
  const options: FileStoreOptions = {};
  const maxItems = positive(s.maxItems);
  if (maxItems !== undefined) options.maxItems = Math.floor(maxItems);
  const maxBytes = positive(s.maxBytes);
  if (maxBytes !== undefined) options.maxBytes = Math.floor(maxBytes);
  if (intake.dedupWindowMs !== undefined) options.dedupWindowMs = intake.dedupWindowMs;
  if (intake.dedupMax !== undefined) options.dedupMax = intake.dedupMax;
  return acquireFileStore(storeDir(RED), options);
}

export function releaseNotifierStore(store: FileStore): Promise<void> {
  return releaseFileStore(store);
}

const sweeps = new WeakMap<object, Set<string>>();

/**
 * Runs `sweep` each time the flows started, with the runtime's store and the ids of the nodes in the flows (not when
 * there are none: a stopped or empty runtime judges nothing orphaned). Registered once per `what` per runtime; a
 * failure is logged as "could not check <what>".
 */
export function afterFlowsStarted(RED: RED, what: string, sweep: (store: FileStore, known: Set<string>) => Promise<void>): void {
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
      let store: FileStore | undefined;
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
