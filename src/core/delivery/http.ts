/**
 * One HTTP attempt with Node's own `http`/`https` clients, classified by the shared policy. Redirects are
 * not followed (a 3xx is a result like any other status), the response body is read as text up to a
 * maximum size (the rest is discarded, so a huge answer cannot fill memory, and the status is still
 * known; gzip/deflate/br answers are decompressed), sockets are reused through keep-alive agents, and
 * the attempt stops when the engine aborts it (timeout, shutdown).
 *
 * (An axios-based transport cost about half of the CPU of a delivery in the webhook benchmark; what an
 * output node needs of HTTP is this small and fixed, so the platform's client serves it directly.)
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { DispatchResponse } from '../dispatch';
import type { AttemptContext, AttemptResult } from './engine';
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

export interface HttpTransportOptions {
  maxResponseBytes?: number;
  /** sockets per destination host (default 8) */
  maxSockets?: number;
}

/** An error from the transport that was not an HTTP answer: network, DNS, TLS, abort. */
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
  for (const [k, v] of Object.entries(src as Record<string, unknown>)) {
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
      // the answer was cut short by the peer: keep what came, if anything
      if (size > 0) done(null, true);
      else done(err);
    });
    stream.on('close', () => done(null));
  });
}

/** The response body, decompressed when the server compressed it anyway (we ask for no encoding). */
function decoded(res: http.IncomingMessage): Readable {
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? zlib.createGunzip()
      : encoding === 'deflate'
        ? zlib.createInflate()
        : encoding === 'br'
          ? zlib.createBrotliDecompress()
          : undefined;
  if (!decoder) return res;
  res.on('error', (err) => decoder.destroy(err));
  // a body that is not what its encoding says is kept as it came (readLimited keeps what was read)
  return res.pipe(decoder);
}

export class HttpTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly maxResponseBytes: number;

  constructor(options: HttpTransportOptions = {}) {
    const maxSockets = options.maxSockets ?? 8;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets });
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
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
    const names = Object.keys(headers).map((k) => k.toLowerCase());
    if (!names.includes('user-agent')) headers['User-Agent'] = USER_AGENT;
    // a string body goes out with the headers in one write (a Buffer would take a second one)
    const body = req.body !== undefined && method !== 'HEAD' ? req.body : undefined;
    if (body !== undefined && !names.includes('content-length')) headers['Content-Length'] = String(Buffer.byteLength(body, 'utf8'));
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const fail = (err: unknown) => {
        if (ctx.signal.aborted) return reject(new HttpTransportError('ERR_CANCELED', 'the attempt was aborted'));
        const code = errorCode(err) ?? 'ERR_NETWORK';
        if (code === 'ETIMEDOUT') return reject(new HttpTransportError('timeout', 'no answer in time'));
        reject(new HttpTransportError(code, describeErrorCode(code) ?? ((err as Error)?.message || 'network error')));
      };
      let request: http.ClientRequest;
      try {
        const options: http.RequestOptions = {
          method,
          headers,
          signal: ctx.signal,
          agent: url.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
          // a real-time safety net; the engine enforces the attempt timeout with its own clock
          timeout: ctx.timeoutMs + 1000,
        };
        request = (url.protocol === 'https:' ? https : http).request(url, options, resolve);
      } catch (err) {
        // invalid header names or values are refused before anything is sent
        return reject(new HttpTransportError(errorCode(err) ?? 'ERR_INVALID_REQUEST', (err as Error).message));
      }
      request.on('timeout', () => request.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })));
      request.on('error', fail);
      if (body !== undefined) request.end(body, 'utf8');
      else request.end();
    });
    // read every answer (HEAD and 204 included) to its end, so that the socket goes back to the pool
    const { body: raw, truncated } = await readLimited(decoded(res), this.maxResponseBytes, ctx.signal);
    return {
      status: res.statusCode ?? 0,
      statusText: res.statusMessage || http.STATUS_CODES[res.statusCode ?? 0] || '',
      headers: flatHeaders(res.headers),
      body: raw.toString('utf8'),
      truncated,
    };
  }

  /** Closes idle keep-alive sockets and refuses reuse. */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
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
