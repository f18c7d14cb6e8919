// Tells when the message tree of one message has completed in the flows: every node it was delivered to (and
// every node those sent it on to, with the same _msgid) has called done(). Built on Node-RED's messaging hooks
// (Node-RED >= 2): `preDeliver` counts a delivery to a node, `onComplete` counts that node done. The event node
// waits for it before it answers 202 (every dispatch the event produced is stored by then), and an output node
// waits for its result message before it removes the dispatch from its outbox.
//
// Limits, by design: a node that never calls done() (or calls it before sending on) makes the wait end by its
// timeout; Catch and Status nodes, which get the message without a wire, are not waited for.

import type { HookEvent, NodeRED as RED } from './node-red';

export interface TreeResult {
  /** every delivery of the tree completed (false: the timeout ended the wait) */
  completed: boolean;
  /** a node of the tree failed because the store could not keep what it was given */
  storeError?: Error;
}

interface Watch {
  /** deliveries not completed yet, per destination node id */
  open: Map<string, number>;
  total: number;
  storeError?: Error;
  timer?: NodeJS.Timeout;
  resolve(result: TreeResult): void;
}

const HOOK = 'pnTracker';
const watches = new Map<string, Watch>();

function isStoreError(err: unknown): err is Error {
  const code = (err as { code?: unknown } | undefined)?.code;
  return err instanceof Error && (code === 'store_unavailable' || (err as { storeUnavailable?: boolean }).storeUnavailable === true);
}

function ensureHooks(RED: RED): void {
  const hooks = RED.hooks;
  if (!hooks || typeof hooks.add !== 'function') return;
  if (typeof hooks.has === 'function' && hooks.has(`preDeliver.${HOOK}`)) return;
  hooks.add(`preDeliver.${HOOK}`, (ev: HookEvent) => {
    const id = ev?.msg?._msgid;
    if (id === undefined || watches.size === 0) return;
    const w = watches.get(id);
    if (!w) return;
    const dest = String(ev.destination?.id);
    w.open.set(dest, (w.open.get(dest) ?? 0) + 1);
    w.total++;
  });
  hooks.add(`onComplete.${HOOK}`, (ev: HookEvent) => {
    const id = ev?.msg?._msgid;
    if (id === undefined || watches.size === 0) return;
    const w = watches.get(id);
    if (!w) return;
    const nodeId = String(ev.node?.id);
    const n = w.open.get(nodeId);
    if (!n) return; // not a wired delivery of this tree (a Catch node, a node sending without a wire)
    if (n === 1) w.open.delete(nodeId);
    else w.open.set(nodeId, n - 1);
    if (ev.error && isStoreError(ev.error)) w.storeError = ev.error;
    if (w.open.size === 0) finish(id, w, true);
  });
}

function finish(id: string, w: Watch, completed: boolean): void {
  if (watches.get(id) !== w) return;
  watches.delete(id);
  if (w.timer) clearTimeout(w.timer);
  w.resolve(w.storeError ? { completed, storeError: w.storeError } : { completed });
}

/**
 * Sends `msg` with `send` (node.send) and resolves when its tree completed, or after `timeoutMs`. `msg._msgid`
 * must be new (a fresh id per tracked tree).
 */
export function sendTracked(RED: RED, msg: { _msgid: string }, send: () => void, timeoutMs: number): Promise<TreeResult> {
  ensureHooks(RED);
  const id = msg._msgid;
  return new Promise<TreeResult>((resolve) => {
    const w: Watch = { open: new Map(), total: 0, resolve };
    watches.set(id, w);
    try {
      send();
    } catch (err) {
      finish(id, w, true);
      throw err;
    }
    // Deliveries are counted while send() runs (hooks are synchronous unless a hook of the user's is not): give
    // asynchronous hooks a turn before deciding that nothing was wired.
    setImmediate(() => {
      if (w.total === 0) finish(id, w, true);
    });
    w.timer = setTimeout(() => finish(id, w, false), Math.max(1, timeoutMs));
    w.timer.unref?.();
  });
}

/** Trees being watched now (tests, diagnostics). */
export function trackedCount(): number {
  return watches.size;
}
