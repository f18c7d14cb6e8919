/**
 * Where HTTP deliveries may go.
 *
 * - `EgressPolicy`: CIDR lists (`notifierEgress: { deny, allow }` in settings.js) checked on every address a
 *   destination resolves to, at connect time (the agents' `lookup`), and on IP literals before anything is
 *   sent. Link-local and cloud metadata addresses are denied by default; `allow` wins over `deny`. Addresses
 *   are compared as addresses, whatever their spelling: the URL parser turns `0x7f000001`, `2130706433` and
 *   `127.1` into `127.0.0.1`, and an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is checked as its IPv4.
 * - `proxyForUrl`: which proxy a URL goes through, as Node-RED's `http request` node decides it
 *   (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`, lower or upper case).
 * - `literalOrigin`, `hostAllowed`: the webhook's rule that a URL template's origin is literal unless the
 *   node lists the hosts events may name.
 */
import dns from 'node:dns';
import net from 'node:net';
import { ConfigError } from './config';

/** Denied unless allowed: link-local (cloud metadata at 169.254.169.254), AWS's IPv6 metadata, unspecified. */
export const DEFAULT_EGRESS_DENY: readonly string[] = Object.freeze(['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '0.0.0.0/8', '::/128']);

export const EGRESS_DENIED = 'egress_denied';

export interface EgressSettings {
  deny?: readonly string[] | undefined;
  allow?: readonly string[] | undefined;
}

/** An error with the code the dispatch record shows (`egress_denied`). */
export class EgressDeniedError extends Error {
  readonly code = EGRESS_DENIED;
  constructor(message: string) {
    super(message);
    this.name = 'EgressDeniedError';
  }
}

/** `::ffff:a.b.c.d` (any spelling) → `a.b.c.d`; other addresses unchanged (lower case, no brackets). */
export function canonicalAddress(address: string): string {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (net.isIPv6(a)) {
    const m = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(.+)$/.exec(a);
    if (m) {
      const tail = m[1]!;
      if (net.isIPv4(tail)) return tail;
      const h = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(tail);
      if (h) {
        const hi = parseInt(h[1]!, 16);
        const lo = parseInt(h[2]!, 16);
        return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
      }
    }
  }
  return a;
}

function addRule(list: net.BlockList, rule: string, setting: string): void {
  if (typeof rule !== 'string' || !rule.trim())
    throw new ConfigError(setting, `${setting}: each entry must be an address or CIDR text, got ${JSON.stringify(rule)}`);
  const [addr, bits, extra] = rule.trim().split('/');
  const address = canonicalAddress(addr ?? '');
  const type = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  const max = type === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!type || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new ConfigError(setting, `${setting}: "${rule}" is not an address or CIDR range (e.g. 10.0.0.0/8, fd00::/8)`);
  }
  list.addSubnet(address, prefix, type);
}

function cidrList(rules: readonly string[] | undefined, setting: string): net.BlockList {
  const list = new net.BlockList();
  if (rules === undefined) return list;
  const items: readonly string[] = rules; // Array.isArray below would widen rules to any[]
  if (!Array.isArray(rules)) throw new ConfigError(setting, `${setting} must be a list of CIDR ranges`);
  for (const r of items) addRule(list, r, setting);
  return list;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

export class EgressPolicy {
  private readonly deny: net.BlockList;
  private readonly allow: net.BlockList;
  /** the agents' `lookup`: resolves, then refuses the connection if any address is denied */
  readonly lookup: (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void;

  constructor(settings: EgressSettings = {}) {
    const deny: readonly string[] = settings.deny ?? []; // Array.isArray below would widen settings.deny to any[]
    if (settings.deny !== undefined && !Array.isArray(settings.deny))
      throw new ConfigError('notifierEgress.deny', 'notifierEgress.deny must be a list of CIDR ranges');
    this.deny = cidrList(DEFAULT_EGRESS_DENY, 'notifierEgress.deny');
    for (const r of deny) addRule(this.deny, r, 'notifierEgress.deny');
    this.allow = cidrList(settings.allow, 'notifierEgress.allow');
    this.lookup = (hostname, options, callback) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, options.all ? [] : '');
        const denied = addresses.find((a) => this.denies(a.address));
        if (denied) return callback(this.deniedError(hostname, denied.address), options.all ? [] : '');
        if (options.all) return callback(null, addresses);
        const first = addresses[0];
        if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
        callback(null, first.address, first.family);
      });
    };
  }

  /** true when connecting to `address` (an IP in any spelling the URL parser leaves) is refused */
  denies(address: string): boolean {
    const a = canonicalAddress(address);
    const type = net.isIPv4(a) ? 'ipv4' : net.isIPv6(a) ? 'ipv6' : undefined;
    if (!type) return false;
    return this.deny.check(a, type) && !this.allow.check(a, type);
  }

  deniedError(host: string, address: string): EgressDeniedError {
    const a = canonicalAddress(address);
    const shown = a === host.replace(/^\[|\]$/g, '').toLowerCase() ? a : `${host} (${a})`;
    return new EgressDeniedError(`the egress policy denies ${shown} (notifierEgress; link-local and metadata addresses are denied by default)`);
  }

  /** Refuses an IP-literal host at once (a literal never goes through `lookup`). */
  checkLiteral(hostname: string): void {
    const h = hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(h) && this.denies(h)) throw this.deniedError(hostname, h);
  }

  /**
   * For requests a proxy connects: refuses a host name whose local resolution includes a denied address.
   * A name that does not resolve here is left to the proxy (behind a proxy, local DNS often knows no
   * outside names).
   */
  checkResolved(hostname: string): Promise<void> {
    const h = hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(h)) {
      this.checkLiteral(h);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.lookup(h, { all: true }, (err) => (err instanceof EgressDeniedError ? reject(err) : resolve()));
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Proxies, as Node-RED's http request node chooses them (its lib/proxyHelper.js, "strict" mode)

export type Env = Record<string, string | undefined>;

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };

function getEnv(env: Env, key: string): string {
  return env[key.toLowerCase()] || env[key.toUpperCase()] || '';
}

function shouldProxy(hostname: string, port: number, noProxy: string): boolean {
  const list = noProxy.toLowerCase();
  if (!list) return true;
  if (list === '*') return false;
  return list.split(/[,\s]/).every((entry) => {
    if (!entry) return true;
    const m = /^(.+):(\d+)$/.exec(entry);
    let host = m ? m[1]! : entry;
    const p = m ? parseInt(m[2]!, 10) : 0;
    if (p && p !== port) return true;
    if (!/^[.*]/.test(host)) return hostname !== host;
    if (host.startsWith('*')) host = host.slice(1);
    return !hostname.endsWith(host);
  });
}

/**
 * The proxy URL for `url` ('' = direct): `<proto>_proxy`, `npm_config_<proto>_proxy`, `npm_config_proxy`,
 * `all_proxy` (lower case first, then upper), unless `no_proxy` matches the host (names, `.suffix`,
 * `*.suffix`, `host:port`, `*`).
 */
export function proxyForUrl(url: URL, env: Env): string {
  const proto = url.protocol.replace(/:$/, '');
  const hostname = url.host.replace(/:\d*$/, '').toLowerCase();
  if (!hostname) return '';
  const port = parseInt(url.port, 10) || DEFAULT_PORTS[proto] || 0;
  if (!shouldProxy(hostname, port, getEnv(env, 'npm_config_no_proxy') || getEnv(env, 'no_proxy'))) return '';
  let proxy =
    getEnv(env, `npm_config_${proto}_proxy`) || getEnv(env, `${proto}_proxy`) || getEnv(env, 'npm_config_proxy') || getEnv(env, 'all_proxy');
  if (proxy && !proxy.includes('://')) proxy = `${proto}://${proxy}`;
  return proxy;
}

// ---------------------------------------------------------------------------------------------------
// Literal origins and allowed hosts (webhook URL templates)

/**
 * The origin of a URL template when it is literal (scheme, host and port written out, variables only in
 * the path, query and fragment), else undefined.
 */
export function literalOrigin(source: string, usesTemplate: (s: string) => boolean): string | undefined {
  const m = /^\s*(https?):\/\/([^/?#\\]*)/i.exec(source);
  if (!m || usesTemplate(m[2]!) || !m[2]) return undefined;
  try {
    return new URL(`${m[1]}://${m[2]}/`).origin;
  } catch {
    return undefined;
  }
}

/** Host names in their URL form (lower case, IPs canonical), `*.` wildcards kept. */
export function parseAllowedHosts(raw: unknown): string[] {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/) : raw === undefined || raw === null ? [] : undefined;
  if (!items) throw new ConfigError('allowedHosts', 'allowedHosts must be host names separated by commas or spaces');
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') throw new ConfigError('allowedHosts', 'allowedHosts must be host names');
    const t = item.trim().toLowerCase().replace(/\.$/, '');
    if (!t) continue;
    const wild = t.startsWith('*.');
    const name = wild ? t.slice(2) : t;
    let host: string;
    try {
      const u = new URL(`http://${name}/`);
      if (u.port || u.pathname !== '/' || u.username) throw new Error('not a host');
      host = u.hostname;
    } catch {
      throw new ConfigError('allowedHosts', `allowedHosts: "${item.slice(0, 80)}" is not a host name (e.g. hooks.example.com or *.example.com)`);
    }
    out.push(wild ? `*.${host}` : host);
  }
  return out;
}

/** true when `hostname` (a URL's hostname) is one of `allowed` (`*.example.com` = any name under example.com). */
export function hostAllowed(hostname: string, allowed: readonly string[]): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return allowed.some((p) => (p.startsWith('*.') ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : h === p));
}
