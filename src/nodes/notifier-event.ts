// notifier-event: the trigger. Takes events from input messages and, when `path` is set, from an HTTP
// endpoint (on Node-RED's HTTP node root, or on the node's own port for signed intake), and emits one
// normalized event per message: msg.event, msg.payload (the variables), msg.topic (the code).
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EVENT_CODES, EventValidationError, SOURCE_SYSTEMS, isEventCode, isSourceEventCode, sampleEvent } from '../core/events';
import type { NotifierEvent } from '../core/events';
import { SOURCE_SETTINGS, eventFromBody, isSourceSetting } from '../core/events/sources';
import type { SourceSetting } from '../core/events/sources';
import { DEFAULT_MAX_BYTES, eventSelected, handleIntake } from '../core/intake';
import type { IntakeAuth, IntakeRequest, IntakeResponse } from '../core/intake';
import type { NotifierStore, SeenClaim, SeenIds } from '../core/store';
import { acquireNotifierStore, intakeSettings, releaseNotifierStore } from './shared/store';
import { sendTracked } from './shared/tracker';

import type { HttpApp, Node, NodeMessage, NodeRED as RED, Request, Response, RouterLayer, TlsConfigNode } from './shared/node-red';
type Done = (err?: Error) => void;

/** A request waiting for another instance's claim of the same delivery asks again this often (ms). */
const CLAIM_POLL_MS = 50;
/** Added to the intake's ack timeout: how long a claim outlives its instance, and how long another waits for it (ms). */
const CLAIM_GRACE_MS = 2000;

/** A notifier-event node: the "send test event" button emits through it. */
interface EventNode extends Node<{ secret?: string }> {
  emitEvent(event: NotifierEvent): boolean;
}

interface EventNodeConfig {
  id: string;
  name?: string;
  path?: string;
  events?: string[] | string;
  auth?: 'none' | 'secret' | 'hmac';
  /** who sends: auto (default; a node saved before sources existed has none), proget, github, dependency-track, nexus, artifactory, harbor */
  source?: string;
  port?: string | number;
  host?: string;
  tls?: string;
  maxBytes?: string | number;
}

/** One registry per runtime: endpoints on the shared HTTP root, and the admin error handler. */
interface Shared {
  endpoints: Map<string, { nodeId: string; handler: (req: IncomingMessage, res: ServerResponse) => void }>;
}
const SHARED = new WeakMap<object, Shared>();

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function joinRoot(root: string, path: string): string {
  return (root.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '')).replace(/\/+$/, '') || '/';
}

function pathOf(url: string | undefined): string {
  const p = (url ?? '/').split('?')[0]!;
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** Reads the raw body, stopping at `max` bytes; resolves undefined when over the limit. */
function readRaw(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/** Whether a request's Origin (when it has one) is the origin it is sent to: the editor's own page. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Answers 403 to a request from another origin (a web page); true when it did. */
function refuseCrossOrigin(req: IncomingMessage, res: ServerResponse): boolean {
  if (sameOrigin(req)) return false;
  sendJson(res, 403, {
    error: 'cross-origin request refused',
    details: `requests from ${String(req.headers.origin).slice(0, 100)} are not accepted: post events from a server, not from a web page`,
  });
  return true;
}

/**
 * Puts a middleware first in an express app (after express's own request setup): for the requests
 * `ours` picks, a cross-origin request is answered 403 and CORS headers set later are dropped.
 */
function guardFirst(
  app: HttpApp,
  ours: (req: IncomingMessage & { originalUrl?: string }) => boolean,
  direct?: (req: IncomingMessage & { originalUrl?: string }) => ((req: IncomingMessage, res: ServerResponse) => void) | undefined,
): void {
  const guard = (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: () => void) => {
    if (!ours(req)) return next();
    if (refuseCrossOrigin(req, res)) return;
    const setHeader = res.setHeader.bind(res);
    res.setHeader = (name: string, value: number | string | readonly string[]) => (/^access-control-/i.test(name) ? res : setHeader(name, value));
    // the endpoint answers here, before the rest of the app's middleware (the admin API's body parser among them):
    // the raw bytes stay for HMAC
    const handler = direct?.(req);
    if (handler) return handler(req, res);
    next();
  };
  app.use(guard);
  const stack: RouterLayer[] | undefined = app._router?.stack ?? app.router?.stack;
  if (!stack) return;
  const layer = stack.pop(); // the guard, just added
  if (!layer) return;
  const init = stack.findIndex((l) => l?.name === 'expressInit');
  stack.splice(init + 1, 0, layer);
}

/** Servers whose requests reach the event endpoints before Express (one interceptor per server). */
const INTERCEPTED = new WeakSet<object>();

/**
 * Answers the requests for event endpoints on the shared HTTP root as the server receives them, before Express: a
 * burst does not pay two Express apps' request set-up and routing per event. Measured on a 20,000-event burst: the
 * objects V8 promoted and later collected fell from 724 MB to 454 MB, and with them the heap's peak. Every other
 * request goes on to the server's listeners unchanged; the Express guard stays as the path when this one does not apply.
 */
function interceptServer(server: NonNullable<RED['server']>, direct: (req: IncomingMessage) => ((req: IncomingMessage, res: ServerResponse) => void) | undefined): void {
  if (INTERCEPTED.has(server) || typeof server.emit !== 'function') return;
  INTERCEPTED.add(server);
  const emit = server.emit.bind(server);
  server.emit = (event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'request') {
      const req = args[0] as IncomingMessage;
      const res = args[1] as ServerResponse;
      const handler = direct(req);
      if (handler) {
        if (!refuseCrossOrigin(req, res)) handler(req, res);
        return true;
      }
    }
    return emit(event, ...args);
  };
}

/**
 * Whether event endpoints on the shared HTTP root answer before Node-RED's own middleware: yes, unless the settings
 * put something in front of HTTP endpoints that must not be skipped (httpNodeAuth, httpNodeMiddleware).
 */
function directIntake(RED: RED): boolean {
  try {
    const s = RED.settings;
    return !s.httpNodeAuth && !s.httpNodeMiddleware;
  } catch {
    return false;
  }
}

/** `github.*`: every event of that source with no ProGet equivalent. */
const SOURCE_WILDCARD = new Set(SOURCE_SYSTEMS.map((s) => `${s}.*`));

function parseEvents(value: EventNodeConfig['events']): { codes: string[]; unknown: string[] } {
  const list = Array.isArray(value) ? value : typeof value === 'string' && value.trim() ? value.split(',') : [];
  const codes: string[] = [];
  const unknown: string[] = [];
  for (const raw of list) {
    const code = String(raw).trim();
    if (!code) continue;
    if (isEventCode(code) || isSourceEventCode(code) || SOURCE_WILDCARD.has(code)) codes.push(code);
    else unknown.push(code);
  }
  return { codes, unknown };
}

/** The headers of an input message that came from an HTTP in node (msg.req.headers) or an HTTP request node (msg.headers). */
function messageHeaders(msg: NodeMessage): Record<string, string | string[] | undefined> {
  const req = msg.req as { headers?: unknown } | undefined;
  const h = req && typeof req === 'object' && req.headers && typeof req.headers === 'object' ? req.headers : msg.headers;
  if (!h || typeof h !== 'object') return {};
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(h as Record<string, unknown>).slice(0, 200)) {
    if (typeof v === 'string' || Array.isArray(v)) out[k.toLowerCase()] = v as string | string[];
  }
  return out;
}

export = function register(RED: RED): void {
  function shared(): Shared {
    const key = RED.httpAdmin ?? RED;
    let s = SHARED.get(key);
    if (!s) {
      s = { endpoints: new Map() };
      SHARED.set(key, s);
      const state = s;
      // Node-RED's admin app parses JSON bodies of every request under its root; when that root covers
      // the HTTP node root, malformed or oversized JSON posted to our endpoint fails there. Answer those
      // errors for our paths with our JSON error instead of the admin app's HTML page.
      // The node API's httpAdmin is the runtime's admin app, mounted inside the editor API's admin app
      // (its `parent`), which is where that parser runs: add the handler to both.
      const apps = [RED.httpAdmin, RED.httpAdmin?.parent].filter((a): a is HttpApp => !!a && typeof a.use === 'function');
      // Node-RED's editor API answers every request under httpAdminRoot with `Access-Control-Allow-Origin: *`
      // (and ends preflights there); httpNodeCors does the same on the HTTP node root when set. On our
      // paths, a request from another origin is refused before that, and no CORS header is ever sent.
      // With httpNodeAuth or httpNodeMiddleware set, requests to HTTP endpoints must go through them: no direct answer.
      const direct = directIntake(RED)
        ? (req: IncomingMessage & { originalUrl?: string }) => state.endpoints.get(pathOf(req.originalUrl ?? req.url))?.handler
        : undefined;
      for (const app of [RED.httpAdmin?.parent, RED.httpAdmin, RED.httpNode]) {
        if (app && typeof app.use === 'function') guardFirst(app, (req) => state.endpoints.has(pathOf(req.originalUrl ?? req.url)), direct);
      }
      let server: RED['server'];
      try {
        server = RED.server;
      } catch {
        server = undefined; // a runtime without one
      }
      if (direct && server) interceptServer(server, direct);
      for (const app of apps) {
        app.use((error: unknown, req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: (e?: unknown) => void) => {
          const endpoint = state.endpoints.get(pathOf(req.originalUrl ?? req.url));
          if (!endpoint) return next(error);
          // what the body parser throws (body-parser's HttpError)
          const err = error as { type?: string; limit?: number; message?: string } | null | undefined;
          if (err?.type === 'entity.too.large') return sendJson(res, 413, { error: 'body too large', details: `the limit is ${err.limit} bytes` });
          if (err?.type === 'entity.parse.failed') return sendJson(res, 400, { error: 'malformed JSON', details: String(err.message) });
          if (err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported') {
            return sendJson(res, 415, { error: 'unsupported encoding', details: String(err.message) });
          }
          return sendJson(res, 400, { error: 'bad request', details: String(err?.message ?? error) });
        });
      }
    }
    return s;
  }

  function NotifierEventNode(this: EventNode, config: EventNodeConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const counts = { accepted: 0, rejected: 0, ignored: 0 };
    let lastType = '';
    const { codes, unknown } = parseEvents(config.events);
    const maxBytes = Number(config.maxBytes) > 0 ? Math.floor(Number(config.maxBytes)) : DEFAULT_MAX_BYTES;
    const authMode = config.auth ?? 'none';
    const secret: string | undefined = node.credentials?.secret || undefined;
    let configError: string | undefined;
    if (unknown.length) {
      node.error(
        `notifier-event: unknown event types in "events": ${unknown.join(', ')} (known: ${EVENT_CODES.join(', ')}, and <source>.<event> or <source>.* of ${SOURCE_SYSTEMS.join(', ')})`,
      );
    }
    // a node saved before sources existed has no `source`: auto, which accepts everything it accepted before
    const source: SourceSetting = config.source === undefined || config.source === '' ? 'auto' : isSourceSetting(config.source) ? config.source : 'auto';
    let auth: IntakeAuth = { mode: 'none' };
    if (authMode === 'secret' || authMode === 'hmac') {
      if (!secret) configError = `auth is "${authMode}" but no secret is set`;
      else auth = authMode === 'secret' ? { mode: 'secret', secret } : { mode: 'hmac', secret };
    } else if (authMode !== 'none') {
      configError = `unknown auth "${String(authMode)}" (use none, secret or hmac)`;
    }
    if (config.source !== undefined && config.source !== '' && !isSourceSetting(config.source)) {
      configError = `unknown source "${String(config.source).slice(0, 60)}" (use ${SOURCE_SETTINGS.join(', ')})`;
    }

    // an HTTP endpoint without auth: a ring status and a warning at deploy
    const openEndpoint = authMode === 'none' && (config.path ?? '').trim() !== '';
    function showStatus(fill: 'green' | 'red' | 'yellow' | 'grey' = 'green', text?: string): void {
      if (text) return node.status({ fill, shape: openEndpoint ? 'ring' : 'dot', text });
      const short = lastType ? lastType.replace(/^(package|sca)\./, '') + ' · ' : '';
      node.status({
        fill: counts.rejected && !counts.accepted ? 'red' : openEndpoint ? 'yellow' : 'green',
        shape: counts.accepted && !openEndpoint ? 'dot' : 'ring',
        text: `${short}${counts.accepted} ok${counts.rejected ? `, ${counts.rejected} bad` : ''}${counts.ignored ? `, ${counts.ignored} skipped` : ''}`,
      });
    }

    function selected(event: NotifierEvent): boolean {
      return eventSelected(codes, event.type);
    }

    /** Puts the event on a message (msg.event, msg.payload = a copy of its variables, msg.topic) and counts it. */
    function accept(event: NotifierEvent, msg: NodeMessage): NodeMessage {
      msg.event = event;
      msg.payload = structuredClone(event.vars);
      msg.topic = event.type;
      counts.accepted++;
      lastType = event.type;
      showStatus();
      return msg;
    }
    function emit(event: NotifierEvent): void {
      node.send(accept(event, { _msgid: RED.util.generateId() }));
    }

    // ---- durable intake: the seen ids in the store, and the answer once the flow has stored the event ----
    const { ackTimeoutMs } = intakeSettings(RED);
    let store: NotifierStore | undefined;
    let seen: Promise<SeenIds> | undefined;
    /** deliveries being handled, by the sender's id: a repeat arriving meanwhile waits for the first one's answer */
    const inFlight = new Map<string, Promise<IntakeResponse>>();
    let storeDown = false;
    const seenIds = (): Promise<SeenIds> => {
      if (!seen) {
        try {
          store ??= acquireNotifierStore(RED);
          seen = store.seenIds();
        } catch (err) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what was thrown, as it is
          seen = Promise.reject(err);
        }
        seen.catch(() => {
          seen = undefined;
        });
      }
      return seen;
    };
    function storeStatus(down: boolean, why?: string): void {
      if (down === storeDown) return;
      storeDown = down;
      if (down) {
        node.status({ fill: 'red', shape: 'ring', text: 'store unavailable' });
        node.error(`notifier-event: events are refused (503) while the store cannot keep them: ${why ?? 'unknown error'}`);
      } else {
        node.log('notifier-event: the store keeps events again');
        showStatus();
      }
    }

    /** Emits an accepted event and answers once the flow has stored it (202), could not (503), or took too long. */
    async function acceptHttp(answer: IntakeResponse & { event: NotifierEvent }, seenIds: SeenIds): Promise<IntakeResponse> {
      const event = answer.event;
      const msg = accept(event, { _msgid: RED.util.generateId() });
      const tree = await sendTracked(RED, msg as { _msgid: string }, () => node.send(msg), ackTimeoutMs);
      if (tree.storeError) {
        storeStatus(true, tree.storeError.message);
        counts.accepted--;
        return {
          status: 503,
          body: { error: 'store unavailable', details: `the event was not stored, so it is not accepted; send it again later (${tree.storeError.message})` },
        };
      }
      storeStatus(false);
      if (answer.dedupId) {
        await seenIds.add(answer.dedupId).catch((err: Error) => node.warn(`notifier-event: could not record delivery id ${answer.dedupId} as seen: ${err.message}`));
      }
      if (!tree.completed) {
        return {
          status: 202,
          body: {
            id: event.id,
            stored: false,
            details: `accepted, but the flow did not finish with the event within ${ackTimeoutMs} ms (a node that does not call done()?), so it may not be stored yet`,
          },
        };
      }
      return { status: 202, body: { id: event.id } };
    }
    node.emitEvent = (event: NotifierEvent): boolean => {
      if (!selected(event)) return false;
      emit(event);
      return true;
    };

    node.on('input', (msg: NodeMessage, send: (m: NodeMessage) => void, done: Done) => {
      try {
        let input: unknown = msg.payload;
        if (Buffer.isBuffer(input)) input = input.toString('utf8');
        if (typeof input === 'string') {
          try {
            input = JSON.parse(input);
          } catch (err) {
            throw new EventValidationError([{ path: 'msg.payload', message: `is a string but not valid JSON (${(err as Error).message})` }]);
          }
        }
        const eventType = typeof msg.eventType === 'string' ? msg.eventType : undefined;
        const event = eventFromBody(input, { source, headers: messageHeaders(msg), via: 'input', ...(eventType ? { eventType } : {}) });
        if (!selected(event)) {
          counts.ignored++;
          showStatus();
          return done();
        }
        send(accept(event, msg));
        done();
      } catch (err) {
        counts.rejected++;
        showStatus();
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    // ---- the claim of a delivery in a shared store (Redis): two instances receiving it at once emit it once ----
    /** how long a claim blocks the delivery id when its instance dies before it settles */
    const claimTtlMs = ackTimeoutMs + CLAIM_GRACE_MS;
    /** how long a request waits for another instance's claim to settle */
    const claimWaitMs = ackTimeoutMs + CLAIM_GRACE_MS;
    /** pauses of requests waiting for a claim: ended at close */
    const claimWaits = new Set<() => void>();
    let closing = false;
    function claimPause(ms: number): Promise<void> {
      return new Promise((resolve) => {
        const end = () => {
          clearTimeout(timer);
          claimWaits.delete(end);
          resolve();
        };
        const timer = setTimeout(end, ms);
        claimWaits.add(end);
      });
    }
    /**
     * Claims delivery `key`; while another instance holds it, waits (a poll every CLAIM_POLL_MS) until it settles:
     * 'seen' (it accepted the event), 'claimed' (its claim went away without acceptance: this request handles it),
     * 'busy' (still pending after the wait), 'closed' (the node is closing). A claim held by a request of this node
     * is waited for directly.
     */
    async function claimDelivery(dedupe: SeenIds, key: string): Promise<SeenClaim | 'closed'> {
      const deadline = Date.now() + claimWaitMs;
      for (;;) {
        const state = await dedupe.claim!(key, claimTtlMs);
        if (state !== 'busy') return state;
        const local = inFlight.get(key);
        if (local) {
          await local.catch(() => undefined);
          continue;
        }
        if (closing) return 'closed';
        const left = deadline - Date.now();
        if (left <= 0) return 'busy';
        await claimPause(Math.min(CLAIM_POLL_MS, left));
        if (closing) return 'closed';
      }
    }
    async function unclaimDelivery(dedupe: SeenIds, key: string): Promise<void> {
      // a claim that cannot be given up lapses after claimTtlMs
      await dedupe.unclaim?.(key).catch((err: Error) => node.warn(`notifier-event: could not give up the claim of delivery id ${key}: ${err.message}`));
    }
    /** 503 (sent with Retry-After): another instance is still handling the same delivery (or this node is closing). */
    function busyAnswer(state: 'busy' | 'closed'): IntakeResponse {
      return {
        status: 503,
        body:
          state === 'closed'
            ? { error: 'endpoint closing', details: 'the node is being stopped or redeployed; send the event again' }
            : {
                error: 'delivery in progress',
                details: `another instance is still handling this delivery id after ${claimWaitMs} ms, so it is neither accepted nor refused yet; send it again later`,
              },
      };
    }

    // ---- HTTP intake --------------------------------------------------------------------------------
    /** 503: the store cannot keep the event now (the sender tries again later). */
    function refuse(res: ServerResponse, err: Error): void {
      storeStatus(true, err.message);
      sendJson(res, 503, { error: 'store unavailable', details: `the event cannot be stored now: ${err.message}` });
    }
    async function serve(req: IncomingMessage & { _body?: boolean; body?: unknown; query?: Record<string, unknown> }, res: ServerResponse) {
      try {
        if (configError) return sendJson(res, 503, { error: 'endpoint misconfigured', details: configError });
        const query = req.query ?? Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams);
        const intake: IntakeRequest = { method: req.method ?? 'GET', headers: req.headers, query };
        if (req._body) {
          intake.parsedBody = req.body;
        } else if (req.method === 'POST') {
          const declared = Number(req.headers['content-length']);
          if (Number.isFinite(declared) && declared > maxBytes) {
            res.setHeader('Connection', 'close');
            return sendJson(res, 413, { error: 'body too large', details: `the limit is ${maxBytes} bytes` });
          }
          const raw = await readRaw(req, maxBytes);
          if (!raw) {
            res.setHeader('Connection', 'close');
            return sendJson(res, 413, { error: 'body too large', details: `the limit is ${maxBytes} bytes` });
          }
          intake.rawBody = raw;
        }
        let dedupe: SeenIds;
        try {
          dedupe = await seenIds();
        } catch (err) {
          return refuse(res, err as Error);
        }
        let answer = handleIntake(intake, { auth, events: codes, source, maxBytes });
        const key = answer.dedupId;
        /** whether this request holds the delivery's claim in a shared store (given up unless the event is accepted) */
        let claimed = false;
        if (answer.event && key !== undefined && !inFlight.has(key)) {
          // the seen ids may be in a shared store (Redis): asked here, so that intake itself stays synchronous
          let state: SeenClaim | 'closed';
          try {
            state = dedupe.claim ? await claimDelivery(dedupe, key) : (await dedupe.has(key)) ? 'seen' : 'claimed';
          } catch (err) {
            return refuse(res, err as Error);
          }
          if (state === 'seen') {
            answer = { status: 202, body: { id: answer.event.id, duplicate: true } };
          } else if (state === 'busy' || state === 'closed') {
            answer = busyAnswer(state);
            res.setHeader('Retry-After', String(Math.ceil(claimTtlMs / 1000)));
          } else {
            claimed = !!dedupe.claim;
          }
        }
        const earlier = key !== undefined ? inFlight.get(key) : undefined;
        if (earlier) {
          // the same delivery is being handled: answer as it is answered (a repeat is never emitted twice)
          if (claimed) await unclaimDelivery(dedupe, key!);
          const first = await earlier;
          answer = first.status === 202 ? { status: 202, body: { id: first.body.id, duplicate: true } } : first;
        } else if (answer.event) {
          const pending = acceptHttp(answer as IntakeResponse & { event: NotifierEvent }, dedupe);
          if (key !== undefined) inFlight.set(key, pending);
          let accepted = false;
          try {
            answer = await pending;
            accepted = answer.status < 400;
          } finally {
            if (key !== undefined) inFlight.delete(key);
            // not accepted (503, or a failure): another instance, or the sender's retry, may take the delivery at once
            if (claimed && !accepted) await unclaimDelivery(dedupe, key!);
          }
        }
        if (answer.status >= 400) {
          counts.rejected++;
          showStatus();
        } else if (!answer.event && answer.body.ignored) {
          counts.ignored++;
          showStatus();
        }
        sendJson(res, answer.status, answer.body);
      } catch (err) {
        node.error(`notifier-event: could not handle a request: ${(err as Error).message}`);
        sendJson(res, 500, { error: 'internal error', details: (err as Error).message });
      }
    }
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      void serve(req, res);
    };

    let ownServer: http.Server | undefined;
    let sharedPath: string | undefined;
    let routePath: string | undefined;
    const rawPath = (config.path ?? '').trim();
    const port = Number(config.port) || 0;
    if (rawPath) {
      const path = '/' + rawPath.replace(/^\/+/, '');
      if (!/^\/[A-Za-z0-9._~/-]*$/.test(path)) {
        node.error(`notifier-event: path "${rawPath}" may only contain letters, digits and . _ ~ - /`);
        showStatus('red', 'bad path');
      } else if (port) {
        if (port < 1 || port > 65535) {
          showStatus('red', 'bad port');
          node.error(`notifier-event: port ${config.port} is not between 1 and 65535`);
        } else {
          const tlsNode = config.tls ? RED.nodes.getNode<TlsConfigNode>(config.tls) : undefined;
          const listener = (req: IncomingMessage, res: ServerResponse) => {
            if (pathOf(req.url) !== pathOf(path)) return sendJson(res, 404, { error: 'not found', details: `POST events to ${path}` });
            if (refuseCrossOrigin(req, res)) return;
            handler(req, res);
          };
          if (tlsNode) {
            const opts: Record<string, unknown> = {};
            tlsNode.addTLSOptions(opts);
            ownServer = https.createServer(opts, listener);
          } else {
            ownServer = http.createServer(listener);
          }
          ownServer.requestTimeout = 30_000;
          ownServer.headersTimeout = 15_000;
          const host = (config.host ?? '').trim() || '127.0.0.1';
          ownServer.on('error', (err: NodeJS.ErrnoException) => {
            node.error(`notifier-event: cannot listen on ${host}:${port}: ${err.message}`);
            showStatus('red', err.code === 'EADDRINUSE' ? `port ${port} in use` : 'listen failed');
          });
          ownServer.listen(port, host, () => showStatus('grey', `listening :${port}`));
        }
      } else if (RED.settings.httpNodeRoot === false || !RED.httpNode) {
        node.error('notifier-event: the HTTP node root is disabled (httpNodeRoot: false); set a port for this node');
        showStatus('red', 'no HTTP root');
      } else {
        const root = typeof RED.settings.httpNodeRoot === 'string' ? RED.settings.httpNodeRoot : '/';
        const full = pathOf(joinRoot(root, path));
        const s = shared();
        const other = s.endpoints.get(full);
        if (other && other.nodeId !== node.id) {
          node.error(`notifier-event: path ${full} is already used by node ${other.nodeId}`);
          showStatus('red', 'path in use');
        } else {
          s.endpoints.set(full, { nodeId: node.id, handler });
          sharedPath = full;
          routePath = path;
          RED.httpNode.all(path, handler);
          const adminRoot = RED.settings.httpAdminRoot;
          if (authMode === 'hmac' && !directIntake(RED) && adminRoot !== false && full.startsWith(pathOf(typeof adminRoot === 'string' ? adminRoot : '/'))) {
            node.warn(
              'notifier-event: HMAC needs the raw body, but Node-RED parses JSON bodies under httpAdminRoot, which covers this path. ' +
                'Set a port on this node for signed intake (or move httpAdminRoot, e.g. to /admin).',
            );
            showStatus('yellow', 'HMAC needs own port');
          }
        }
      }
    }
    if (configError) {
      node.error(`notifier-event: ${configError}`);
      showStatus('red', configError.includes('secret') ? 'secret missing' : configError.startsWith('unknown source') ? 'bad source' : 'bad auth');
    } else if (!ownServer && !routePath && !rawPath) {
      node.status({});
    } else if (routePath && authMode !== 'hmac') {
      showStatus(openEndpoint ? 'yellow' : 'grey', `POST ${routePath}${openEndpoint ? ' · no auth' : ''}`.slice(0, 30));
    }
    if (openEndpoint && !configError) {
      node.warn(
        `notifier-event: the endpoint ${routePath ?? rawPath} has no auth: anyone who can reach it can post events. Set auth to "secret" or "hmac".`,
      );
    }

    node.on('close', (_removed: boolean, closed: Done) => {
      closing = true;
      for (const end of [...claimWaits]) end();
      const done = () => {
        if (store) releaseNotifierStore(store).then(() => closed(), () => closed());
        else closed();
      };
      if (sharedPath) {
        const s = shared();
        if (s.endpoints.get(sharedPath)?.nodeId === node.id) s.endpoints.delete(sharedPath);
        const stack: RouterLayer[] | undefined = RED.httpNode?._router?.stack ?? RED.httpNode?.router?.stack;
        if (stack) {
          for (let i = stack.length - 1; i >= 0; i--) {
            const route = stack[i]?.route;
            if (route && route.path === routePath && route.stack?.some((l) => l.handle === handler)) stack.splice(i, 1);
          }
        }
      }
      if (ownServer) {
        const srv = ownServer;
        ownServer = undefined;
        srv.close(() => done());
        srv.closeAllConnections?.();
      } else {
        done();
      }
    });
  }

  RED.nodes.registerType('notifier-event', NotifierEventNode, {
    credentials: { secret: { type: 'password' } },
  });

  // "send test event" button: emits the sample event of the chosen type through the node.
  RED.httpAdmin.post(
    '/notifier-event/:id/test',
    RED.auth.needsPermission('notifier-event.write'),
    (req: Request, res: Response) => {
      const node = RED.nodes.getNode<EventNode>(req.params.id ?? '');
      if (!node || typeof node.emitEvent !== 'function') {
        return res.status(404).json({ error: 'node not found', details: 'deploy the flow first' });
      }
      const type = String((req.body as { eventType?: string } | undefined)?.eventType ?? 'package.promoted');
      let event: NotifierEvent;
      try {
        event = sampleEvent(type);
      } catch (err) {
        return res.status(400).json({ error: 'unknown event type', details: (err as Error).message });
      }
      if (!node.emitEvent(event)) {
        return res.status(409).json({ error: 'event type not selected', details: `${type} is filtered out by this node's event types` });
      }
      res.json({ id: event.id, type: event.type });
    },
  );
};
