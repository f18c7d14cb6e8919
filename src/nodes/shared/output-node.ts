/**
 * The Node-RED side shared by every output node (webhook, Slack, Teams, email).
 *
 * A node file only describes its channel:
 *
 * ```ts
 * export default function (RED: any): void {
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
 * - `on('input', (msg, send, done))`: checks `msg.event` (clear error when missing or invalid),
 *   dispatches, sends `msg` with `msg.dispatch` (msg.event kept), then `done()` or `done(err)` for a
 *   failure (Catch nodes see it; the error carries `record`);
 * - the status: queued count, sending, last result (under 20 characters, never a secret);
 * - close `(removed, done)`: intake stops, attempts in flight get a grace period, the rest is
 *   recorded as failed (`shutdown`) and still sent on the output; no timer survives;
 * - `node.redeliver(event, { redeliveryOf })` → `Promise<DispatchRecord>`: dispatches again and sends
 *   the resulting msg on the output (the history node calls it);
 * - a config error (ConfigError from build) shows in the status and the log at deploy, and every
 *   message then fails with code `config` (recorded, never silently dropped).
 *
 * Runtime settings (settings.js), all optional: `notifierDelivery: { baseDelayMs, maxDelayMs,
 * maxRetryAfterMs, queueSize, closeGraceMs }` tune the shared policy; tests may also pass `clock`.
 */
import type { Channel, DispatchRecord } from '../../core/dispatch';
import { isValidatedEvent, normalizeEvent } from '../../core/events';
import type { NotifierEvent } from '../../core/events';
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
import { registerPreviewRoute } from './preview-route';
import { keepUnwiredRecord } from './history-admin';

/* eslint-disable @typescript-eslint/no-explicit-any */
type RED = any;
type NodeMsg = Record<string, any>;
type Send = (msg: NodeMsg | NodeMsg[]) => void;
type Done = (err?: Error) => void;

export type Credentials = Record<string, string | undefined>;

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

function deliverySettings(RED: RED): DeliverySettings {
  let s: unknown;
  try {
    s = RED.settings?.notifierDelivery;
  } catch {
    s = undefined;
  }
  return s && typeof s === 'object' ? (s as DeliverySettings) : {};
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
  const source = ['http', 'input', 'test'].includes(raw.source) ? raw.source : 'input';
  try {
    return normalizeEvent(raw, { source });
  } catch (err) {
    throw new Error(`${type}: msg.event is not a valid event: ${(err as Error).message.replace(/^Invalid event: /, '')}`);
  }
}

const DEFAULT_POLICY_KEYS: ReadonlyArray<keyof RetryPolicy> = ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'];

/** Registers an output node type with the shared behaviour described above. */
export function registerOutputNode<C extends OutputNodeConfig>(RED: RED, def: OutputNodeDefinition<C>): void {
  // the editor's template previews (subject, body, text, content…) need the route, whichever node types are installed
  registerPreviewRoute(RED);
  function OutputNodeCtor(this: any, config: C) {
    RED.nodes.createNode(this, config);
    const node = this;
    const notifier = typeof config.name === 'string' && config.name.trim() ? config.name.trim() : String(node.id);
    const settings = deliverySettings(RED);
    const clock: Clock = settings.clock ?? systemClock;
    const credentials: Credentials = { ...(node.credentials ?? {}) };
    const redactor = new Redactor(Object.values(credentials));
    const graceMs = typeof settings.closeGraceMs === 'number' && settings.closeGraceMs >= 0 ? settings.closeGraceMs : DEFAULT_CLOSE_GRACE_MS;

    let dispatcher: Dispatcher | undefined;
    let configError: ConfigError | Error | undefined;
    let last: LastResult | undefined;
    let shown = '';
    let closing = false;
    const pending = new Set<Promise<unknown>>();

    const showStatus = (status: NodeStatus) => {
      const key = `${status.fill}|${status.shape}|${status.text}`;
      if (key === shown) return;
      shown = key;
      node.status(status);
    };
    const refreshStatus = () => {
      if (closing) return;
      if (configError) return showStatus({ fill: 'red', shape: 'ring', text: 'config error' });
      showStatus(statusText(dispatcher ? dispatcher.engine.stats() : { queued: 0, inFlight: 0, retrying: 0 }, last));
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
    };

    try {
      const built = def.build(config, credentials, { clock, id: String(node.id), notifier });
      for (const s of built.secrets ?? []) redactor.add(s);
      const engineOpts: EngineOptions = { ...(built.engine ?? {}), clock, onEvent };
      const policy: Partial<RetryPolicy> = { ...(built.engine?.policy ?? {}) };
      for (const k of DEFAULT_POLICY_KEYS) {
        const v = settings[k as keyof DeliverySettings];
        if (typeof v === 'number' && policy[k] === undefined) policy[k] = v;
      }
      engineOpts.policy = policy;
      if (typeof settings.queueSize === 'number' && engineOpts.queueSize === undefined) engineOpts.queueSize = settings.queueSize;
      const engine = new DeliveryEngine(engineOpts);
      dispatcher = new Dispatcher({ engine, driver: built.driver, notifier, notifierId: String(node.id), redactor });
    } catch (err) {
      configError = err instanceof Error ? err : new Error(String(err));
      configError.message = redactor.text(configError.message);
      node.error(`${def.type} "${notifier}" is misconfigured: ${configError.message}`);
    }
    refreshStatus();

    /** One dispatch: never rejects; updates `last` for failures that never reached the engine. */
    const run = async (event: NotifierEvent, redeliveryOf?: string): Promise<DispatchRecord> => {
      let record: DispatchRecord;
      if (!dispatcher || configError) {
        record = failedRecord(
          event,
          { notifier, notifierId: String(node.id), channel: def.channel, ...(redeliveryOf !== undefined ? { redeliveryOf } : {}) },
          { code: 'config', message: `the node is misconfigured: ${configError?.message ?? 'not ready'}`, permanent: true },
          {},
          redactor,
        );
      } else {
        record = await dispatcher.dispatch(event, redeliveryOf !== undefined ? { redeliveryOf } : {});
      }
      if (record.attempts === 0 && record.error) {
        // failed before the engine (template, config, queue full, shutdown): the engine did not report it
        last = { outcome: 'failed', errorCode: record.error.code };
        refreshStatus();
      }
      return record;
    };

    const track = <T>(p: Promise<T>): Promise<T> => {
      pending.add(p);
      const drop = () => pending.delete(p);
      p.then(drop, drop);
      return p;
    };

    node.on('input', function (msg: NodeMsg, send: Send, done: Done) {
      let event: NotifierEvent;
      try {
        event = eventFromMessage(msg, def.type);
      } catch (err) {
        done(err as Error);
        return;
      }
      track(
        (async () => {
          try {
            const record = await run(event);
            msg.dispatch = record;
            if (closing) {
              // settled while the node stops (shutdown, or an attempt that ended in the grace period): the nodes
              // after this one may be stopped already, so the history nodes it is wired to get the record directly
              await keepUnwiredRecord(RED, record, event, config.wires).catch((err: Error) =>
                node.warn(`${def.type}: could not keep a record in the history while stopping: ${err.message}`),
              );
            }
            send(msg);
            if (record.outcome === 'failed') done(new DispatchFailedError(record));
            else done();
          } catch (err) {
            // a bug, never a delivery result: report it, do not crash the runtime
            done(err instanceof Error ? err : new Error(String(err)));
          }
        })(),
      );
    });

    /** Dispatches `event` again and sends the result on the output. Rejects only for an invalid event. */
    node.redeliver = function (event: NotifierEvent, options: { redeliveryOf?: string } = {}): Promise<DispatchRecord> {
      let ev: NotifierEvent;
      try {
        ev = eventFromMessage({ event }, def.type);
      } catch (err) {
        return Promise.reject(err);
      }
      return track(
        (async () => {
          const record = await run(ev, options.redeliveryOf);
          const msg: NodeMsg = {
            _msgid: RED.util?.generateId ? RED.util.generateId() : record.id,
            event: ev,
            payload: ev.vars,
            topic: ev.type,
            dispatch: record,
          };
          try {
            node.send(msg);
            if (record.outcome === 'failed') node.error(new DispatchFailedError(record), msg);
          } catch {
            // the flow is stopping: the record is still returned to the caller
          }
          return record;
        })(),
      );
    };

    node.on('close', function (_removed: boolean, done: () => void) {
      closing = true;
      const finish = () => {
        try {
          node.status({});
        } catch {
          /* ignore */
        }
        done();
      };
      const closed = dispatcher ? dispatcher.close(graceMs) : Promise.resolve();
      closed
        .then(() => Promise.allSettled([...pending]))
        .then(finish, finish);
    });
  }

  RED.nodes.registerType(def.type, OutputNodeCtor, def.credentials ? { credentials: def.credentials } : {});
}
