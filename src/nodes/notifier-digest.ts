// notifier-digest: groups bursts of events into one digest event; a lone event passes on unchanged. The grouping
// and timing are the core's (src/core/digest); this adapter checks the configuration at deploy, holds each
// msg.event in the store's digest groups before done() (done(err) with code store_unavailable when the store
// cannot keep it: the event node then answers 503), hands flushed groups on as messages (waiting until the flow
// has stored them before they leave the store), shows groups open and events held, and on close stops every
// timer. Redeploying keeps what was collected (the next start resumes it with the stored due times); a removed
// node hands on everything it held at once, and keeps in the store (with a warning) what could not be handed on.
import { ConfigError, systemClock } from '../core/delivery';
import type { Clock } from '../core/delivery';
import { DigestEngine, parseDigestConfig } from '../core/digest';
import type { DigestConfig, FlushOutput } from '../core/digest';
import type { NotifierEvent } from '../core/events';
import { OtterScriptError } from '../core/otterscript';
import type { DigestGroups, NotifierStore } from '../core/store';
import { carriedProperties, deliverySettings, eventFromMessage } from './shared/output-node';
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
      const held = (await groups.load()).reduce((n, g) => n + g.events.length, 0);
      await (held === 0 ? groups.destroy() : groups.close());
      if (held > 0) RED.log?.warn?.(`${TYPE}: node ${id} is no longer in the flows; the ${held} event(s) it held stay in the store (digest/${id})`);
    }
  });
}

export = function register(RED: RED): void {
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
    let engine: DigestEngine | undefined;
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
        const { groups, held } = engine ? engine.stats() : { groups: 0, held: 0 };
        status = held === 0 ? { fill: 'grey', shape: 'ring', text: 'idle' } : { fill: 'blue', shape: 'dot', text: `${groups} group${groups === 1 ? '' : 's'}, ${held} held` };
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

    // ---- the store -------------------------------------------------------------------------------------------
    let store: NotifierStore | undefined;
    let groups: DigestGroups | undefined;
    let started: Promise<DigestEngine> | undefined;
    const start = (): Promise<DigestEngine> => {
      const config = cfg!;
      const p = (async () => {
        store ??= acquireNotifierStore(RED);
        groups = await store.openGroups(nodeId, { owner: { type: TYPE, notifier: name } });
        const e = new DigestEngine(
          config,
          groups,
          {
            deliver,
            problem: (message) => node.warn(`${TYPE} "${name}": ${message}`),
            changed: refreshStatus,
          },
          clock,
        );
        const loaded = await e.start();
        if (loaded.events > 0) node.log(`${TYPE} "${name}": resumed ${loaded.groups} group(s) holding ${loaded.events} event(s)`);
        if (loaded.skipped > 0) node.warn(`${TYPE} "${name}": ${loaded.skipped} stored event(s) could not be read back and were skipped`);
        engine = e;
        problem = undefined;
        refreshStatus();
        return e;
      })();
      p.catch((err: Error) => {
        problem = err.message;
        node.error(`${TYPE} "${name}": the digest groups cannot be opened: ${err.message}`);
        refreshStatus();
        // the next message tries again
        if (started === p) started = undefined;
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
        const e = await started?.catch(() => undefined);
        if (e && removed) {
          closing = true;
          await e.flushAll();
        }
        closing = true;
        if (e) await e.close();
        if (!groups) return;
        const left = e ? e.stats().held : 0;
        if (removed && left === 0) await groups.destroy();
        else {
          await groups.close();
          if (removed) node.warn(`${TYPE} "${name}" was removed holding ${left} event(s) it could not hand on: they stay in the store (digest/${nodeId})`);
        }
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
