// notifier-webhook: ProGet's "Custom webhook" as a Node-RED output node. URL, method, headers and
// content are OtterScript templates (content defaults to ProGet's body for the event type); optional
// Standard Webhooks or GitHub-style signing, basic or bearer auth; delivery under the shared policy.
import { createWebhookChannel } from '../core/channels/webhook';
import { compileTemplate, defaultTemplates } from '../core/otterscript';
import type { TemplateKit } from '../core/channels/templates';
import { buildHttpChannel } from './shared/http-egress';
import { registerOutputNode } from './shared/output-node';
import type { NodeRED } from './shared/node-red';

const kit: TemplateKit = { compile: compileTemplate, defaults: defaultTemplates };

export default function notifierWebhook(RED: NodeRED): void {
  registerOutputNode(RED, {
    type: 'notifier-webhook',
    channel: 'webhook',
    credentials: {
      secret: { type: 'password' },
      username: { type: 'text' },
      password: { type: 'password' },
      token: { type: 'password' },
    },
    build: (config, credentials) => buildHttpChannel(RED, config, 8, (transport) => createWebhookChannel(config, credentials, kit, transport)),
  });
}
