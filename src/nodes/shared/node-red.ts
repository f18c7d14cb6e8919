// The part of Node-RED's runtime API (4.x and 5.x) that the nodes in src/nodes use, typed. Node-RED ships no
// types, and @types/node-red describes Node-RED 1.x (with express and other packages' types as dependencies), so
// this small interface says what these nodes rely on and nothing more. Types only: no code at run time.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A message on a wire. */
export type NodeMessage = Record<string, unknown> & { _msgid?: string };

/** `send` of the input handler (Node-RED >= 1.0): one message, or one per output (null: none on that output). */
export type NodeSend = (msg: NodeMessage | null | Array<NodeMessage | NodeMessage[] | null>) => void;
/** `done` of the input handler: without an argument, the message is handled; with an error, it failed. */
export type NodeDone = (err?: unknown) => void;

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

/** A node instance, as RED.nodes.createNode makes it (`this` of a node's constructor). */
export interface Node<Credentials = Record<string, string | undefined>> {
  readonly id: string;
  readonly type: string;
  /** the flow (tab or subflow instance) the node is in */
  readonly z?: string;
  name?: string;
  credentials?: Credentials;
  on(event: 'input', handler: (msg: NodeMessage, send: NodeSend, done: NodeDone) => void): void;
  on(event: 'close', handler: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | null | Array<NodeMessage | NodeMessage[] | null>): void;
  status(status: NodeStatus | Record<string, never>): void;
  log(msg: unknown): void;
  warn(msg: unknown): void;
  /** with a message: a Catch node gets it */
  error(err: unknown, msg?: NodeMessage): void;
}

/** Node-RED's `http proxy` config node. */
export interface HttpProxyConfigNode extends Node<{ username?: string; password?: string }> {
  url?: string;
  noproxy?: string[];
}

/** Node-RED's `tls-config` config node. */
export interface TlsConfigNode extends Node<{ passphrase?: string }> {
  valid?: boolean;
  /** adds ca, cert, key, passphrase, servername, rejectUnauthorized… to `options` */
  addTLSOptions(options: object): void;
}

/** An express-like application (RED.httpAdmin, RED.httpNode); `next` passes on, with an error fails. */
export type Next = (err?: unknown) => void;
export type Request = IncomingMessage & {
  originalUrl?: string;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body?: unknown;
  user?: { username?: string; permissions?: unknown };
};
export type Response = ServerResponse & {
  status(code: number): Response;
  json(body: unknown): Response;
  send(body?: unknown): Response;
  set(name: string, value: string): Response;
};
export type Handler = (req: Request, res: Response, next: Next) => void;
export type ErrorHandler = (err: unknown, req: Request, res: Response, next: Next) => void;

/** A layer of express's router stack (express 4: app._router.stack; express 5: app.router.stack). */
export interface RouterLayer {
  name?: string;
  handle?: unknown;
  route?: { path?: string; stack?: Array<{ handle?: unknown }> };
}

export interface HttpApp {
  get(path: string, ...handlers: Handler[]): void;
  post(path: string, ...handlers: Handler[]): void;
  delete(path: string, ...handlers: Handler[]): void;
  all(path: string, ...handlers: Handler[]): void;
  use(...handlers: Array<Handler | ErrorHandler>): void;
  /** the application this one is mounted in (RED.httpAdmin under the server's) */
  parent?: HttpApp;
  _router?: { stack: RouterLayer[] };
  router?: { stack: RouterLayer[] };
}

/** What the message-routing hooks (preDeliver, onComplete) are given. */
export interface HookEvent {
  msg?: NodeMessage;
  source?: { id?: string };
  destination?: { id?: string };
  /** onComplete: the node that handled the message, and its error if it failed */
  node?: { id?: string };
  error?: unknown;
}

/** RED.hooks: message-routing hooks; `name` is `hook.label`. */
export interface Hooks {
  add(name: string, fn: (event: HookEvent) => void): void;
  remove(name: string): void;
  has?(name: string): boolean;
}

export interface NodeRedSettings {
  httpNodeRoot?: string | false;
  httpAdminRoot?: string | false;
  notifierDelivery?: unknown;
  notifierSmtp?: unknown;
  notifierEgress?: unknown;
  notifierHistory?: unknown;
  [name: string]: unknown;
}

/** A JSONata expression prepared by RED.util.prepareJSONataExpression (opaque here). */
export type JSONataExpression = object;

/** The `RED` object a node module's exported function receives. */
export interface NodeRED {
  nodes: {
    createNode<C>(node: Node<C>, config: object): void;
    // the constructor is called with `this` bound to the new node
    registerType(type: string, constructor: (this: never, config: never) => void, options?: { credentials?: Record<string, { type: string }>; settings?: Record<string, unknown> }): void;
    /** the node of that id, of the type the caller knows it to be (a config node, one of ours) */
    getNode<T extends object = Node>(id: string): T | null;
    eachNode(fn: (node: { id: string; type: string; z?: string; [property: string]: unknown }) => void): void;
  };
  settings: NodeRedSettings;
  httpAdmin: HttpApp;
  /** absent when httpNodeRoot is false */
  httpNode?: HttpApp;
  /** the HTTP(S) server the runtime's apps are served on (absent in some embeddings and test runtimes) */
  server?: { emit(event: string | symbol, ...args: unknown[]): boolean };
  auth: { needsPermission(permission: string): Handler };
  util: {
    generateId(): string;
    prepareJSONataExpression(expression: string, node: Node): JSONataExpression;
    evaluateJSONataExpression(expression: JSONataExpression, msg: NodeMessage, callback: (err: unknown, value: unknown) => void): void;
  };
  hooks: Hooks;
  events: { on(event: string, fn: (...args: unknown[]) => void): void; removeListener(event: string, fn: (...args: unknown[]) => void): void };
  comms?: { publish?(topic: string, data: unknown, retain: boolean): void };
  log?: { warn(msg: unknown): void; info(msg: unknown): void; error(msg: unknown): void };
  /** the message catalogue: `RED._('notifier-history.status.empty', { count })` */
  _(key: string, substitutions?: Record<string, unknown>): string;
}
