// The runtime side of the dispatch history that is not one node: where the store lives, the admin HTTP API the
// editor sidebar uses (GET/POST/DELETE under `notifier-history`), and the live updates sent over RED.comms.
import * as os from 'node:os';
import * as path from 'node:path';
import { HistoryInputError, HistoryStore, acquireHistoryStore, releaseHistoryStore } from '../../core/history';
import type { HistoryEntry, NotifierSummary } from '../../core/history';
import type { HistoryBackend, NotifierStore } from '../../core/store';
import { acquireNotifierStore, releaseNotifierStore } from './store';
import type { DispatchRecord } from '../../core/dispatch';
import type { NotifierEvent } from '../../core/events';

import type { NodeRED } from './node-red';
export type RED = NodeRED;
/** The parts of Express's request and response the routes use (Express's types are not a dependency). */
interface Request {
  params: Record<string, string | undefined>;
  query: unknown;
}
interface Response {
  headersSent: boolean;
  status(code: number): Response;
  json(body: unknown): void;
}
type NextFunction = () => void;

/** The comms topic the editor subscribes to (`notifier-history/update`). */
export const UPDATE_TOPIC = 'notifier-history/update';
export const READ_PERMISSION = 'notifier-history.read';
export const WRITE_PERMISSION = 'notifier-history.write';
/** Largest page the records route returns. */
export const MAX_PAGE = 1000;

/** What an output node offers for redelivery (see DESIGN.md, History). */
export interface RedeliverableNode {
  id: string;
  type: string;
  redeliver(event: NotifierEvent, options: { redeliveryOf: string }): Promise<DispatchRecord>;
}

export interface HistoryUpdate {
  action: 'kept' | 'cleared' | 'limit';
  notifierId?: string;
  notifier?: string;
  recordId?: string;
  outcome?: 'delivered' | 'failed';
  redeliveryOf?: string;
}

/**
 * The history directory: `settings.notifierHistoryDir` (relative to the user directory), else
 * `<userDir>/notifier-history` (the user directory defaults to ~/.node-red, as Node-RED's own).
 */
export function historyDir(RED: RED): string {
  const settings = RED.settings ?? {};
  const userDir: string = typeof settings.userDir === 'string' && settings.userDir ? settings.userDir : path.join(os.homedir(), '.node-red');
  const custom: unknown = settings.notifierHistoryDir;
  if (typeof custom === 'string' && custom.trim() !== '') return path.resolve(userDir, custom);
  return path.join(userDir, 'notifier-history');
}

function runtimeWarn(RED: RED): (message: string) => void {
  return (message: string) => {
    try {
      RED.log?.warn?.(message);
    } catch {
      // logging must not break the history
    }
  };
}

function usesRedis(RED: RED): boolean {
  const s: unknown = RED.settings?.notifierStore;
  return typeof s === 'object' && s !== null && (s as { type?: unknown }).type === 'redis';
}

/** The notifier store that holds a shared history (Redis), to give back with it. */
const heldBy = new WeakMap<HistoryBackend, NotifierStore[]>();
/** Shared histories whose changes this process relays to its editors. */
const relayed = new WeakSet<HistoryBackend>();

/**
 * The runtime's history; give it back with `releaseStore`. With `notifierStore.type: "redis"` it is the history in
 * Redis, shared by every instance (changes made anywhere reach this runtime's editors); else the journal under
 * the history directory.
 */
export function acquireStore(RED: RED): HistoryBackend {
  if (usesRedis(RED)) {
    const store = acquireNotifierStore(RED);
    const history = store.history();
    heldBy.set(history, [...(heldBy.get(history) ?? []), store]);
    history.setWarn?.(runtimeWarn(RED));
    if (history.onUpdate && !relayed.has(history)) {
      relayed.add(history);
      history.onUpdate((update) => {
        try {
          RED.comms?.publish?.(UPDATE_TOPIC, update, false);
        } catch {
          // an editor that misses an update still refreshes on its next fetch
        }
      });
    }
    return history;
  }
  const store = acquireHistoryStore(historyDir(RED), { warn: runtimeWarn(RED) });
  store.setWarn(runtimeWarn(RED));
  return store;
}

export function releaseStore(history: HistoryBackend): Promise<void> {
  const held = heldBy.get(history);
  const store = held?.pop();
  if (store) return releaseNotifierStore(store);
  return history instanceof HistoryStore ? releaseHistoryStore(history) : Promise.resolve();
}

/** Tells open editors that the history changed (they refresh what they show): of every instance, for a shared history. */
export function publishUpdate(RED: RED, history: HistoryBackend, update: HistoryUpdate): void {
  const message = { ...update, at: new Date().toISOString() };
  if (history.broadcast) return history.broadcast(message);
  try {
    RED.comms?.publish?.(UPDATE_TOPIC, message, false);
  } catch {
    // an editor that misses an update still refreshes on its next fetch
  }
}

/** The history nodes of this runtime (id → limit), kept after they stop so that records settling late still find them. */
const historyNodes = new Map<string, number>();

/** Called by every history node at start; `forgetHistoryNode` when it is deleted. */
export function rememberHistoryNode(id: string, limit: number): void {
  historyNodes.set(id, limit);
}

export function forgetHistoryNode(id: string): void {
  historyNodes.delete(id);
}

/**
 * Keeps a record that an output node produced while it was stopping. A full deploy or a stop closes every node
 * before any of them finishes, so the output wire reaches no running history node: the record goes straight to the
 * store, for each history node the output node is wired to (`wires` as in its config). Resolves with how many kept
 * it. A record that also arrives through the wire (a "modified nodes" deploy) is kept once: the store skips
 * duplicate record ids.
 */
export async function keepUnwiredRecord(RED: RED, record: unknown, event: unknown, wires: unknown): Promise<number> {
  const ids = Array.isArray(wires) ? wires.flat().filter((id): id is string => typeof id === 'string' && historyNodes.has(id)) : [];
  if (ids.length === 0) return 0;
  const store = acquireStore(RED);
  try {
    for (const id of ids) {
      const entry = await store.keep(record, event, { limit: historyNodes.get(id)!, keptBy: id });
      publishUpdate(RED, store, { action: 'kept', notifierId: entry.notifierId, notifier: entry.notifier, recordId: entry.id, outcome: entry.outcome });
    }
    return ids.length;
  } finally {
    await releaseStore(store);
  }
}

/** Keeps a record of a node that is gone (no wires known): in the history under its notifier, with the default limit. */
export async function keepOrphanRecord(RED: RED, record: unknown, event: unknown): Promise<void> {
  const store = acquireStore(RED);
  try {
    const entry = await store.keep(record, event);
    publishUpdate(RED, store, { action: 'kept', notifierId: entry.notifierId, notifier: entry.notifier, recordId: entry.id, outcome: entry.outcome });
  } finally {
    await releaseStore(store);
  }
}

export function isRedeliverable(node: unknown): node is RedeliverableNode {
  return typeof node === 'object' && node !== null && typeof (node as { redeliver?: unknown }).redeliver === 'function';
}

/** A record as the API returns it: everything but the event's variables, which only redelivery needs. */
function publicEntry(entry: HistoryEntry): Omit<HistoryEntry, 'event'> & { hasEvent: boolean } {
  const { event, ...rest } = entry;
  return { ...rest, hasEvent: event !== undefined };
}

function sendError(res: Response, status: number, code: string, error: string, details: string): void {
  if (res.headersSent) return;
  res.status(status).json({ error, details, code });
}

function param(req: Request, name: string): string {
  const v = req.params[name];
  return typeof v === 'string' ? v : '';
}

/** Parses `?offset=&limit=`; a message naming the bad value, or the numbers. */
function paging(query: Record<string, unknown>): { offset: number; limit: number } | string {
  const read = (name: string, dflt: number, max: number): number | string => {
    const raw = query[name];
    if (raw === undefined || raw === '') return dflt;
    if (typeof raw !== 'string' || !/^\d+$/.test(raw)) return `${name} must be a non-negative integer, got ${JSON.stringify(raw)}`;
    const n = Number(raw);
    if (n > max) return `${name} must be at most ${max}, got ${n}`;
    return n;
  };
  const offset = read('offset', 0, Number.MAX_SAFE_INTEGER);
  if (typeof offset === 'string') return offset;
  const limit = read('limit', 50, MAX_PAGE);
  if (typeof limit === 'string') return limit;
  return { offset, limit };
}

const registered = new WeakSet<object>();

/**
 * Registers the history's admin routes on `RED.httpAdmin`, once per runtime (a second call, e.g. the module being
 * loaded again, does nothing). Every route needs `notifier-history.read` or `.write`.
 */
export function registerAdminRoutes(RED: RED): void {
  const app = RED.httpAdmin;
  if (!app || registered.has(app)) return;
  registered.add(app);
  const needs = (permission: string) =>
    RED.auth && typeof RED.auth.needsPermission === 'function'
      ? RED.auth.needsPermission(permission)
      : (_req: Request, _res: Response, next: NextFunction) => next();

  /** Runs `fn` with the store held (and released after), answering 500 with a JSON error if it throws. */
  const withStore =
    (fn: (store: HistoryBackend, req: Request, res: Response) => void | Promise<void>) =>
    (req: Request, res: Response): void => {
      let store: HistoryBackend;
      try {
        store = acquireStore(RED);
      } catch (err) {
        return sendError(res, 500, 'history_unavailable', 'The notifier history failed', (err as Error).message);
      }
      store
        .whenReady()
        .then(() => fn(store, req, res))
        .catch((err: Error) => sendError(res, 500, 'history_unavailable', 'The notifier history failed', err.message))
        .finally(() => {
          releaseStore(store).catch(() => undefined);
        });
    };

  const describe = (s: NotifierSummary) => {
    const node = RED.nodes.getNode(s.notifierId);
    return { ...s, deployed: Boolean(node), redeliverable: isRedeliverable(node) };
  };

  app.get(
    '/notifier-history',
    needs(READ_PERMISSION),
    withStore(async (store, _req, res) => {
      res.json({ notifiers: (await store.listNotifiers()).map(describe) });
    }),
  );

  app.get(
    '/notifier-history/:notifierId',
    needs(READ_PERMISSION),
    withStore(async (store, req, res) => {
      const notifierId = param(req, 'notifierId');
      const page = paging(req.query as Record<string, unknown>);
      if (typeof page === 'string') return sendError(res, 400, 'invalid_paging', 'Invalid paging parameters', page);
      const result = await store.getRecords(notifierId, page);
      const summary = await store.getNotifier(notifierId);
      if (!result || !summary) {
        return sendError(res, 404, 'notifier_not_found', 'Notifier not found', `The history has no records for notifier ${JSON.stringify(notifierId)}`);
      }
      res.json({ ...result, summary: describe(summary), records: result.records.map(publicEntry) });
    }),
  );

  app.post(
    '/notifier-history/:notifierId/:recordId/redeliver',
    needs(WRITE_PERMISSION),
    withStore(async (store, req, res) => {
      const notifierId = param(req, 'notifierId');
      const recordId = param(req, 'recordId');
      if (!(await store.getNotifier(notifierId))) {
        return sendError(res, 404, 'notifier_not_found', 'Notifier not found', `The history has no records for notifier ${JSON.stringify(notifierId)}`);
      }
      const entry = await store.getRecord(notifierId, recordId);
      if (!entry) {
        return sendError(res, 404, 'record_not_found', 'Record not found', `Notifier ${JSON.stringify(notifierId)} has no record ${JSON.stringify(recordId)} (it may have been cleared or replaced by newer records)`);
      }
      const node = RED.nodes.getNode(notifierId);
      if (!node) {
        return sendError(res, 404, 'notifier_not_deployed', 'Notifier node not deployed', `No deployed node has id ${JSON.stringify(notifierId)}: a record is redelivered through the output node that sent it`);
      }
      if (!isRedeliverable(node)) {
        return sendError(res, 409, 'not_redeliverable', 'This node cannot redeliver', `Node ${JSON.stringify(notifierId)} (type ${String((node as { type?: unknown }).type)}) has no redeliver method; only notifier output nodes can redeliver`);
      }
      if (!entry.event) {
        return sendError(res, 409, 'event_missing', 'The record has no event to redeliver', `Record ${JSON.stringify(recordId)} was kept without its event (the message carried no msg.event, or it was too large)`);
      }
      let result: DispatchRecord;
      try {
        result = await node.redeliver(entry.event, { redeliveryOf: recordId });
      } catch (err) {
        // a delivery failure resolves (as a failed record); a rejection means the node refused this event
        return sendError(res, 409, 'redeliver_refused', 'The node could not redeliver this record', (err as Error)?.message ?? String(err));
      }
      // The output node also sends the result on its output (a history node wired after it keeps it); keep it here
      // too so that a notifier without a history node wired after it still gets it. The store skips the duplicate.
      let kept: HistoryEntry | undefined;
      try {
        kept = await store.keep(result, entry.event);
      } catch (err) {
        if (!(err instanceof HistoryInputError)) throw err;
      }
      const record = kept ?? (await store.getRecord(notifierId, (result as { id?: string })?.id ?? ''));
      publishUpdate(RED, store, {
        action: 'kept',
        notifierId,
        notifier: record?.notifier,
        recordId: record?.id,
        outcome: record?.outcome,
        redeliveryOf: recordId,
      });
      res.json({ record: record ? publicEntry(record) : result });
    }),
  );

  app.delete(
    '/notifier-history/:notifierId',
    needs(WRITE_PERMISSION),
    withStore(async (store, req, res) => {
      const notifierId = param(req, 'notifierId');
      const summary = await store.getNotifier(notifierId);
      if (!summary) {
        return sendError(res, 404, 'notifier_not_found', 'Notifier not found', `The history has no records for notifier ${JSON.stringify(notifierId)}`);
      }
      const removed = await store.clear(notifierId);
      publishUpdate(RED, store, { action: 'cleared', notifierId, notifier: summary.notifier });
      res.json({ cleared: notifierId, removed });
    }),
  );
}
