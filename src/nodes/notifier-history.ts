// notifier-history: keeps the last `limit` dispatch results per notifier (msg.dispatch from the output nodes, with
// msg.event for redelivery) in the durable store under the user directory, and answers `topic: "history"` queries
// on its output. The store is shared by every history node of the runtime; the admin API and the editor sidebar
// read the same store (src/nodes/shared/history-admin.ts).
import { HistoryInputError, MAX_LIMIT, DEFAULT_LIMIT } from '../core/history';
import type { HistoryEntry } from '../core/history';
import type { HistoryBackend } from '../core/store';
import { acquireStore, forgetHistoryNode, publishUpdate, registerAdminRoutes, releaseStore, rememberHistoryNode } from './shared/history-admin';
import type { RED } from './shared/history-admin';
import type { Node, NodeMessage, NodeSend } from './shared/node-red';

type Done = (err?: Error) => void;
type Send = NodeSend;

interface HistoryNodeConfig {
  id: string;
  name?: string;
  limit?: string | number;
}

/** Least time between two status updates of a history node. */
const STATUS_INTERVAL_MS = 250;

/** The query topic: a message with `topic: "history"` asks for the records (or the notifiers). */
export const QUERY_TOPIC = 'history';

/** Parses the `limit` property; a message naming the bad value when it is not an integer from 1 to MAX_LIMIT. */
export function parseLimit(value: unknown): { limit: number; error?: string } {
  if (value === undefined || value === null || value === '') return { limit: DEFAULT_LIMIT };
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    return { limit: DEFAULT_LIMIT, error: `limit must be an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(value)}; keeping ${DEFAULT_LIMIT}` };
  }
  return { limit: n };
}

function byKeptAtDesc(a: HistoryEntry, b: HistoryEntry): number {
  return b.keptAt.localeCompare(a.keptAt);
}

export default function notifierHistory(RED: RED): void {
  registerAdminRoutes(RED);

  function NotifierHistoryNode(this: Node, config: HistoryNodeConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const parsed = parseLimit(config.limit);
    const limit = parsed.limit;
    if (parsed.error) node.error(`notifier-history: ${parsed.error}`);
    let store: HistoryBackend;
    try {
      store = acquireStore(RED);
    } catch (err) {
      // bad notifierStore settings: said at deploy; the node refuses its messages
      node.status({ fill: 'red', shape: 'ring', text: RED._('notifier-history.status.error') });
      node.error(`notifier-history: ${(err as Error).message}`);
      node.on('input', (_msg: NodeMessage, _send: Send, done: Done) => done(err as Error));
      return;
    }
    let closed = false;
    rememberHistoryNode(node.id, limit);

    const renderStatus = async (lastOutcome?: 'delivered' | 'failed') => {
      if (closed) return;
      const notifiers = await store.notifiersKeptBy(node.id);
      if (closed) return;
      const count = notifiers.reduce((n, s) => n + s.kept, 0);
      const outcome = lastOutcome ?? notifiers.sort((a, b) => (b.lastRun ?? '').localeCompare(a.lastRun ?? ''))[0]?.lastOutcome;
      if (count === 0) {
        node.status({ fill: 'grey', shape: 'ring', text: RED._('notifier-history.status.empty') });
        return;
      }
      node.status({
        fill: outcome === 'failed' ? 'red' : 'green',
        shape: 'dot',
        text: RED._(outcome === 'failed' ? 'notifier-history.status.lastFailed' : 'notifier-history.status.lastDelivered', { count }),
      });
    };

    // At most one status update per STATUS_INTERVAL_MS: under a burst of records, counting the kept records
    // and translating the text for each one costs more than keeping them.
    let statusTimer: NodeJS.Timeout | undefined;
    let pendingOutcome: 'delivered' | 'failed' | undefined;
    let lastStatusAt = 0;
    const showStatus = (lastOutcome?: 'delivered' | 'failed') => {
      pendingOutcome = lastOutcome ?? pendingOutcome;
      if (statusTimer || closed) return;
      const wait = Math.max(0, lastStatusAt + STATUS_INTERVAL_MS - Date.now());
      const flush = () => {
        statusTimer = undefined;
        lastStatusAt = Date.now();
        const outcome = pendingOutcome;
        pendingOutcome = undefined;
        renderStatus(outcome).catch(() => undefined); // a store that is away: the next record shows it again
      };
      if (wait === 0) flush();
      else statusTimer = setTimeout(flush, wait);
    };

    // Apply this node's limit to the notifiers it keeps (a lower limit trims them now), then show what is kept.
    // Messages wait for this, so that a query never sees records beyond the limit.
    const started: Promise<void> = store
      .whenReady()
      .then(() => store.setLimit(node.id, limit))
      .then((dropped) => {
        if (dropped > 0) publishUpdate(RED, store, { action: 'limit' });
        showStatus();
      })
      .catch((err: Error) => {
        if (closed) return;
        node.status({ fill: 'red', shape: 'ring', text: RED._('notifier-history.status.error') });
        node.error(`notifier-history: ${err.message}`);
      });

    async function keep(msg: NodeMessage): Promise<void> {
      await started;
      const entry = await store.keep(msg.dispatch, msg.event, { limit, keptBy: node.id });
      publishUpdate(RED, store, {
        action: 'kept',
        notifierId: entry.notifierId,
        notifier: entry.notifier,
        recordId: entry.id,
        outcome: entry.outcome,
        redeliveryOf: entry.redeliveryOf,
      });
      showStatus(entry.outcome);
    }

    async function query(msg: NodeMessage, send: Send): Promise<void> {
      await started;
      await store.whenReady();
      const which: unknown = msg.notifier;
      if (which !== undefined && which !== null && (typeof which !== 'string' || which.trim() === '')) {
        throw new Error('notifier-history: msg.notifier must be the name or id of a notifier (a non-empty string)');
      }
      const outcome: unknown = msg.outcome;
      if (outcome !== undefined && outcome !== null && outcome !== 'delivered' && outcome !== 'failed') {
        throw new Error(`notifier-history: msg.outcome must be "delivered" or "failed" to filter the records, got ${JSON.stringify(outcome)}`);
      }
      if (typeof which === 'string') {
        const ids = await store.findNotifiers(which.trim());
        let records = (await Promise.all(ids.map(async (id) => store.getRecords(id)))).flatMap((page) => page?.records ?? []);
        if (ids.length > 1) records.sort(byKeptAtDesc);
        if (outcome) records = records.filter((r) => r.outcome === outcome);
        msg.payload = structuredClone(records);
        msg.notifiers = (await Promise.all(ids.map(async (id) => store.getNotifier(id)))).filter(Boolean);
      } else {
        msg.payload = (await store.listNotifiers()).filter((s) => !outcome || s.lastOutcome === outcome);
      }
      send(msg);
    }

    node.on('input', (msg: NodeMessage, send: Send, done: Done) => {
      let work: Promise<void>;
      if (msg && msg.dispatch !== undefined && msg.dispatch !== null) {
        work = keep(msg);
      } else if (msg && msg.topic === QUERY_TOPIC) {
        work = query(msg, send);
      } else {
        work = Promise.reject(
          new Error(
            'notifier-history: the message has neither msg.dispatch (wire this node after a notifier output node) nor msg.topic "history" (a query for the kept records)',
          ),
        );
      }
      work.then(
        () => done(),
        (err: Error) => {
          if (err instanceof HistoryInputError) err.message = `notifier-history: ${err.message}`;
          done(err);
        },
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      // Removing the node keeps the data: clearing is the sidebar's (or the API's) explicit action.
      closed = true;
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      if (removed) forgetHistoryNode(node.id);
      releaseStore(store).then(
        () => done(),
        (err: Error) => {
          node.warn(`notifier-history: ${err.message}`);
          done();
        },
      );
    });
  }

  RED.nodes.registerType('notifier-history', NotifierHistoryNode);
}
