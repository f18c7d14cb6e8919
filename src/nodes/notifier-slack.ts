// notifier-slack: a Slack incoming webhook (URL in the credentials). Default Block Kit message per
// event type, or a custom mrkdwn text template; Slack's limits and error codes; 1 message/s per URL.
import { createSlackChannel } from '../core/channels/slack';
import { compileTemplate, defaultTemplates } from '../core/otterscript';
import type { TemplateKit } from '../core/channels/templates';
import { buildHttpChannel } from './shared/http-egress';
import { registerOutputNode } from './shared/output-node';
import type { NodeRED } from './shared/node-red';

const kit: TemplateKit = { compile: compileTemplate, defaults: defaultTemplates };

export default function notifierSlack(RED: NodeRED): void {
  registerOutputNode(RED, {
    type: 'notifier-slack',
    channel: 'slack',
    credentials: { url: { type: 'password' } },
    build: (config, credentials) => buildHttpChannel(RED, config, 2, (transport) => createSlackChannel(config, credentials, kit, transport)),
  });
}
