// notifier-email: ProGet's "Send an email" as a Node-RED output node. To, Cc, Bcc, subject and body
// are OtterScript templates (subject and body default to ProGet's for the event type), sent as text
// or HTML through the pooled SMTP client of a notifier-smtp config node, under the shared delivery
// policy (SMTP 4xx and network errors retried, 5xx and auth failures permanent).
import { createEmailChannel } from '../core/channels/email';
import type { TemplateKit } from '../core/channels/templates';
import { ConfigError } from '../core/delivery';
import { compileTemplate, defaultTemplates } from '../core/otterscript';
import { registerOutputNode } from './shared/output-node';
import type { SmtpConfigNode } from './notifier-smtp';
import type { NodeRED } from './shared/node-red';

const kit: TemplateKit = { compile: compileTemplate, defaults: defaultTemplates };

export default function notifierEmail(RED: NodeRED): void {
  registerOutputNode(RED, {
    type: 'notifier-email',
    channel: 'email',
    build(config) {
      const smtpId = typeof config.smtp === 'string' ? config.smtp.trim() : '';
      if (!smtpId) {
        throw new ConfigError('smtp', 'no SMTP server selected: add a notifier-smtp config node (host, port, security, sender) and pick it in "SMTP server"');
      }
      const smtpNode = RED.nodes.getNode<SmtpConfigNode>(smtpId);
      if (!smtpNode || typeof smtpNode !== 'object') {
        throw new ConfigError('smtp', `the SMTP server config node ${smtpId} was not found (deleted, disabled or not deployed)`);
      }
      const client = smtpNode.client;
      if (!client) {
        throw new ConfigError('smtp', `the SMTP server "${smtpNode.label}" is misconfigured: ${smtpNode.configError?.message ?? 'not ready'}`);
      }
      const channel = createEmailChannel(config, client, kit);
      // hold the shared pool while this node lives; the last node to close closes its connections
      const release = client.acquire();
      channel.driver.close = () => release();
      return { ...channel, secrets: [...channel.secrets, ...smtpNode.secrets] };
    },
  });
}
