// notifier-smtp: config node holding ProGet's SMTP settings (host, port, TLS mode, auth, sender) and
// one pooled SMTP client shared by every notifier-email node that uses it. Nothing connects at
// deploy: the pool opens on the first message. Closing the node closes the pool.
import { ConfigError } from '../core/delivery';
import { SmtpClient, smtpLabel, smtpSecrets, smtpSettings } from '../core/channels/smtp';
import type { SmtpCredentials, SmtpTimeouts } from '../core/channels/smtp';
import { Redactor } from '../core/redact';

import type { Node, NodeRED as RED } from './shared/node-red';

export const SMTP_CREDENTIALS = {
  user: { type: 'text' },
  password: { type: 'password' },
  clientId: { type: 'text' },
  clientSecret: { type: 'password' },
  refreshToken: { type: 'password' },
  tokenUrl: { type: 'text' },
} as const;

/** What a notifier-email node reads from its config node. */
export interface SmtpConfigNode {
  id: string;
  name?: string;
  /** set when the settings are valid */
  client?: SmtpClient;
  /** set when they are not */
  configError?: Error;
  /** values to redact (credentials) */
  secrets: string[];
  /** `host:port` or the name */
  label: string;
}

interface SmtpRuntimeSettings {
  connectionTimeout?: number;
  greetingTimeout?: number;
  socketTimeout?: number;
  closeGraceMs?: number;
}

/** Optional runtime setting `notifierSmtp: { connectionTimeout, greetingTimeout, socketTimeout, closeGraceMs }` (ms). */
function runtimeSettings(RED: RED): SmtpRuntimeSettings {
  let s: unknown;
  try {
    s = RED.settings?.notifierSmtp;
  } catch {
    s = undefined;
  }
  return s && typeof s === 'object' ? s : {};
}

export default function notifierSmtp(RED: RED): void {
  function NotifierSmtpNode(this: SmtpConfigNode & Node<SmtpCredentials>, config: Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    const credentials: SmtpCredentials = { ...(node.credentials ?? {}) };
    const redactor = new Redactor(Object.values(credentials).filter((v) => typeof v === 'string' && v !== credentials.user && v !== credentials.tokenUrl));
    const rt = runtimeSettings(RED);
    const name = typeof config.name === 'string' ? config.name.trim() : '';
    node.secrets = [];
    node.label = name || (typeof config.host === 'string' && config.host.trim() ? `${config.host.trim()}:${String((config.port as string | number | undefined) ?? '')}` : `notifier-smtp ${String(node.id)}`);
    try {
      const settings = smtpSettings(config, credentials);
      const timeouts: Partial<SmtpTimeouts> = {};
      if (typeof rt.connectionTimeout === 'number') timeouts.connectionMs = rt.connectionTimeout;
      if (typeof rt.greetingTimeout === 'number') timeouts.greetingMs = rt.greetingTimeout;
      if (typeof rt.socketTimeout === 'number') timeouts.socketMs = rt.socketTimeout;
      node.client = new SmtpClient(settings, { timeouts });
      node.secrets = smtpSecrets(settings);
      node.label = name || smtpLabel(settings);
    } catch (err) {
      const message = redactor.text(err instanceof Error ? err.message : String(err));
      node.configError = err instanceof ConfigError ? new ConfigError(err.property, message) : new Error(message);
      node.error(`notifier-smtp "${node.label}" is misconfigured: ${message}`);
    }

    node.on('close', function (_removed: boolean, done: () => void) {
      const client = node.client;
      if (!client) return done();
      const grace = typeof rt.closeGraceMs === 'number' && rt.closeGraceMs >= 0 ? rt.closeGraceMs : 5_000;
      client.close(grace).then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType('notifier-smtp', NotifierSmtpNode, { credentials: SMTP_CREDENTIALS });
}
