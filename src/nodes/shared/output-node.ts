/**
 * The Node-RED side shared by every output node (webhook, Slack, Teams, email).
 *
 * A node file only describes its channel:
 *
 * ```ts
 * export default function (RED: NodeRED): void {
 *   registerOutputNode(RED, {
 *     type: 'notifier-email',
 *     channel: 'email',
 *     credentials: {},                                   // or { url: { type: 'password' } }
 *     build(config, credentials, ctx) {                  // at deploy; throw ConfigError for bad settings
 *       return {
 *         driver,                                        // ChannelDriver (src/core/delivery/dispatcher.ts)
 *         engine: { ratePerSecond: 1, concurrency: 1, policy: { maxAttempts: 3 } },
 *         secrets: [derived],                            // credentials are redacted anyway; add derived forms
 *       };
 *     },
 *   });
 * }
 * ```
 *
 * and gets, for free:
 * - `on('input', (msg, send, done))`: checks `msg.event` (clear error when missing or invalid), stores the
 *   dispatch in the node's **outbox** and calls `done()` once it is on disk (`done(err)` with code
 *   `store_unavailable` when the store cannot keep it: the event node then answers 503; a full outbox is a
 *   recorded `queue_full` failure);
 * - delivery from the outbox, under the engine's policy; each dispatch keeps one id (its delivery id) for all its
 *   attempts, and waiting retries are stored with their due time, so restarts, redeploys and SIGKILL lose nothing
 *   (an attempt in flight at a crash is made again: at-least-once);
 * - the result: a message with `msg.dispatch` (and `msg.event`, and the other properties of the message that
 *   brought the event) sent on the output, a failure also to Catch nodes; the dispatch leaves the outbox once that
 *   message has been handled by the flow (the history node wired after it has kept it);
 * - the status: stored and queued count, sending, last result (under 20 characters, never a secret);
 * - close `(removed, done)`: intake stops, attempts in flight get a grace period; what is left stays in the outbox
 *   for the node's next start (with its new configuration, if it changed); a removed node records what it had
 *   left as failed (`removed`) in the history; no timer survives;
 * - `node.redeliver(event, { redeliveryOf })` → `Promise<DispatchRecord>`: dispatches again through the outbox and
 *   sends the resulting msg on the output (the history node calls it);
 * - a config error (ConfigError from build) shows in the status and the log at deploy, and every
 *   message then fails with code `config` (recorded, never silently dropped).
 *
 * Runtime settings (settings.js), all optional: `notifierDelivery: { baseDelayMs, maxDelayMs,
 * maxRetryAfterMs, queueSize, closeGraceMs }` tune the shared policy (`queueSize`: dispatches held in memory per
 * node; the rest waits in the outbox); `notifierStore` and `notifierIntake` (src/nodes/shared/store.ts); tests may
 * also pass `clock`.
 */
import { randomUUID } from 'node:crypto';
import type { Channel, DispatchRecord } from '../../core/dispatch';
import { SOURCE_SYSTEMS, isValidatedEvent, isVia, normalizeEvent } from '../../core/events';
import type { EventSource, NotifierEvent } from '../../core/events';
import {
  ConfigError,
  DEFAULT_CLOSE_GRACE_MS,
  DeliveryEngine,
  Dispatcher,
  failedRecord,
  statusText,
  systemClock,
} from '../../core/delivery';
import type { ChannelDriver, Clock, EngineEvent, EngineOptions, RetryPolicy } from '../../core/delivery';
import type { LastResult, NodeStatus } from '../../core/delivery/status';
import { Redactor } from '../../core/redact';
import { StoreFullError } from '../../core/store';
import type { NotifierStore, Outbox, OutboxEntry } from '../../core/store';
import { registerPreviewRoute } from './preview-route';
import { keepOrphanRecord, keepUnwiredRecord } from './history-admin';
import { acquireNotifierStore, afterFlowsStarted, intakeSettings, releaseNotifierStore } from './store';
import { sendTracked } from './tracker';

import type { Node, NodeMessage, NodeRED as RED } from './node-red';
type NodeMsg = NodeMessage;
type Send = (msg: NodeMsg | NodeMsg[]) => void;
type Done = (err?: Error) => void;

export type Credentials = Record<string, string | undefined>;

/** An output node instance: a Node-RED node that the history can ask to redeliver. */
interface OutputNodeInstance extends Node<Credentials> {
  redeliver(event: NotifierEvent, options?: { redeliveryOf?: string }): Promise<DispatchRecord>;
}

export interface OutputNodeConfig {
  id: string;
  type: string;
  name?: string;
  [key: string]: unknown;
}

export interface BuildContext {
  clock: Clock;
  /** the node's id and display name (name, else id) */
  id: string;
  notifier: string;
}

export interface BuiltChannel {
  driver: ChannelDriver;
  /** lane and policy settings of this node (rate per destination, concurrency, queue size, retries…) */
  engine?: Omit<EngineOptions, 'clock' | 'onEvent'>;
  /** secret values derived from the credentials (e.g. base64 of user:password); credential values are added anyway */
  secrets?: Iterable<string | undefined>;
}

export interface OutputNodeDefinition<C extends OutputNodeConfig = OutputNodeConfig> {
  type: string;
  channel: Channel;
  /** Node-RED credential definitions: `{ url: { type: 'password' } }` */
  credentials?: Record<string, { type: 'text' | 'password' }>;
  build(config: C, credentials: Credentials, ctx: BuildContext): BuiltChannel;
}

/** The error passed to done(err) / node.error for a failed dispatch; Catch nodes get msg.dispatch too. */
export class DispatchFailedError extends Error {
  readonly record: DispatchRecord;
  readonly code: string;
  constructor(record: DispatchRecord) {
    const e = record.error;
    super(e ? `${e.message} [${e.code}]` : 'dispatch failed');
    this.name = 'DispatchFailedError';
    this.record = record;
    this.code = e?.code ?? 'failed';
  }
}

/** What an output node adds to the Node-RED node instance. */
export interface OutputNode {
  redeliver(event: NotifierEvent, options?: { redeliveryOf?: string }): Promise<DispatchRecord>;
}

interface DeliverySettings {
  clock?: Clock;
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxRetryAfterMs?: number;
  queueSize?: number;
  closeGraceMs?: number;
}

/** `notifierDelivery` from the runtime settings (tests may pass `clock`). */
export function deliverySettings(RED: RED): DeliverySettings {
  let s: unknown;
  try {
    s = RED.settings?.notifierDelivery;
  } catch {
    s = undefined;
  }
  return s && typeof s === 'object' ? s : {};
}

/** Reads `msg.event` (a normalized event, re-checked) or explains what is wrong. */
export function eventFromMessage(msg: NodeMsg, type: string): NotifierEvent {
  const raw = msg.event;
  if (raw === undefined || raw === null) {
    throw new Error(
      `${type}: msg.event is missing. This node sends the event in msg.event: wire a notifier-event node (or a notifier-condition after it) to its input, or set msg.event to a normalized event`,
    );
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`${type}: msg.event must be an event object, got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  }
  if (isValidatedEvent(raw)) return raw;
  const { source: rawSource, via: rawVia } = raw as { source?: unknown; via?: unknown };
  const source = isVia(rawSource) || (SOURCE_SYSTEMS as readonly unknown[]).includes(rawSource) ? (rawSource as EventSource) : 'input';
  try {
    // a digest (notifier-digest) is one of ours: read back from the outbox, it is checked again like any event
    return normalizeEvent(raw, { source, allowDigest: true, ...(isVia(rawVia) ? { via: rawVia } : {}) });
  } catch (err) {
    // eslint-disable-next-line preserve-caught-error -- the message carries what is wrong; the node reports only that
    throw new Error(`${type}: msg.event is not a valid event: ${(err as Error).message.replace(/^Invalid event: /, '')}`);
  }
}

const DEFAULT_POLICY_KEYS: ReadonlyArray<keyof RetryPolicy> = ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'];

/** Properties of the incoming message that are not carried over to the result message. */
const NOT_CARRIED = new Set(['_msgid', '_event', '_linkSource', 'event', 'dispatch', 'req', 'res']);
/** Largest JSON of carried-over message properties stored with a dispatch. */
const MAX_CARRIED_BYTES = 64 * 1024;
/** Least time between two status updates of an output node (a burst changes the counts on every message). */
const STATUS_INTERVAL_MS = 250;

/** The message's own properties to give back with the result (plain JSON, at most 64 KiB), or why not. */
export function carriedProperties(msg: NodeMsg): { props?: Record<string, unknown>; dropped?: string } {
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(msg)) {
    if (NOT_CARRIED.has(key)) continue;
    props[key] = msg[key];
  }
  if (Object.keys(props).length === 0) return {};
  let json: string;
  try {
    json = JSON.stringify(props);
  } catch (err) {
    return { dropped: `they cannot be stored as JSON (${(err as Error).message})` };
  }
  if (json.length > MAX_CARRIED_BYTES) return { dropped: `they take more than ${MAX_CARRIED_BYTES} bytes as JSON` };
  return { props };
}

/**
 * Once the flows started: outboxes of nodes that are no longer in the flows (removed while the runtime was down, e.g.
 * a flows file replaced) record what they held as failed (`removed`) in the history, then go. Nodes of disabled flows
 * are still in the flows and keep theirs.
 */
function sweepOrphanOutboxes(RED: RED): void {
  afterFlowsStarted(RED, 'the outboxes of removed nodes', async (store, known) => {
    for (const id of await store.outboxIds()) {
      if (known.has(id)) continue;
      const box = await store.openOutbox(id);
      let n = 0;
      for await (const entry of box.drain()) {
        const event = entry.event as NotifierEvent;
        const record =
          entry.record ??
          failedRecord(event, { notifier: box.owner.notifier ?? id, notifierId: id, channel: (box.owner.channel ?? 'webhook') as Channel, id: entry.id }, { code: 'removed', message: 'the node was removed before this message was sent', permanent: true });
        await keepOrphanRecord(RED, record, event);
        n++;
      }
      await box.destroy();
      if (n > 0) RED.log?.warn?.(`notifier: node ${id} is no longer in the flows; ${n} dispatch(es) it had not sent are recorded as failed (removed) in the history`);
    }
  });
}

/** Registers an output node type with the shared behaviour described above. */
export function registerOutputNode<C extends OutputNodeConfig>(RED: RED, def: OutputNodeDefinition<C>): void {
  // the editor's template previews (subject, body, text, content…) need the route, whichever node types are installed
  registerPreviewRoute(RED);
  sweepOrphanOutboxes(RED);
  function OutputNodeCtor(this: OutputNodeInstance, config: C) {
    RED.nodes.createNode(this, config);
    const node = this;
    const nodeId = String(node.id);
    const notifier = typeof config.name === 'string' && config.name.trim() ? config.name.trim() : nodeId;
    const settings = deliverySettings(RED);
    const clock: Clock = settings.clock ?? systemClock;
    const credentials: Credentials = { ...(node.credentials ?? {}) };
    const redactor = new Redactor(Object.values(credentials));
    const graceMs = typeof settings.closeGraceMs === 'number' && settings.closeGraceMs >= 0 ? settings.closeGraceMs : DEFAULT_CLOSE_GRACE_MS;
    const capacity = typeof settings.queueSize === 'number' && settings.queueSize >= 1 ? Math.floor(settings.queueSize) : 1000;
    const ackTimeoutMs = intakeSettings(RED).ackTimeoutMs;
    const meta = { notifier, notifierId: nodeId, channel: def.channel };

    let dispatcher: Dispatcher | undefined;
    let configError: ConfigError | Error | undefined;
    let storeProblem: string | undefined;
    let last: LastResult | undefined;
    let shown = '';
    let closing = false;
    /** dispatches taken from the outbox and not finished in this node */
    const active = new Map<string, Promise<void>>();
    /** redeliveries waiting for their record */
    const waiters = new Map<string, { event: NotifierEvent; resolve: (record: DispatchRecord) => void }>();
    let warnedCarry = false;
    /** dispatches with a result, on their way to the flow (still in the outbox until the flow has handled them) */
    let handing = 0;
    /**
     * Dispatches taken from the outbox that may wait for their turn in the engine (not yet attempted): a few per
     * connection. The rest wait in the outbox's window, so a backlog does not hold prepared requests in memory for
     * seconds (which made V8 promote, and later collect, a few kB per event: the peak of a burst).
     */
    let lookahead = 16;
    let pumpSoon = false;

    const showStatus = (status: NodeStatus) => {
      const key = `${status.fill}|${status.shape}|${status.text}`;
      if (key === shown) return;
      shown = key;
      node.status(status);
    };
    let outbox: Outbox | undefined;
    const currentStatus = (): NodeStatus => {
      if (configError) return { fill: 'red', shape: 'ring', text: 'config error' };
      if (storeProblem ?? outbox?.problem) return { fill: 'red', shape: 'ring', text: 'store unavailable' };
      const stats = dispatcher ? dispatcher.engine.stats() : { queued: 0, inFlight: 0, retrying: 0 };
      // dispatches stored and not in the engine (on disk, or waiting for the result to reach the flow) count as queued
      const stored = outbox ? outbox.stats().pending : 0;
      const queued = Math.max(stats.queued, stored - stats.inFlight - stats.retrying - handing);
      return statusText({ ...stats, queued }, last);
    };
    const renderStatus = () => {
      if (!closing) showStatus(currentStatus());
    };
    // While only the counts change (every message of a burst changes them), at most one status update per
    // STATUS_INTERVAL_MS; a change of state (queued, sending, retry wait, a result) shows at once.
    let statusTimer: NodeJS.Timeout | undefined;
    let lastStatusAt = 0;
    const kindOf = (key: string) => key.replace(/\d+/g, '#');
    const refreshStatus = () => {
      if (closing) return;
      const status = currentStatus();
      // only a change of the counts is held back: a change of state (queued, sending, retry wait, a result) shows at once
      const busy = kindOf(`${status.fill}|${status.shape}|${status.text}`) === kindOf(shown);
      const wait = lastStatusAt + STATUS_INTERVAL_MS - Date.now();
      const flush = () => {
        if (statusTimer) clearTimeout(statusTimer);
        statusTimer = undefined;
        lastStatusAt = Date.now();
        renderStatus();
      };
      if (!busy || wait <= 0) flush();
      else statusTimer ??= setTimeout(flush, wait);
    };
    const onEvent = (e: EngineEvent) => {
      if (e.type === 'settled') {
        last = {
          outcome: e.outcome.outcome,
          ...(e.outcome.status !== undefined ? { status: e.outcome.status } : {}),
          ...(e.outcome.error ? { errorCode: e.outcome.error.code } : {}),
        };
      }
      refreshStatus();
      // a dispatch that starts an attempt or waits for a retry makes room for the next one
      // (after the engine's own step: it is not re-entered from its event)
      if ((e.type === 'attempt' || e.type === 'retry-wait') && !pumpSoon) {
        pumpSoon = true;
        queueMicrotask(() => {
          pumpSoon = false;
          pump();
        });
      }
    };

    let store: NotifierStore | undefined;
    /** The runtime's store (undefined while its settings cannot be used: the outbox's opening reports why). */
    function sharedStore(): NotifierStore | undefined {
      try {
        store ??= acquireNotifierStore(RED);
      } catch {
        // reported when the outbox is opened
      }
      return store;
    }
    try {
      const built = def.build(config, credentials, { clock, id: nodeId, notifier });
      for (const s of built.secrets ?? []) redactor.add(s);
      const engineOpts: EngineOptions = { ...(built.engine ?? {}), clock, onEvent };
      const policy: Partial<RetryPolicy> = { ...(built.engine?.policy ?? {}) };
      for (const k of DEFAULT_POLICY_KEYS) {
        const v = settings[k as keyof DeliverySettings];
        if (typeof v === 'number' && policy[k] === undefined) policy[k] = v;
      }
      engineOpts.policy = policy;
      // every dispatch taken from the outbox may wait in one destination's lane
      engineOpts.queueSize = Math.max(engineOpts.queueSize ?? 0, capacity);
      // a shared store (Redis) shares each destination's rate and Retry-After pauses with the other instances
      const gate = sharedStore()?.rateGate?.();
      if (gate) engineOpts.gate = gate;
      lookahead = Math.max(16, 4 * (engineOpts.concurrency ?? 1));
      const engine = new DeliveryEngine(engineOpts);
      dispatcher = new Dispatcher({ engine, driver: built.driver, notifier, notifierId: nodeId, redactor });
    } catch (err) {
      configError = err instanceof Error ? err : new Error(String(err));
      configError.message = redactor.text(configError.message);
      node.error(`${def.type} "${notifier}" is misconfigured: ${configError.message}`);
    }
    renderStatus();

    // ---- the store -----------------------------------------------------------------------------------
    let opened: Promise<Outbox>;
    /** Opens the outbox; after a failure (a full or read-only disk at deploy), the next message tries again. */
    const open = (): Promise<Outbox> => {
      try {
        store ??= acquireNotifierStore(RED);
        opened = store.openOutbox(nodeId, { windowItems: capacity, owner: { type: def.type, channel: def.channel, notifier } });
      } catch (err) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what was thrown, as it is
        opened = Promise.reject(err);
      }
      opened.then(
        (box) => {
          outbox = box;
          storeProblem = undefined;
          renderStatus();
          if (closing) return;
          box.onAvailable(() => pump());
          // a redelivery asked here may be made by another instance (a shared store): its result comes back here
          box.onResult?.((id, record) => {
            const w = waiters.get(id);
            if (!w) return;
            waiters.delete(id);
            w.resolve(record);
          });
          pump();
        },
        (err: Error) => {
          storeProblem = err.message;
          node.error(`${def.type} "${notifier}": the outbox cannot be opened: ${err.message}`);
          renderStatus();
        },
      );
      return opened;
    };
    void open(); // its failure is handled above

    const failed = (event: NotifierEvent, error: { code: string; message: string; permanent: boolean }, extra: { id?: string; redeliveryOf?: string } = {}) =>
      failedRecord(event, { ...meta, ...extra }, error, {}, redactor);

    /** The result message of a dispatch: the carried properties, the event and the record. */
    const resultMessage = (event: NotifierEvent, record: DispatchRecord, carried?: Record<string, unknown>): NodeMsg => ({
      // the event is frozen; msg.payload is the user's to change
      ...(carried && 'payload' in carried ? {} : { payload: structuredClone(event.vars) }),
      topic: event.type,
      ...(carried ?? {}),
      _msgid: RED.util?.generateId ? RED.util.generateId() : record.id,
      event,
      dispatch: record,
    });

    /** Sends a result on the output (and to Catch for a failure); resolves once the flow has handled it. */
    const sendResult = async (msg: NodeMsg, record: DispatchRecord): Promise<void> => {
      const w = waiters.get(record.id);
      if (w) {
        waiters.delete(record.id);
        w.resolve(record);
      }
      if (record.attempts === 0 && record.error) last = { outcome: 'failed', errorCode: record.error.code };
      refreshStatus();
      if (closing) {
        // the nodes after this one may be stopped already (a full deploy): the history nodes it is wired to get the
        // record directly; the message still goes on to the nodes that run (a "modified nodes" deploy)
        await keepUnwiredRecord(RED, record, msg.event, config.wires).catch((err: Error) =>
          node.warn(`${def.type}: could not keep a record in the history while stopping: ${err.message}`),
        );
        try {
          node.send(msg);
          if (record.outcome === 'failed') node.error(new DispatchFailedError(record), msg);
        } catch {
          // the flow is gone: the history has the record
        }
        return;
      }
      await sendTracked(
        RED,
        msg as { _msgid: string },
        () => {
          node.send(msg);
          if (record.outcome === 'failed') node.error(new DispatchFailedError(record), msg);
        },
        ackTimeoutMs,
      );
    };

    /** Delivers one outbox entry (or hands on its stored result), then removes it from the outbox. */
    const work = async (box: Outbox, entry: OutboxEntry): Promise<void> => {
      let event: NotifierEvent;
      try {
        // an entry stored by this process holds the event checked at input (marked checked: no second pass); one read back from disk is checked again
        event = eventFromMessage({ event: entry.event }, def.type);
      } catch (err) {
        event = entry.event as NotifierEvent;
        if (!entry.record) {
          entry.record = failed(event, { code: 'invalid_event', message: (err as Error).message, permanent: true }, { id: entry.id });
        }
      }
      let record = entry.record;
      let fresh = false;
      if (!record) {
        if (!dispatcher || configError) {
          record = failed(event, { code: 'config', message: `the node is misconfigured: ${configError?.message ?? 'not ready'}`, permanent: true }, {
            id: entry.id,
            ...(entry.redeliveryOf !== undefined ? { redeliveryOf: entry.redeliveryOf } : {}),
          });
        } else {
          record = await dispatcher.dispatch(event, {
            id: entry.id,
            startedAt: entry.createdAt,
            ...(entry.redeliveryOf !== undefined ? { redeliveryOf: entry.redeliveryOf } : {}),
            ...(entry.attempts > 0 || entry.dueAt > 0 ? { resume: { attempts: entry.attempts, log: entry.attemptLog, dueAt: entry.dueAt } } : {}),
            onRetryWait: (s) => {
              box.retryAt(entry.id, s.attempts, [...s.log], s.dueAt ?? 0).catch(() => undefined);
            },
          });
          // stopped before it finished: it stays in the outbox, for this node's next start
          if (closing && record.error?.code === 'shutdown') return;
        }
        fresh = true;
      }
      // from here the dispatch is no longer ahead of the engine (storing its result may take a round trip to Redis)
      handing++;
      try {
        if (fresh) await box.settle(entry.id, record).catch(() => undefined);
        await sendResult(resultMessage(event, record, entry.msg), record);
        await box.ack(entry.id).catch(() => undefined);
      } finally {
        handing--;
      }
    };

    /** a take from a shared store is under way; `pumpAgain`: more became available meanwhile */
    let taking = false;
    let pumpAgain = false;
    let pumping = false;
    const start = (box: Outbox, entries: OutboxEntry[]) => {
      for (const entry of entries) {
        if (active.has(entry.id)) continue;
        const p = work(box, entry)
          .catch((err: Error) => node.error(`${def.type} "${notifier}": ${err.message}`))
          .finally(() => {
            active.delete(entry.id);
            refreshStatus();
            pump();
          });
        active.set(entry.id, p);
      }
    };

    function pump(): void {
      const box = outbox;
      if (!box || closing || pumping) return;
      if (taking) {
        pumpAgain = true;
        return;
      }
      // a store that was away and is back (Redis): the status says so without waiting for the next message
      if (storeProblem !== undefined && box.problem === undefined) storeProblem = undefined;
      pumping = true;
      try {
        take(box);
      } finally {
        pumping = false;
      }
      refreshStatus();
    }
    function take(box: Outbox): void {
      while (active.size < capacity) {
        // taken and not yet attempted (or waiting for a retry, or handing its result on)
        const stats = dispatcher?.engine.stats();
        const ahead = active.size - handing - (stats ? stats.inFlight + stats.retrying : 0);
        const room = Math.min(capacity - active.size, lookahead - ahead);
        if (room <= 0) break;
        const got = box.take(room);
        if (Array.isArray(got)) {
          if (got.length === 0) break;
          start(box, got);
          continue;
        }
        // a shared store answers later: one take at a time
        taking = true;
        pumpAgain = false;
        got.then(
          (entries) => {
            taking = false;
            if (closing) return;
            start(box, entries);
            if (entries.length > 0 || pumpAgain) pump();
            else refreshStatus();
          },
          () => {
            taking = false;
            refreshStatus(); // the outbox's problem shows; the next notice (a poll, Redis back) tries again
          },
        );
        return;
      }
    }

    /** Stores a dispatch of `event`; resolves once it is in the outbox. */
    const store1 = async (event: NotifierEvent, msg: NodeMsg | undefined, redeliveryOf?: string): Promise<{ id: string; record?: DispatchRecord }> => {
      // while the node stops, the outbox still takes dispatches until it is closed (the next start delivers them);
      // after that, adding fails as unavailable: the event node answers 503 and the sender tries again
      const id = randomUUID();
      let carried: Record<string, unknown> | undefined;
      if (msg) {
        const c = carriedProperties(msg);
        if (c.dropped && !warnedCarry) {
          warnedCarry = true;
          node.warn(`${def.type} "${notifier}": the message's own properties are not carried to the result message: ${c.dropped}`);
        }
        carried = c.props;
      }
      const box = await opened.catch(() => (closing ? opened : open()));
      try {
        await box.add([
          { id, event, createdAt: clock.now(), ...(carried ? { msg: carried } : {}), ...(redeliveryOf !== undefined ? { redeliveryOf } : {}) },
        ]);
      } catch (err) {
        if (err instanceof StoreFullError) {
          return { id, record: failed(event, { code: 'queue_full', message: err.message, permanent: false }, { id }) };
        }
        throw err;
      } finally {
        const problem = box.problem;
        if (problem !== storeProblem) {
          storeProblem = problem;
          renderStatus();
        }
      }
      refreshStatus();
      return { id };
    };

    node.on('input', function (msg: NodeMsg, send: Send, done: Done) {
      let event: NotifierEvent;
      try {
        event = eventFromMessage(msg, def.type);
      } catch (err) {
        done(err as Error);
        return;
      }
      store1(event, msg).then(
        ({ record }) => {
          if (!record) return done();
          // refused before it was stored (outbox full, node stopping): recorded as failed at once
          last = { outcome: 'failed', errorCode: record.error?.code ?? 'failed' };
          refreshStatus();
          msg.dispatch = record;
          send(msg);
          done(new DispatchFailedError(record));
        },
        (err: Error) => {
          const e = new Error(`${def.type} "${notifier}": the dispatch could not be stored, nothing was sent: ${err.message}`) as Error & { code?: string };
          e.code = 'store_unavailable';
          storeProblem = err.message;
          renderStatus();
          done(e);
        },
      );
    });

    /** Dispatches `event` again (through the outbox) and sends the result on the output. Rejects only for an invalid event. */
    node.redeliver = function (event: NotifierEvent, options: { redeliveryOf?: string } = {}): Promise<DispatchRecord> {
      let ev: NotifierEvent;
      try {
        ev = eventFromMessage({ event }, def.type);
      } catch (err) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- eventFromMessage throws Errors
        return Promise.reject(err);
      }
      return store1(ev, undefined, options.redeliveryOf).then(({ id, record }) => {
        if (record) return record;
        return new Promise<DispatchRecord>((resolve) => waiters.set(id, { event: ev, resolve }));
      });
    };

    node.on('close', function (removed: boolean, done: () => void) {
      closing = true;
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      const finish = () => {
        try {
          node.status({});
        } catch {
          /* ignore */
        }
        done();
      };
      (async () => {
        if (dispatcher) await dispatcher.close(graceMs);
        await Promise.allSettled([...active.values()]);
        const box = await opened.catch(() => undefined);
        if (box) {
          if (removed) await recordRemoved(box);
          else await box.close();
        }
        for (const [id, w] of waiters) {
          w.resolve(failed(w.event, { code: 'shutdown', message: 'the node stopped before the redelivery was made', permanent: false }, { id }));
        }
        waiters.clear();
      })()
        .catch((err: Error) => node.warn(`${def.type} "${notifier}": ${err.message}`))
        .finally(() => {
          if (store) releaseNotifierStore(store).then(finish, finish);
          else finish();
        });
    });

    /** A removed node: what its outbox still held becomes failed records (`removed`) in the history. */
    async function recordRemoved(box: Outbox): Promise<void> {
      let n = 0;
      for await (const entry of box.drain()) {
        const event = entry.event as NotifierEvent;
        const record =
          entry.record ??
          failed(event, { code: 'removed', message: 'the node was removed before this message was sent', permanent: true }, {
            id: entry.id,
            ...(entry.redeliveryOf !== undefined ? { redeliveryOf: entry.redeliveryOf } : {}),
          });
        await keepUnwiredRecord(RED, record, event, config.wires).catch(() => 0);
        n++;
      }
      await box.destroy();
      if (n > 0) node.warn(`${def.type} "${notifier}" was removed with ${n} dispatch(es) not sent: they are recorded as failed (removed) in the history`);
    }
  }

  RED.nodes.registerType(def.type, OutputNodeCtor, def.credentials ? { credentials: def.credentials } : {});
}
