// notifier-teams: Microsoft Teams through a Workflows webhook URL (credentials): an Adaptive Card 1.4
// with title, facts and text (templates), or a legacy MessageCard; within 28 KB; 4 requests/s per URL.
import { createTeamsChannel } from '../core/channels/teams';
import { compileTemplate, defaultTemplates } from '../core/otterscript';
import type { TemplateKit } from '../core/channels/templates';
import { buildHttpChannel } from './shared/http-egress';
import { registerOutputNode } from './shared/output-node';
import type { NodeRED } from './shared/node-red';

const kit: TemplateKit = { compile: compileTemplate, defaults: defaultTemplates };

export default function notifierTeams(RED: NodeRED): void {
  registerOutputNode(RED, {
    type: 'notifier-teams',
    channel: 'teams',
    credentials: { url: { type: 'password' } },
    build: (config, credentials) => buildHttpChannel(RED, config, 4, (transport) => createTeamsChannel(config, credentials, kit, transport)),
  });
}
