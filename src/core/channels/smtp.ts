/**
 * SMTP for the email channel: ProGet's SMTP settings (host, port, security, auth, from) read and
 * checked, the nodemailer transport options built from them, a pooled client shared by every email
 * node that uses one `notifier-smtp` config node, and the classification of SMTP failures for the
 * delivery policy.
 *
 * - `security`: `tls` = implicit TLS from the first byte (port 465, nodemailer `secure: true`);
 *   `starttls` = plain connection upgraded with STARTTLS, which is required (587, or 25);
 *   `none` = no TLS at all (a local relay).
 * - `authType`: `none`, `login` (user + password; nodemailer picks PLAIN or LOGIN), `oauth2`
 *   (XOAUTH2 with a refresh token: nodemailer fetches and refreshes the access token itself, from
 *   `tokenUrl`, Google's endpoint when empty).
 * - The client connects lazily (nothing touches the network before the first message), keeps a
 *   small pool of connections, and sets connection, greeting and socket timeouts so a dead or
 *   silent server cannot hang a dispatch. Each send takes the engine's AbortSignal.
 * - Classification: SMTP 4xx replies and network errors/timeouts are retryable; 5xx replies,
 *   authentication failures and TLS certificate problems are permanent.
 */
import { createTransport } from 'nodemailer';
import type { AttemptResult } from '../delivery/engine';
import { ConfigError, choiceProperty, numberProperty, textProperty } from '../delivery/config';
import { RETRYABLE_ERROR_CODES, describeErrorCode } from '../delivery/policy';
import { checkAddress, formatMailbox, parseMailbox, type Mailbox } from './smtp-address';

export const SMTP_SECURITY = ['tls', 'starttls', 'none'] as const;
export type SmtpSecurity = (typeof SMTP_SECURITY)[number];
export const SMTP_AUTH_TYPES = ['none', 'login', 'oauth2'] as const;
export type SmtpAuthType = (typeof SMTP_AUTH_TYPES)[number];

/** The usual port of each security mode. */
export const DEFAULT_PORTS: Readonly<Record<SmtpSecurity, number>> = Object.freeze({ tls: 465, starttls: 587, none: 25 });

export interface SmtpCredentials {
  user?: string | undefined;
  password?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  refreshToken?: string | undefined;
  tokenUrl?: string | undefined;
}

export type SmtpAuth =
  | { type: 'login'; user: string; pass: string }
  | { type: 'oauth2'; user: string; clientId: string; clientSecret?: string; refreshToken: string; tokenUrl?: string };

/** Checked SMTP settings of one config node. */
export interface SmtpSettings {
  host: string;
  port: number;
  security: SmtpSecurity;
  authType: SmtpAuthType;
  auth?: SmtpAuth;
  from: Mailbox;
  rejectUnauthorized: boolean;
}

export interface SmtpTimeouts {
  /** TCP connect (default 10 s) */
  connectionMs: number;
  /** wait for the server's 220 greeting once connected (default 10 s) */
  greetingMs: number;
  /** inactivity on an open connection (default 30 s) */
  socketMs: number;
}

export const DEFAULT_SMTP_TIMEOUTS: Readonly<SmtpTimeouts> = Object.freeze({ connectionMs: 10_000, greetingMs: 10_000, socketMs: 30_000 });

/** Pool settings: a few connections, kept open a minute when idle, never requeued by nodemailer (the engine retries). */
export const SMTP_POOL = Object.freeze({ maxConnections: 3, maxMessages: 100, idleTimeoutMs: 60_000 });

const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV6_RE = /^\[?[0-9A-Fa-f:.]+\]?$/;

function cred(credentials: SmtpCredentials, name: keyof SmtpCredentials): string {
  const v = credentials[name];
  return typeof v === 'string' ? v : '';
}

function booleanProperty(config: Record<string, unknown>, name: string, dflt: boolean): boolean {
  const raw = config[name];
  if (raw === undefined || raw === null || raw === '') return dflt;
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(name, `${name} must be true or false, got ${JSON.stringify(raw).slice(0, 40)}`);
}

/** Checks a host name or IP address (no scheme, no port, no path). */
export function checkHost(raw: string): string {
  const host = raw.trim();
  if (!host) throw new ConfigError('host', 'host is required (the SMTP server, e.g. smtp.office365.com)');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    throw new ConfigError('host', `host must be a host name without a scheme (e.g. smtp.example.com, not ${host.split('://')[0]}://…)`);
  }
  if (HOST_RE.test(host)) return host;
  if (host.includes(':') && IPV6_RE.test(host)) return host.replace(/^\[|\]$/g, '');
  if (/:\d+$/.test(host)) throw new ConfigError('host', 'host must not include the port: put it in the port field');
  throw new ConfigError('host', `host is not a valid host name or IP address: ${JSON.stringify(host.slice(0, 60))}`);
}

/**
 * Reads a `notifier-smtp` config node (properties from the flow, credentials from the credential
 * store) into checked settings. Throws ConfigError naming the property at fault; never echoes a secret.
 */
export function smtpSettings(config: Record<string, unknown>, credentials: SmtpCredentials = {}): SmtpSettings {
  const host = checkHost(textProperty(config, 'host'));
  const security = choiceProperty(config, 'security', SMTP_SECURITY, 'starttls');
  const port = numberProperty(config, 'port', { min: 1, max: 65535, default: DEFAULT_PORTS[security] });
  const authType = choiceProperty(config, 'authType', SMTP_AUTH_TYPES, 'none');
  const rejectUnauthorized = booleanProperty(config, 'rejectUnauthorized', true);
  const user = cred(credentials, 'user').trim();

  let auth: SmtpAuth | undefined;
  if (authType === 'login') {
    if (!user) throw new ConfigError('user', 'authType login needs a user (credentials of the SMTP config node)');
    const pass = cred(credentials, 'password');
    if (!pass)
      throw new ConfigError('password', 'authType login needs a password (credentials of the SMTP config node); for Gmail use an app password');
    auth = { type: 'login', user, pass };
  } else if (authType === 'oauth2') {
    if (!user) throw new ConfigError('user', 'authType oauth2 needs the user (the mailbox address, credentials of the SMTP config node)');
    const clientId = cred(credentials, 'clientId').trim();
    if (!clientId) throw new ConfigError('clientId', 'authType oauth2 needs a client id (the app registration)');
    const refreshToken = cred(credentials, 'refreshToken').trim();
    if (!refreshToken) throw new ConfigError('refreshToken', 'authType oauth2 needs a refresh token');
    const tokenUrl = cred(credentials, 'tokenUrl').trim();
    if (tokenUrl) {
      let u: URL;
      try {
        u = new URL(tokenUrl);
      } catch {
        throw new ConfigError('tokenUrl', 'tokenUrl is not a valid absolute URL (e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token)');
      }
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new ConfigError('tokenUrl', 'tokenUrl must use https');
    }
    const clientSecret = cred(credentials, 'clientSecret').trim();
    auth = {
      type: 'oauth2',
      user,
      clientId,
      refreshToken,
      ...(clientSecret ? { clientSecret } : {}),
      ...(tokenUrl ? { tokenUrl } : {}),
    };
  }

  const fromText = textProperty(config, 'from').trim();
  let from: Mailbox;
  if (fromText) {
    try {
      from = parseMailbox(fromText);
    } catch (err) {
      throw new ConfigError('from', `from: ${(err as Error).message}`);
    }
  } else if (user && checkAddress(user) === undefined) {
    from = { address: user };
  } else {
    throw new ConfigError('from', 'from is required (the sender address, e.g. "ProGet <proget@example.com>")');
  }
  return { host, port, security, authType, ...(auth ? { auth } : {}), from, rejectUnauthorized };
}

/** `host:port`, the config node's label and the delivery key of its messages. */
export function smtpLabel(settings: Pick<SmtpSettings, 'host' | 'port'>): string {
  return `${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${settings.port}`;
}

/**
 * The credential values to hide in records, statuses and logs. The user name is left out when it is
 * the sender address, which every message shows anyway.
 */
export function smtpSecrets(settings: SmtpSettings): string[] {
  const a = settings.auth;
  if (!a) return [];
  const out: string[] = [];
  if (a.user.toLowerCase() !== settings.from.address.toLowerCase()) out.push(a.user);
  if (a.type === 'login') out.push(a.pass);
  else {
    out.push(a.refreshToken);
    if (a.clientSecret) out.push(a.clientSecret);
  }
  return out;
}

/** nodemailer's pooled SMTP transport options for these settings. */
export function smtpTransportOptions(settings: SmtpSettings, timeouts: SmtpTimeouts = DEFAULT_SMTP_TIMEOUTS): Record<string, unknown> {
  const opts: Record<string, unknown> = {
    pool: true,
    host: settings.host,
    port: settings.port,
    secure: settings.security === 'tls',
    requireTLS: settings.security === 'starttls',
    ignoreTLS: settings.security === 'none',
    tls: { rejectUnauthorized: settings.rejectUnauthorized },
    connectionTimeout: timeouts.connectionMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
    dnsTimeout: timeouts.connectionMs,
    socketCloseTimeout: 1_000,
    maxConnections: SMTP_POOL.maxConnections,
    maxMessages: SMTP_POOL.maxMessages,
    idleTimeout: SMTP_POOL.idleTimeoutMs,
    maxRequeues: 0,
    logger: false,
    debug: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  const a = settings.auth;
  if (a?.type === 'login') opts.auth = { user: a.user, pass: a.pass };
  else if (a?.type === 'oauth2') {
    opts.auth = {
      type: 'OAuth2',
      user: a.user,
      clientId: a.clientId,
      refreshToken: a.refreshToken,
      ...(a.clientSecret ? { clientSecret: a.clientSecret } : {}),
      ...(a.tokenUrl ? { accessUrl: a.tokenUrl } : {}),
    };
  }
  return opts;
}

/** One message as the client sends it. */
export interface SmtpMail {
  from: Mailbox;
  to: Mailbox[];
  cc: Mailbox[];
  bcc: Mailbox[];
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
}

export interface SmtpSent {
  /** the server's last reply, e.g. `250 2.0.0 OK queued as ABC` */
  response: string;
  /** SMTP reply code of that reply, when it starts with one */
  status?: number;
  messageId?: string;
  accepted: string[];
  rejected: string[];
}

/** What the client needs from a nodemailer transport (tests may pass their own). */
export interface SmtpTransportLike {
  sendMail(mail: Record<string, unknown>): Promise<unknown>;
  close(options?: { force?: boolean }): void;
}

export interface SmtpClientOptions {
  timeouts?: Partial<SmtpTimeouts>;
  createTransport?: (options: Record<string, unknown>) => SmtpTransportLike;
}

/** The error of a send after the client was closed. */
export class SmtpClosedError extends Error {
  readonly code = 'shutdown';
  constructor(message = 'the SMTP server settings (notifier-smtp) were closed by a redeploy or a stop; nothing was sent') {
    super(message);
    this.name = 'SmtpClosedError';
  }
}

function addressList(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.map((x) =>
    typeof x === 'string'
      ? x
      : x && typeof x === 'object' && typeof (x as { address?: unknown }).address === 'string'
        ? (x as { address: string }).address
        : String(x),
  );
}

export function replyCode(response: string | undefined): number | undefined {
  const m = typeof response === 'string' ? /^([2-5]\d\d)\b/.exec(response) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * A pooled SMTP client for one config node, shared by every email node that uses it. The transport
 * is created on the first send (no network at deploy). Email nodes `acquire()` a lease and release
 * it when they close; when the last lease goes, the pool's connections are closed (a later send
 * opens a new pool). `close()` ends it for good: in-flight sends get a grace period, then the pool
 * is closed by force; later sends fail with code `shutdown`.
 */
export class SmtpClient {
  readonly settings: SmtpSettings;
  readonly timeouts: SmtpTimeouts;
  readonly key: string;
  readonly label: string;
  private readonly factory: (options: Record<string, unknown>) => SmtpTransportLike;
  private transport: SmtpTransportLike | undefined;
  private leases = 0;
  private inFlight = 0;
  private closed = false;
  private closing?: Promise<void>;
  private readonly drainWaiters = new Set<() => void>();
  /** how many transports (pools) were created; for tests and diagnostics */
  poolsCreated = 0;

  constructor(settings: SmtpSettings, options: SmtpClientOptions = {}) {
    this.settings = settings;
    this.timeouts = { ...DEFAULT_SMTP_TIMEOUTS, ...definedOnly(options.timeouts ?? {}) };
    this.label = smtpLabel(settings);
    this.key = `${settings.security === 'tls' ? 'smtps' : 'smtp'}://${this.label}`;
    this.factory = options.createTransport ?? ((o) => createTransport(o));
  }

  /** the sender, as the From header shows it */
  get from(): string {
    return formatMailbox(this.settings.from);
  }

  get fromMailbox(): Mailbox {
    return { ...this.settings.from };
  }

  /** true while a pool exists (connections may be open) */
  get open(): boolean {
    return this.transport !== undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get users(): number {
    return this.leases;
  }

  /** Registers a user (an email node). The returned function releases it, once. */
  acquire(): () => void {
    if (this.closed) return () => undefined;
    this.leases += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.leases -= 1;
      if (this.leases === 0 && !this.closed) this.releasePool();
    };
  }

  /** Sends one message through the pool. Rejects with nodemailer's error (see classifySmtpError). */
  async send(mail: SmtpMail, signal?: AbortSignal): Promise<SmtpSent> {
    if (this.closed) throw new SmtpClosedError();
    if (!this.transport) {
      const created = this.factory(smtpTransportOptions(this.settings, this.timeouts));
      // every failure is reported to its send; an 'error' event with no listener would crash the runtime
      const emitter = created as unknown as { on?: (event: string, fn: (err: unknown) => void) => void };
      if (typeof emitter.on === 'function') emitter.on('error', () => undefined);
      this.transport = created;
      this.poolsCreated += 1;
    }
    const transport = this.transport;
    this.inFlight += 1;
    try {
      const info = (await transport.sendMail({ ...mail, ...(signal ? { signal } : {}) })) as Record<string, unknown>;
      const response = typeof info?.response === 'string' ? info.response : '';
      const status = replyCode(response);
      const sent: SmtpSent = { response, accepted: addressList(info?.accepted), rejected: addressList(info?.rejected) };
      if (status !== undefined) sent.status = status;
      if (typeof info?.messageId === 'string') sent.messageId = info.messageId;
      return sent;
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const w of [...this.drainWaiters]) w();
    }
  }

  /** Closes the pool's connections (deliveries in progress finish first); the next send opens a new pool. */
  private releasePool(): void {
    const t = this.transport;
    this.transport = undefined;
    try {
      t?.close();
    } catch {
      /* closing cannot fail a release */
    }
  }

  /**
   * Ends the client: no new sends; sends in flight get `graceMs` to finish, then the pool is closed
   * by force (their messages fail). Resolves when done; never rejects.
   */
  close(graceMs = 5_000): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    const t = this.transport;
    this.transport = undefined;
    this.closing = new Promise<void>((resolve) => {
      if (!t) return resolve();
      try {
        t.close();
      } catch {
        /* ignore */
      }
      const finish = () => {
        clearTimeout(timer);
        this.drainWaiters.delete(finish);
        try {
          t.close({ force: true });
        } catch {
          /* ignore */
        }
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, graceMs));
      if (this.inFlight === 0) finish();
      else this.drainWaiters.add(finish);
    });
    return this.closing;
  }
}

function definedOnly<T extends object>(o: Partial<T>): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && Number.isFinite(v) && v > 0) (out as Record<string, unknown>)[k] = v;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Classification

interface SmtpErrorLike {
  code?: unknown;
  originalCode?: unknown;
  responseCode?: unknown;
  response?: unknown;
  command?: unknown;
  message?: unknown;
  timeoutType?: unknown;
  name?: unknown;
}

const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** Removes nodemailer's repetition of the reply in its message ("…: 550 5.1.1 …"). */
function cleanMessage(message: string, response: string | undefined): string {
  let m = message;
  if (response && m.endsWith(`: ${response}`)) m = m.slice(0, -(response.length + 2));
  return m.trim();
}

function describeReply(code: number, command: string | undefined, response: string | undefined, message: string): string {
  const reply = response ? response.replace(/\s+/g, ' ').trim() : `${code}`;
  const during = command ? ` (${command})` : '';
  if (code === 535 || code === 534 || code === 530 || /^AUTH\b/i.test(command ?? '')) {
    return `authentication failed${during}: ${reply}. Check the user and password of the SMTP settings; Gmail needs an app password, Office 365 needs SMTP AUTH enabled for the mailbox or OAuth2`;
  }
  if (/STARTTLS/i.test(command ?? '') || /STARTTLS/i.test(message)) {
    return `the server refused STARTTLS${during}: ${reply}. Choose security "none" only for a local relay, or "tls" for port 465`;
  }
  if (code >= 500) return `the server rejected the message${during}: ${reply}`;
  return `the server deferred the message${during}: ${reply}`;
}

/**
 * Classifies an error from nodemailer (or the client) for the delivery policy. SMTP 4xx replies and
 * network errors are retryable; 5xx replies, authentication failures, certificate problems and
 * configuration mismatches are permanent. The reply code and text go to the record's response.
 */
export function classifySmtpError(err: unknown, settings?: Pick<SmtpSettings, 'security' | 'port'>): AttemptResult {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SmtpErrorLike;
  const code = str(e.code);
  const original = str(e.originalCode);
  const response = str(e.response);
  const command = str(e.command);
  const rawMessage = str(e.message) ?? String(err);
  const message = cleanMessage(rawMessage, response);
  const rc = typeof e.responseCode === 'number' && e.responseCode >= 200 && e.responseCode < 600 ? e.responseCode : replyCode(response);

  if (err instanceof SmtpClosedError || code === 'shutdown') {
    return { kind: 'permanent', code: 'shutdown', message: rawMessage };
  }
  if (/connection pool was closed/i.test(rawMessage)) {
    return { kind: 'permanent', code: 'shutdown', message: 'the SMTP connection pool was closed (redeploy or stop) before the message was sent' };
  }
  if (code === 'EABORT' || e.name === 'AbortError') {
    return { kind: 'retryable', code: 'EABORT', message: 'the send was aborted (attempt timeout or shutdown)' };
  }

  // TLS: certificate problems and security-mode mismatches are configuration errors
  const tlsCode = [original, code].find((c) => c && CERT_CODES.has(c));
  if (tlsCode || /certificate|self[- ]signed/i.test(rawMessage)) {
    const what =
      /self[- ]signed/i.test(rawMessage) || tlsCode?.includes('SELF_SIGNED') ? 'a self-signed certificate' : 'a certificate that cannot be verified';
    return {
      kind: 'permanent',
      code: 'tls_certificate',
      message:
        `the server's TLS certificate was rejected (${what}: ${message.replace(/^Error initiating TLS - /, '')}). ` +
        'Install a certificate from a trusted CA on the server, or untick "Reject unauthorized certificates" in the SMTP settings for a server you trust',
    };
  }
  if (
    /wrong version number|packet length too long|unknown protocol|http request/i.test(rawMessage) ||
    original === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    original === 'EPROTO'
  ) {
    const hint =
      settings?.security === 'tls'
        ? `security is "tls" (implicit TLS, port 465) but port ${settings.port} answered in plain text: use "starttls" for ports 587 and 25`
        : 'the TLS mode does not match the port: "tls" is for port 465, "starttls" for 587 and 25';
    return { kind: 'permanent', code: 'tls_mismatch', message: `TLS handshake failed (${message}); ${hint}` };
  }

  if (rc !== undefined) {
    const resp = { status: rc, ...(response ? { body: response } : {}), ...(command ? { command } : {}) };
    const text = describeReply(rc, command, response, rawMessage);
    if (rc >= 500) return { kind: 'permanent', code: `smtp_${rc}`, message: text, status: rc, response: resp };
    if (rc >= 400) return { kind: 'retryable', code: `smtp_${rc}`, message: text, status: rc, response: resp };
    return {
      kind: 'permanent',
      code: 'EPROTOCOL',
      message: `unexpected SMTP reply${command ? ` to ${command}` : ''}: ${response ?? rc}`,
      status: rc,
      response: resp,
    };
  }

  if (code === 'ETIMEDOUT') {
    const t = str(e.timeoutType);
    let text: string;
    if (t === 'GREETING_TIMEOUT') {
      text =
        'connected, but the server sent no SMTP greeting in time' +
        (settings && settings.security !== 'tls' && settings.port === 465 ? '; port 465 expects security "tls" (implicit TLS)' : '');
    } else if (t === 'CONNECT_TIMEOUT') text = 'timed out connecting to the SMTP server';
    else if (t === 'UPGRADE_TIMEOUT') text = 'timed out during the TLS upgrade';
    else text = `the SMTP server stopped answering (${message})`;
    return { kind: 'retryable', code: 'ETIMEDOUT', message: text };
  }

  if (code === 'EAUTH' || code === 'ENOAUTH' || code === 'EOAUTH2') {
    if (original && RETRYABLE_ERROR_CODES.has(original)) {
      return { kind: 'retryable', code: original, message: `could not reach the OAuth2 token endpoint: ${describeErrorCode(original) ?? message}` };
    }
    if (original === 'EOAUTH2' || code === 'EOAUTH2') {
      return {
        kind: 'permanent',
        code: 'oauth2',
        message: `OAuth2 token refresh failed: ${message}. Check the client id, client secret, refresh token and token URL`,
      };
    }
    return { kind: 'permanent', code: 'auth', message: `authentication failed: ${message}` };
  }

  if (code === 'EDNS') {
    return {
      kind: 'retryable',
      code: original && RETRYABLE_ERROR_CODES.has(original) ? original : 'ENOTFOUND',
      message: `could not resolve the SMTP host (${message})`,
    };
  }
  if (code === 'ESOCKET' || code === 'ECONNECTION' || code === 'ETLS' || code === 'EMAXLIMIT') {
    const c = original && RETRYABLE_ERROR_CODES.has(original) ? original : code;
    const described = original ? describeErrorCode(original) : undefined;
    return { kind: 'retryable', code: c, message: described ? `${described} (${message})` : message };
  }
  if (code && RETRYABLE_ERROR_CODES.has(code)) {
    return { kind: 'retryable', code, message: describeErrorCode(code) ?? message };
  }
  if (code === 'EENVELOPE' || code === 'EMESSAGE' || code === 'EMAXRECIPIENTS' || code === 'EPROTOCOL' || code === 'EREQUIRETLS') {
    return { kind: 'permanent', code, message };
  }
  return { kind: 'permanent', code: code ?? 'internal', message };
}
