/** The channels: webhook, Slack and Teams (email lives in email.ts). Each turns an event into an HTTP dispatch. */
export * from './templates';
export * from './escape';
export * from './headers';
export * from './facts';
export * from './limits';
export * from './webhook';
export * from './slack';
export * from './teams';
export * from './digest';
