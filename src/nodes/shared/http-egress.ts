/**
 * The network side of the HTTP output nodes (webhook, Slack, Teams): the node's `proxy` (Node-RED's core
 * `http proxy` config node), its `tls` (the core `tls-config` node) and the runtime setting
 * `notifierEgress: { deny, allow }` become one `HttpTransport` for the node. Without a proxy node the
 * environment's HTTP_PROXY / HTTPS_PROXY / NO_PROXY apply, as in Node-RED's `http request` node.
 */
import { ConfigError, EgressPolicy, HttpTransport } from '../../core/delivery';
import type { EgressSettings, ProxySettings, TlsSettings } from '../../core/delivery';
import type { BuiltChannel, OutputNodeConfig } from './output-node';

import type { HttpProxyConfigNode, NodeRED as RED, TlsConfigNode } from './node-red';

function configNode<T extends object>(RED: RED, config: OutputNodeConfig, property: 'proxy' | 'tls', kind: string): T | undefined {
  const id = config[property];
  if (id === undefined || id === null || id === '' || id === '_ADD_') return undefined;
  const n = typeof id === 'string' ? RED.nodes.getNode<T>(id) : undefined;
  if (!n) throw new ConfigError(property, `${property}: the ${kind} configuration node is missing (deleted or disabled?)`);
  return n;
}

function egressSettings(RED: RED): EgressSettings {
  let s: unknown;
  try {
    s = RED.settings?.notifierEgress;
  } catch {
    s = undefined;
  }
  if (s === undefined || s === null) return {};
  if (typeof s !== 'object') throw new ConfigError('notifierEgress', 'the runtime setting notifierEgress must be { deny: [...], allow: [...] }');
  return s;
}

/** The transport of one HTTP output node, and the secrets it adds (proxy credentials). */
export function httpTransportFor(RED: RED, config: OutputNodeConfig, maxSockets: number): { transport: HttpTransport; secrets: string[] } {
  const secrets: string[] = [];
  let proxy: ProxySettings | undefined;
  const proxyNode = configNode<HttpProxyConfigNode>(RED, config, 'proxy', 'http proxy');
  if (proxyNode) {
    const url = String(proxyNode.url ?? '').trim();
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError('proxy', 'proxy: the http proxy node has no valid URL (http://host:port)');
    }
    const username = proxyNode.credentials?.username || decodeURIComponent(parsed.username) || undefined;
    const password = proxyNode.credentials?.password || decodeURIComponent(parsed.password) || undefined;
    proxy = { url, username, password, noProxy: Array.isArray(proxyNode.noproxy) ? proxyNode.noproxy : [] };
    if (password) secrets.push(password, Buffer.from(`${username ?? ''}:${password}`).toString('base64'));
  } else {
    // the environment's proxy may carry credentials too (http://user:pass@proxy:3128)
    for (const k of ['http_proxy', 'https_proxy', 'all_proxy']) {
      for (const v of [process.env[k], process.env[k.toUpperCase()]]) {
        try {
          const p = v ? decodeURIComponent(new URL(v).password) : '';
          if (p) secrets.push(p);
        } catch {
          /* not a URL: nothing to redact */
        }
      }
    }
  }
  let tls: TlsSettings | undefined;
  const tlsNode = configNode<TlsConfigNode>(RED, config, 'tls', 'tls-config');
  if (tlsNode) {
    if (tlsNode.valid === false) throw new ConfigError('tls', 'tls: the tls-config node is invalid (see its error in the log)');
    tls = {};
    tlsNode.addTLSOptions(tls);
    if (typeof tlsNode.credentials?.passphrase === 'string' && tlsNode.credentials.passphrase) secrets.push(tlsNode.credentials.passphrase);
  }
  const egress = new EgressPolicy(egressSettings(RED));
  return { transport: new HttpTransport({ maxSockets, proxy, tls, egress }), secrets };
}

/** Builds an HTTP channel on the node's transport; the transport is released if the channel is refused. */
export function buildHttpChannel<C extends BuiltChannel>(
  RED: RED,
  config: OutputNodeConfig,
  maxSockets: number,
  create: (transport: HttpTransport) => C,
): C {
  const { transport, secrets } = httpTransportFor(RED, config, maxSockets);
  let built: C;
  try {
    built = create(transport);
  } catch (err) {
    transport.destroy();
    throw err;
  }
  return { ...built, secrets: [...(built.secrets ?? []), ...secrets] };
}
