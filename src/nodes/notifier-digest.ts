// notifier-digest: groups bursts of events into one digest event; a lone event passes on unchanged. The grouping
// and timing are the core's (src/core/digest); this adapter checks the configuration at deploy, holds each
// msg.event in the store's digest groups before done() (done(err) with code store_unavailable when the store
// cannot keep it: the event node then answers 503), hands flushed groups on as messages (waiting until the flow
// has stored them before they leave the store), shows groups open and events held, and on close stops every
// timer. Redeploying keeps what was collected (the next start resumes it with the stored due times); a removed
// node hands on everything it held at once, and keeps in the store (with a warning) what could not be handed on.
import { ConfigError, systemClock } from '../core/delivery';
import type { Clock } from '../core/delivery';
import { DigestRunner, parseDigestConfig } from '../core/digest';
import type { DigestConfig, FlushOutput } from '../core/digest';
import type { NotifierEvent } from '../core/events';
import { OtterScriptError } from '../core/otterscript';
import { NotOwnerError } from '../core/store';
import type { NotifierStore } from '../core/store';
import { carriedProperties, deliverySettings, eventFromMessage } from './shared/output-node';
import { registerPreviewRoute } from './shared/preview-route';
import { acquireNotifierStore, afterFlowsStarted, intakeSettings, releaseNotifierStore } from './shared/store';
import { sendTracked } from './shared/tracker';

import type { Node, NodeMessage, NodeRED as RED, NodeSend, NodeStatus } from './shared/node-red';
type Done = (err?: Error) => void;

interface DigestNodeConfig {
  id: string;
  name?: string;
  groupBy?: string;
  wait?: string | number;
  threshold?: string | number;
  interval?: string | number;
  maxEvents?: string | number;
  wires?: unknown;
  [key: string]: unknown;
}

const TYPE = 'notifier-digest';
/** Delay before the groups are opened again after they could not be (the store was away). */
const START_RETRY_MS = 5000;
/** Shortest interval between two status updates while messages flow. */
const STATUS_INTERVAL_MS = 250;

/**
 * Once the flows started: digest nodes that are no longer in the flows (removed while the runtime was down) but still
 * hold events in the store are reported, with the count; their events stay in the store (there is no node to hand
 * them on through).
 */
function reportOrphanGroups(RED: RED): void {
  afterFlowsStarted(RED, 'the digest groups of removed nodes', async (store, known) => {
    for (const id of await store.groupsIds()) {
      if (known.has(id)) continue;
      const groups = await store.openGroups(id);
      // a shared store: events other instances forwarded to it count too
      const forwarded = groups.shared ? (await groups.shared.inbox(1000)).length : 0;
      const held = (await groups.load()).reduce((n, g) => n + g.events.length, forwarded);
      // another instance that still runs the node keeps its groups (the store refuses to remove them)
      await (held === 0 ? groups.destroy().catch((err: Error) => (err instanceof NotOwnerError ? undefined : Promise.reject(err))) : groups.close());
      if (held > 0) RED.log?.warn?.(`${TYPE}: node ${id} is no longer in the flows; the ${held} event(s) it held stay in the store (digest/${id})`);
    }
  });
}

export = function register(RED: RED): void {
  // the editor's groupBy preview and check (the route is added once, whichever node type registers first)
  registerPreviewRoute(RED);
  reportOrphanGroups(RED);
  function NotifierDigestNode(this: Node, config: DigestNodeConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const nodeId = String(node.id);
    const name = typeof config.name === 'string' && config.name.trim() ? config.name.trim() : nodeId;
    const clock: Clock = deliverySettings(RED).clock ?? systemClock;
    const ackTimeoutMs = intakeSettings(RED).ackTimeoutMs;
    let closing = false;
    /** set once close begins: no status update after it */
    let stopped = false;
    let problem: string | undefined;

    let cfg: DigestConfig | undefined;
    let invalid: string | undefined;
    try {
      cfg = parseDigestConfig(config);
    } catch (err) {
      invalid = err instanceof ConfigError || err instanceof OtterScriptError ? err.message : String((err as Error)?.message ?? err);
      const property = err instanceof ConfigError ? err.property : 'config';
      node.error(`${TYPE} "${name}": invalid configuration: ${invalid}`);
      node.status({ fill: 'red', shape: 'ring', text: `invalid ${property}` });
    }

    // ---- status: groups open and events held ---------------------------------------------------------------
    let engine: DigestRunner | undefined;
    let statusTimer: NodeJS.Timeout | undefined;
    let lastStatus = 0;
    let shown = '';
    const showStatus = () => {
      statusTimer = undefined;
      lastStatus = Date.now();
      if (closing || invalid) return;
      let status: NodeStatus;
      if (problem) status = { fill: 'red', shape: 'ring', text: 'store unavailable' };
      else {
        const { groups, held, standby } = engine ? engine.stats() : { groups: 0, held: 0, standby: false };
        if (standby) status = { fill: 'grey', shape: 'dot', text: `standby: another instance digests (${engine!.forwarded} forwarded)` };
        else if (held === 0) status = { fill: 'grey', shape: 'ring', text: 'idle' };
        else status = { fill: 'blue', shape: 'dot', text: `${groups} group${groups === 1 ? '' : 's'}, ${held} held` };
      }
      const key = JSON.stringify(status);
      if (key === shown) return;
      shown = key;
      node.status(status);
    };
    const refreshStatus = () => {
      if (statusTimer || stopped) return;
      const wait = STATUS_INTERVAL_MS - (Date.now() - lastStatus);
      if (wait <= 0) showStatus();
      else statusTimer = setTimeout(showStatus, wait);
    };

    // ---- hand-over: a flushed group goes on as messages; it leaves the store once the flow has stored them ----
    const handOn = async (msg: NodeMessage & { _msgid: string }): Promise<void> => {
      // a removed node hands on what it held while it stops: it waits less for the nodes after it, and what the flow
      // did not finish with (nodes after it stopping too) stays in the store rather than go unseen
      const result = await sendTracked(RED, msg, () => node.send(msg), closing ? Math.min(ackTimeoutMs, 5000) : ackTimeoutMs);
      if (result.storeError) throw result.storeError;
      if (closing && !result.completed) throw new Error('the nodes after it did not finish with it while it stopped');
    };
    const newId = (): string => (RED.util?.generateId ? RED.util.generateId() : `${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`);
    const deliver = async (_key: string, output: FlushOutput): Promise<void> => {
      if (output.kind === 'digest') {
        const event = output.event;
        await handOn({ _msgid: newId(), topic: event.type, payload: structuredClone(event.vars), event });
        return;
      }
      await Promise.all(
        output.events.map(({ event, msg }) =>
          handOn({
            ...(msg && 'payload' in msg ? {} : { payload: structuredClone(event.vars) }),
            topic: event.type,
            ...(msg ?? {}),
            _msgid: newId(),
            event,
          }),
        ),
      );
    };

    // ---- the store ----------------------------------------------------------------------------------------------
    let store: NotifierStore | undefined;
    let started: Promise<DigestRunner> | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    const start = (): Promise<DigestRunner> => {
      const config = cfg!;
      const p = (async () => {
        store ??= acquireNotifierStore(RED);
        await store.whenReady();
        const groups = await store.openGroups(nodeId, { owner: { type: TYPE, notifier: name } });
        const r = new DigestRunner(
          config,
          groups,
          {
            deliver,
            pass: (event, msg) => deliver('', { kind: 'single', events: [{ event, ...(msg ? { msg } : {}) }] }),
            owner: (loaded) => {
              if (loaded.events > 0) node.log(`${TYPE} "${name}": resumed ${loaded.groups} group(s) holding ${loaded.events} event(s)`);
              if (loaded.skipped > 0) node.warn(`${TYPE} "${name}": ${loaded.skipped} stored event(s) could not be read back and were skipped`);
            },
            problem: (message) => node.warn(`${TYPE} "${name}": ${message}`),
            changed: refreshStatus,
          },
          clock,
        );
        try {
          await r.start();
        } catch (err) {
          await groups.close().catch(() => undefined);
          throw err;
        }
        engine = r;
        problem = undefined;
        refreshStatus();
        return r;
      })();
      p.catch((err: Error) => {
        problem = err.message;
        node.error(`${TYPE} "${name}": the digest groups cannot be opened: ${err.message}`);
        refreshStatus();
        // the next message tries again, and a timer (what was held before must not wait for a new event)
        if (started === p) started = undefined;
        if (!stopped && !retryTimer) {
          retryTimer = setTimeout(() => {
            retryTimer = undefined;
            if (!stopped && !started) void start().catch(() => undefined);
          }, START_RETRY_MS);
        }
      });
      started = p;
      return p;
    };
    if (cfg) void start().catch(() => undefined); // reported above
    else showStatus();

    node.on('input', (msg: NodeMessage, send: NodeSend, done: Done) => {
      if (invalid || !cfg) {
        done(new Error(`${TYPE} "${name}": not grouped, the configuration is invalid: ${invalid}`));
        return;
      }
      let event: NotifierEvent;
      try {
        event = eventFromMessage(msg, TYPE);
      } catch (err) {
        done(err as Error);
        return;
      }
      const carried = carriedProperties(msg).props;
      (started ?? start())
        .then((e) => e.accept(event, carried))
        .then(
          (result) => {
            if (result === 'pass') send(msg);
            problem = undefined;
            refreshStatus();
            done();
          },
          (err: Error) => {
            const e = new Error(`${TYPE} "${name}": the event could not be held, nothing was sent: ${err.message}`) as Error & { code?: string };
            e.code = 'store_unavailable';
            problem = err.message;
            refreshStatus();
            done(e);
          },
        );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
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
        const r = await started?.catch(() => undefined);
        closing = true;
        if (!r) return;
        const { left } = await r.close(removed);
        if (removed && left > 0) node.warn(`${TYPE} "${name}" was removed holding ${left} event(s) it could not hand on: they stay in the store (digest/${nodeId})`);
      })()
        .catch((err: Error) => node.warn(`${TYPE} "${name}": ${err.message}`))
        .finally(() => {
          if (store) releaseNotifierStore(store).then(finish, finish);
          else finish();
        });
    });
  }

  RED.nodes.registerType(TYPE, NotifierDigestNode);
};
