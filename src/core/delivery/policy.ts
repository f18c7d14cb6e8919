/**
 * The delivery policy shared by every output node: which results are retried, how long to wait
 * between attempts, and how `Retry-After` is read. Pure functions, unit-tested.
 */

export interface RetryPolicy {
  /** total attempts, the first included (default 5) */
  maxAttempts: number;
  /** timeout of one attempt in ms (default 10 000) */
  timeoutMs: number;
  /** backoff base: the n-th retry waits a random time in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))) (default 1 000) */
  baseDelayMs: number;
  /** cap of one backoff delay (default 60 000) */
  maxDelayMs: number;
  /** cap of a server's `Retry-After` (default 120 000); a longer wait is shortened to this */
  maxRetryAfterMs: number;
}

export const DEFAULT_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 5,
  timeoutMs: 10_000,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 120_000,
});

/** Limits for user-given values, so that a typo cannot make a node retry for a day. */
export const POLICY_LIMITS = Object.freeze({
  maxAttempts: [1, 20] as const,
  timeoutMs: [100, 300_000] as const,
  baseDelayMs: [0, 600_000] as const,
  maxDelayMs: [0, 3_600_000] as const,
  maxRetryAfterMs: [0, 3_600_000] as const,
});

/** Fills a partial policy with the defaults; each given value must be a finite number inside its limits. */
export function resolvePolicy(partial: Partial<RetryPolicy> = {}): RetryPolicy {
  const out: RetryPolicy = { ...DEFAULT_POLICY };
  for (const key of Object.keys(POLICY_LIMITS) as Array<keyof RetryPolicy>) {
    const v = partial[key];
    if (v === undefined) continue;
    const [min, max] = POLICY_LIMITS[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new RangeError(`${key} must be a number from ${min} to ${max}, got ${String(v)}`);
    }
    out[key] = key === 'maxAttempts' ? Math.floor(v) : v;
  }
  return out;
}

/**
 * Exponential backoff with full jitter (AWS architecture blog "Exponential Backoff And Jitter"):
 * before retry n (n = 1 for the second attempt) wait random * min(cap, base * 2^(n-1)).
 */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: number): number {
  const exp = policy.baseDelayMs * 2 ** Math.max(0, retry - 1);
  const ceiling = Math.min(policy.maxDelayMs, exp);
  const r = Math.min(Math.max(random, 0), 1);
  return Math.floor(ceiling * r);
}

/**
 * Reads a `Retry-After` header: delay-seconds (`120`) or an HTTP date. Returns milliseconds from
 * `nowMs` (0 when the date is past), or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined | null, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v === null) return undefined;
  const s = String(v).trim();
  if (s === '') return undefined;
  if (/^\d+$/.test(s)) {
    const secs = Number(s);
    return Number.isSafeInteger(secs) ? secs * 1000 : undefined;
  }
  // IMF-fixdate and the two obsolete forms; Date.parse understands all three.
  if (!/[A-Za-z]/.test(s)) return undefined;
  const t = Date.parse(s);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - nowMs);
}

/** The HTTP statuses retried (network errors are retried too). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

export type StatusClass = 'delivered' | 'retryable' | 'permanent';

/** 2xx is delivered; 408, 425, 429, 500, 502, 503, 504 are retried; everything else (3xx included: redirects are not followed) is permanent. */
export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status < 300) return 'delivered';
  if (RETRYABLE_STATUSES.has(status)) return 'retryable';
  return 'permanent';
}

/** Error codes of Node's net/dns/tls layers that mean "try again later". */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EADDRNOTAVAIL',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEOUT',
  'ECONNECTION',
  'ESOCKET',
]);

const ERROR_DESCRIPTIONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the peer',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection closed while sending',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'DNS lookup failed temporarily',
};

/** A one-line description of a network error code, e.g. "connection refused". */
export function describeErrorCode(code: string): string | undefined {
  return ERROR_DESCRIPTIONS[code];
}
