/**
 * Secret redaction for everything a dispatch records or shows (msg.dispatch, history, status, log).
 * Pure and unit-tested.
 *
 * - URLs: the password of `user:pass@`, the token path of Slack incoming-webhook URLs
 *   (`https://hooks.slack.com/services/T…/B…/<redacted>`), Discord webhook tokens, and the values of
 *   query parameters that carry credentials (`sig` of Teams Workflows / Logic Apps URLs, `token`,
 *   `key`, `code`, `secret`…).
 * - Headers: `Authorization`, cookies, API keys, tokens, secrets and signature headers.
 * - Text: every known secret value (credentials of the node, and forms derived from them) anywhere in
 *   a string, e.g. a response body that echoes a header.
 * - Size: request bodies are cut at 64 KiB, response bodies at 4 KiB (UTF-8 bytes), visibly.
 */

export const REDACTED = '<redacted>';
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;
export const MAX_RESPONSE_BODY_BYTES = 4 * 1024;
/** Known secrets shorter than this are not searched for in free text (they would blank out ordinary words). */
export const MIN_SECRET_LENGTH = 4;

const SENSITIVE_QUERY =
  /^(sig|signature|token|access_token|id_token|refresh_token|auth|authorization|key|apikey|api_key|api-key|code|secret|client_secret|password|passwd|pwd|pass|private_token|x-api-key|sv_sig)$/i;

const SENSITIVE_HEADER =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|apikey|x-auth-token|webhook-signature|x-hub-signature|x-hub-signature-256|x-signature|x-webhook-signature)$|authorization|cookie|token|secret|passw|signature|api-?key|credential|session/i;

/** True for header names whose value is a secret. */
export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADER.test(name.trim());
}

/** Redacts the secret parts of a URL; returns the input unchanged when it is not an absolute URL. */
export function redactUrl(input: string): string {
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    return input;
  }
  if (u.password) u.password = 'redacted';
  const host = u.hostname.toLowerCase();
  // Slack incoming webhooks: /services/T…/B…/<token> (on any host: proxies, test doubles, look-alikes);
  // on Slack's hosts also workflow triggers: /triggers/T…/<id>/<token>
  if (/^\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[^/]+\/?$/.test(u.pathname)) {
    u.pathname = u.pathname.replace(/^(\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/)[^/]+/, `$1${REDACTED}`);
  } else if (host === 'hooks.slack.com' || host.endsWith('.slack.com')) {
    const segs = u.pathname.split('/');
    if (segs.length >= 3 && (segs[1] === 'services' || segs[1] === 'triggers' || segs[1] === 'workflows')) {
      // keep the public ids (T…, B…), hide the last segment, which is the token
      const last = segs.length - 1;
      if (last >= 3 && segs[last]) segs[last] = REDACTED;
      u.pathname = segs.join('/');
    }
  }
  // Discord: /api/webhooks/<id>/<token>
  if ((host === 'discord.com' || host === 'discordapp.com') && /^\/api\/webhooks\/[^/]+\/[^/]+/.test(u.pathname)) {
    u.pathname = u.pathname.replace(/^(\/api\/webhooks\/[^/]+\/)[^/]+/, `$1${REDACTED}`);
  }
  const params = u.searchParams;
  let changed = false;
  const entries: Array<[string, string]> = [];
  for (const [k, v] of params) {
    if (SENSITIVE_QUERY.test(k) && v !== '') {
      entries.push([k, REDACTED]);
      changed = true;
    } else entries.push([k, v]);
  }
  let out = u.toString();
  if (changed) {
    const q = entries.map(([k, v]) => `${encodeURIComponent(k)}=${v === REDACTED ? REDACTED : encodeURIComponent(v)}`).join('&');
    const base = out.split('#')[0]!.split('?')[0]!;
    out = `${base}?${q}${u.hash}`;
  }
  // URL encodes "<" and ">" in paths; show the marker as written
  out = out.replace(/%3Credacted%3E/gi, REDACTED);
  if (u.password) out = out.replace(':redacted@', `:${REDACTED}@`);
  return out;
}

/** A copy of `headers` with the values of sensitive headers replaced. */
export function redactHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [k, v] of Object.entries(headers)) out[k] = isSensitiveHeader(k) ? REDACTED : v;
  return out;
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes (never inside a character), marking the cut. */
export function cutUtf8(text: string, maxBytes: number): string {
  const total = Buffer.byteLength(text, 'utf8');
  if (total <= maxBytes) return text;
  const marker = ` … [truncated: ${total} bytes in all]`;
  const budget = Math.max(0, maxBytes - Buffer.byteLength(marker, 'utf8'));
  const buf = Buffer.from(text, 'utf8');
  let end = Math.min(budget, buf.length);
  // step back to a character boundary (not a UTF-8 continuation byte)
  while (end > 0 && end < buf.length && (buf[end]! & 0xc0) === 0x80) end--;
  let cut = buf.subarray(0, end).toString('utf8');
  // do not leave half of a surrogate pair
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + marker;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replaces known secret values in any text. Built per node from its credentials; `add()` more forms
 * (e.g. the base64 of `user:password`). URLs given as secrets are replaced by their redacted form,
 * so a Slack URL in an error message still shows host and ids.
 */
export class Redactor {
  private readonly secrets = new Map<string, string>();
  private pattern?: RegExp;

  constructor(secrets: Iterable<string | undefined | null> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Adds a secret value (and its URL-encoded and JSON-escaped forms). Ignores empty and very short values. */
  add(secret: string | undefined | null, replacement?: string): this {
    if (typeof secret !== 'string') return this;
    const value = secret.trim() === secret ? secret : secret.trim();
    if (value.length < MIN_SECRET_LENGTH) return this;
    const rep = replacement ?? (/^https?:\/\//i.test(value) ? redactUrl(value) : REDACTED);
    const forms = new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]);
    for (const f of forms) if (f.length >= MIN_SECRET_LENGTH && !this.secrets.has(f)) this.secrets.set(f, rep === f ? REDACTED : rep);
    // a secret URL may contain secret parts that appear on their own (the Slack token, a sig value)
    if (/^https?:\/\//i.test(value)) {
      try {
        const u = new URL(value);
        for (const [k, v] of u.searchParams) if (SENSITIVE_QUERY.test(k)) this.add(v);
        if (u.password) this.add(decodeURIComponent(u.password));
        const last = u.pathname.split('/').pop();
        if (last && redactUrl(value) !== value && redactUrl(value).endsWith(`/${REDACTED}`)) this.add(last);
      } catch {
        /* not a URL after all */
      }
    }
    delete this.pattern;
    return this;
  }

  get size(): number {
    return this.secrets.size;
  }

  /** Replaces every known secret in `text`. */
  text(text: string): string {
    if (this.secrets.size === 0 || !text) return text;
    if (!this.pattern) {
      const keys = [...this.secrets.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
      this.pattern = new RegExp(keys.join('|'), 'g');
    }
    return text.replace(this.pattern, (m) => this.secrets.get(m) ?? REDACTED);
  }

  /** Structural URL redaction, then known secrets. */
  url(url: string): string {
    return this.text(redactUrl(url));
  }

  /** Sensitive headers by name, then known secrets in the other values. */
  headers(headers: Record<string, string> | undefined): Record<string, string> {
    const out = redactHeaders(headers);
    for (const k of Object.keys(out)) out[k] = this.text(out[k]!);
    return out;
  }

  /** A deep copy of a JSON-like value with every string passed through `text()`. */
  deep<T>(value: T): T {
    return deepMap(value, (s) => this.text(s)) as T;
  }
}

function deepMap(value: unknown, fn: (s: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return fn(value);
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => deepMap(v, fn, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = deepMap(v, fn, depth + 1);
  return out;
}
