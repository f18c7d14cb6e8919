/**
 * One HTTP attempt with axios, classified by the shared policy. One axios instance serves every node
 * (no interceptors, no per-call set-up); each transport (one per output node) keeps its keep-alive agents:
 * direct ones with the egress policy's `lookup` and the node's TLS options, and, when a proxy applies,
 * hpagent's tunnelling agents (`CONNECT`, kept alive). Redirects are not followed (a 3xx is a result like
 * any other status), the response body is read as text up to a maximum size (the rest is discarded, so a
 * huge answer cannot fill memory, and the status is still known; axios decompresses gzip/deflate/br), and
 * the attempt stops when the engine aborts it (timeout, shutdown).
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import axios from 'axios';
import { AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import type { DispatchResponse } from '../dispatch';
import type { AttemptContext, AttemptResult } from './engine';
import { EGRESS_DENIED, EgressPolicy, proxyForUrl, type Env } from './egress';
import { RETRYABLE_ERROR_CODES, classifyStatus, describeErrorCode, parseRetryAfter } from './policy';

export const USER_AGENT = 'package-notifiers-node-red';
/** Bytes of a response body read before the rest is discarded. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

export type HttpRequest = {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
};

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: string;
  /** true when the body was longer than the maximum read */
  truncated: boolean;
}

/** A proxy named by the node (Node-RED's `http proxy` config node). */
export interface ProxySettings {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  /** hosts that bypass it (NO_PROXY syntax: names, `.suffix`, `*.suffix`, `host:port`) */
  noProxy?: readonly string[] | undefined;
}

/** TLS options for the destination (Node-RED's `tls-config` node fills them). */
export type TlsSettings = Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'passphrase' | 'rejectUnauthorized' | 'servername' | 'ALPNProtocols'>;

export interface HttpTransportOptions {
  maxResponseBytes?: number;
  /** sockets per destination host (default 8) */
  maxSockets?: number;
  /** the node's proxy; without it the environment's HTTP_PROXY / HTTPS_PROXY / NO_PROXY apply */
  proxy?: ProxySettings | undefined;
  /** where proxy variables are read (default process.env, read once here) */
  env?: Env;
  tls?: TlsSettings | undefined;
  /** the addresses deliveries may reach (default: link-local and metadata denied) */
  egress?: EgressPolicy | undefined;
}

/** An error from the transport that was not an HTTP answer: network, DNS, TLS, abort, proxy, egress policy. */
export class HttpTransportError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'HttpTransportError';
    this.code = code;
  }
}

function flatHeaders(h: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h || typeof h !== 'object') return out;
  const src = typeof (h as { toJSON?: unknown }).toJSON === 'function' ? (h as { toJSON(): unknown }).toJSON() : h;
  for (const [k, v] of Object.entries(src as Record<string, string | number | boolean | string[] | null | undefined>)) {
    if (v === undefined || v === null) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  if (e && typeof e.cause === 'object' && e.cause && typeof e.cause.code === 'string' && RETRYABLE_ERROR_CODES.has(e.cause.code)) return e.cause.code;
  if (e && typeof e.code === 'string') return e.code;
  if (e && typeof e.cause === 'object' && e.cause && typeof e.cause.code === 'string') return e.cause.code;
  return undefined;
}

function readLimited(stream: Readable, max: number, signal: AbortSignal): Promise<{ body: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = (err: Error | null, truncated = false) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve({ body: Buffer.concat(chunks), truncated });
    };
    const onAbort = () => {
      stream.destroy();
      done(new HttpTransportError('ERR_CANCELED', 'aborted while reading the response'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer | string) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (size + b.length > max) {
        chunks.push(b.subarray(0, max - size));
        size = max;
        stream.destroy();
        done(null, true);
        return;
      }
      chunks.push(b);
      size += b.length;
    });
    stream.on('end', () => done(null));
    stream.on('error', (err) => {
      // the answer was cut short by the peer, or is not what its encoding says: keep what came, if anything
      if (size > 0) done(null, true);
      else done(err);
    });
    stream.on('close', () => done(null));
  });
}

/**
 * The one axios instance (no redirects, no axios proxy: the agents do it, the body as a stream, any status),
 * its settings, and its HTTP adapter. A request goes straight to the adapter with that
 * configuration: no interceptors, no per-request merge of defaults, no body transforms (the body is text).
 */
const client = axios.create({
  adapter: 'http',
  maxRedirects: 0,
  proxy: false,
  responseType: 'stream',
  validateStatus: null,
  decompress: true,
  transformRequest: [],
  transformResponse: [],
  transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: false },
});
// eslint-disable-next-line @typescript-eslint/no-unused-vars
const { headers: _defaultHeaders, ...BASE_CONFIG } = client.defaults;
const adapter = axios.getAdapter('http');

/** hpagent fails a refused `CONNECT` with "Bad response: <status>": give it a code the policy classifies. */
function proxyError(err: Error): Error {
  const m = /^Bad response: (\d{3})$/.exec(err.message);
  if (!m) return err;
  const status = Number(m[1]);
  const message =
    status === 407
      ? 'the proxy refused authentication (407 Proxy Authentication Required): check the user name and password of the proxy'
      : `the proxy answered ${status} ${http.STATUS_CODES[status] ?? ''} to CONNECT`.trimEnd();
  return Object.assign(new Error(message), { code: `proxy_${status}` });
}

type ConnectCallback = (err: Error | null, socket?: unknown) => void;
interface Connecting {
  createConnection(options: unknown, cb: ConnectCallback): unknown;
}
/** hpagent's agents with their proxy errors classified. */
function withProxyErrors<T extends Connecting>(agent: T): T {
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (options, cb) => create(options, (err, socket) => (err ? cb(proxyError(err)) : cb(null, socket)));
  return agent;
}

interface Route {
  agent: http.Agent;
  /** the request goes through a proxy, which resolves and connects the destination */
  proxied: boolean;
  /** an IP-literal destination the egress policy denies (a literal never goes through the agents' lookup) */
  denied?: HttpTransportError;
}

const ROUTE_CACHE_MAX = 256;

export class HttpTransport {
  private readonly maxSockets: number;
  private readonly maxResponseBytes: number;
  private readonly proxy: ProxySettings | undefined;
  private readonly env: Env;
  private readonly tls: TlsSettings;
  readonly egress: EgressPolicy;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  /** proxy agents by proxy URL and destination scheme */
  private readonly proxyAgents = new Map<string, http.Agent>();
  /** the route per destination origin (the proxy decision is made once per origin) */
  private readonly routes = new Map<string, Route>();

  constructor(options: HttpTransportOptions = {}) {
    this.maxSockets = options.maxSockets ?? 8;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.proxy = options.proxy?.url ? options.proxy : undefined;
    this.env = { ...(options.env ?? process.env) };
    this.tls = { ...(options.tls ?? {}) };
    this.egress = options.egress ?? new EgressPolicy();
    const lookup = this.egress.lookup as unknown as http.AgentOptions['lookup'];
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: this.maxSockets, lookup });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: this.maxSockets, lookup, ...this.tls });
  }

  /** The proxy URL for a destination ('' = direct): the node's proxy and its no-proxy list, else the environment. */
  proxyFor(url: URL): string {
    if (this.proxy) {
      const env: Env = { no_proxy: (this.proxy.noProxy ?? []).join(','), http_proxy: this.proxy.url, https_proxy: this.proxy.url };
      return proxyForUrl(url, env);
    }
    return proxyForUrl(url, this.env);
  }

  private route(url: URL): Route {
    const key = url.origin;
    let r = this.routes.get(key);
    if (r) return r;
    const https_ = url.protocol === 'https:';
    const proxyUrl = this.proxyFor(url);
    if (!proxyUrl) r = { agent: https_ ? this.httpsAgent : this.httpAgent, proxied: false };
    else r = { agent: this.proxyAgent(proxyUrl, https_), proxied: true };
    try {
      this.egress.checkLiteral(url.hostname);
    } catch (err) {
      r.denied = new HttpTransportError(EGRESS_DENIED, (err as Error).message);
    }
    if (this.routes.size >= ROUTE_CACHE_MAX) this.routes.clear();
    this.routes.set(key, r);
    return r;
  }

  private proxyAgent(proxyUrl: string, secure: boolean): http.Agent {
    const key = `${secure ? 'https' : 'http'} ${proxyUrl}`;
    let agent = this.proxyAgents.get(key);
    if (agent) return agent;
    let proxy: URL;
    try {
      proxy = new URL(proxyUrl);
    } catch {
      throw new HttpTransportError('proxy_invalid', 'the proxy URL is not a valid URL (http://host:port)');
    }
    if (this.proxy && (this.proxy.username || this.proxy.password)) {
      proxy.username = encodeURIComponent(this.proxy.username ?? '');
      proxy.password = encodeURIComponent(this.proxy.password ?? '');
    }
    const opts = { keepAlive: true, maxSockets: this.maxSockets, scheduling: 'lifo' as const, proxy };
    agent = secure ? withProxyErrors(new HttpsProxyAgent({ ...opts, ...this.tls })) : withProxyErrors(new HttpProxyAgent(opts));
    this.proxyAgents.set(key, agent);
    return agent;
  }

  /** Sends one request. Resolves with any HTTP answer; rejects with HttpTransportError otherwise. */
  async send(req: HttpRequest, ctx: Pick<AttemptContext, 'signal' | 'timeoutMs'>): Promise<HttpResponse> {
    if (ctx.signal.aborted) throw new HttpTransportError('ERR_CANCELED', 'the attempt was aborted');
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw new HttpTransportError('ERR_INVALID_URL', `not a valid URL: ${req.url.slice(0, 200)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new HttpTransportError('ERR_INVALID_URL', `only http and https URLs can be called, not ${url.protocol}`);
    }
    const method = req.method.toUpperCase();
    const headers: Record<string, string> = { ...req.headers };
    let hasUserAgent = false;
    try {
      for (const [name, value] of Object.entries(headers)) {
        http.validateHeaderName(name);
        http.validateHeaderValue(name, value);
        if (name.toLowerCase() === 'user-agent') hasUserAgent = true;
      }
    } catch (err) {
      // invalid header names or values are refused before anything is sent
      throw new HttpTransportError(errorCode(err) ?? 'ERR_INVALID_REQUEST', (err as Error).message);
    }
    if (!hasUserAgent) headers['User-Agent'] = USER_AGENT;
    const body = req.body !== undefined && method !== 'HEAD' ? req.body : undefined;
    let res: AxiosResponse<Readable>;
    try {
      const route = this.route(url);
      if (route.denied) throw route.denied;
      // through a proxy, the proxy resolves and connects: check what the name resolves to here
      if (route.proxied) await this.egress.checkResolved(url.hostname);
      if (ctx.signal.aborted) throw new HttpTransportError('ERR_CANCELED', 'the attempt was aborted');
      const config: InternalAxiosRequestConfig = {
        ...BASE_CONFIG,
        method: method.toLowerCase(),
        url: url.href,
        headers: new AxiosHeaders(headers),
        data: body,
        signal: ctx.signal,
        // a real-time safety net; the engine enforces the attempt timeout with its own clock
        timeout: ctx.timeoutMs + 1000,
      };
      if (url.protocol === 'https:') config.httpsAgent = route.agent;
      else config.httpAgent = route.agent;
      res = (await adapter(config)) as AxiosResponse<Readable>;
    } catch (err) {
      if (err instanceof HttpTransportError) throw err;
      if (ctx.signal.aborted) throw new HttpTransportError('ERR_CANCELED', 'the attempt was aborted');
      const code = errorCode(err) ?? 'ERR_NETWORK';
      if (code === 'ETIMEDOUT') throw new HttpTransportError('timeout', 'no answer in time');
      const own = code === 'egress_denied' || code.startsWith('proxy_');
      throw new HttpTransportError(code, own ? (err as Error).message : (describeErrorCode(code) ?? ((err as Error)?.message || 'network error')));
    }
    // read every answer (HEAD and 204 included) to its end, so that the socket goes back to the pool
    const { body: raw, truncated } = await readLimited(res.data, this.maxResponseBytes, ctx.signal);
    return {
      status: res.status,
      statusText: res.statusText || http.STATUS_CODES[res.status] || '',
      headers: flatHeaders(res.headers),
      body: raw.toString('utf8'),
      truncated,
    };
  }

  /** Closes idle keep-alive sockets and refuses reuse. */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    for (const a of this.proxyAgents.values()) a.destroy();
    this.proxyAgents.clear();
    this.routes.clear();
  }
}

/** The response as the dispatch record keeps it (the record cuts the body at 4 KiB). */
export function responseOf(res: HttpResponse): DispatchResponse {
  const out: DispatchResponse = { status: res.status, headers: res.headers, body: res.body };
  if (res.truncated) out.truncated = true;
  return out;
}

/** Classifies an HTTP answer with the shared policy (`classifyStatus`, `Retry-After`). */
export function classifyHttpResponse(res: HttpResponse, nowMs: number): AttemptResult {
  const response = responseOf(res);
  const status = res.status;
  const cls = classifyStatus(status);
  if (cls === 'delivered') return { kind: 'delivered', status, response };
  const reason = res.statusText || http.STATUS_CODES[status] || '';
  if (status >= 300 && status < 400) {
    const loc = res.headers.location;
    return {
      kind: 'permanent',
      code: `http_${status}`,
      message: `HTTP ${status} ${reason}: redirects are not followed${loc ? ` (to ${loc})` : ''}; use the final URL`,
      status,
      response,
    };
  }
  const message = `HTTP ${status}${reason ? ` ${reason}` : ''}`;
  if (cls === 'retryable') {
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], nowMs);
    return { kind: 'retryable', code: `http_${status}`, message, status, response, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  return { kind: 'permanent', code: `http_${status}`, message, status, response };
}

/** Classifies a transport error: network errors and timeouts are retryable, others permanent. */
export function classifyTransportError(err: unknown): AttemptResult {
  const code = errorCode(err) ?? 'ERR_NETWORK';
  const message = (err as Error)?.message || code;
  if (code === 'timeout') return { kind: 'retryable', code, message };
  // a proxy that cannot reach the destination (502, 503, 504) may later; any other refusal (407…) is permanent
  if (/^proxy_5(02|03|04)$/.test(code)) return { kind: 'retryable', code, message };
  if (RETRYABLE_ERROR_CODES.has(code) || code === 'ERR_NETWORK' || code === 'ERR_SOCKET_CLOSED') {
    return { kind: 'retryable', code, message: describeErrorCode(code) ?? message };
  }
  return { kind: 'permanent', code, message };
}

/**
 * The usual HTTP attempt: send, then classify. Channels wrap `classify` for their own rules
 * (Slack's error bodies, Teams' legacy answers).
 */
export async function httpAttempt(
  transport: HttpTransport,
  req: HttpRequest,
  ctx: AttemptContext,
  now: () => number,
  classify: (res: HttpResponse, nowMs: number) => AttemptResult = classifyHttpResponse,
): Promise<AttemptResult> {
  let res: HttpResponse;
  try {
    res = await transport.send(req, ctx);
  } catch (err) {
    return classifyTransportError(err);
  }
  return classify(res, now());
}
