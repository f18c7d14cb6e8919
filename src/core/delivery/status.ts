/**
 * The node status text (the small label under a node in the editor): queued count, sending, or the
 * last result. Always under 20 characters, and built only from counts, HTTP/SMTP codes and error
 * codes, so it never carries a secret.
 */
import type { EngineStats } from './engine';

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'dot' | 'ring';
  text?: string;
}

export const STATUS_MAX_CHARS = 19;

export interface LastResult {
  outcome: 'delivered' | 'failed';
  status?: number;
  errorCode?: string;
}

function count(n: number): string {
  return n > 999 ? '1k+' : String(n);
}

function fit(text: string): string {
  return text.length <= STATUS_MAX_CHARS ? text : text.slice(0, STATUS_MAX_CHARS - 1) + '…';
}

const SHORT: Record<string, string> = {
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  ECONNABORTED: 'aborted',
  ETIMEDOUT: 'timeout',
  ENOTFOUND: 'DNS',
  EAI_AGAIN: 'DNS',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  queue_full: 'queue full',
  shutdown: 'stopped',
};

/** A short form of an error code: `http_404` → `404`, `ECONNREFUSED` → `refused`, `slack_no_service` → `no_service`. */
export function shortErrorCode(code: string): string {
  const http = /^http_(\d{3})$/.exec(code);
  if (http) return http[1]!;
  const smtp = /^smtp_(\d{3})$/.exec(code);
  if (smtp) return `SMTP ${smtp[1]}`;
  if (SHORT[code]) return SHORT[code];
  return code.replace(/^(slack|teams)_/, '').replace(/[^\w .:-]/g, '');
}

/** Status for the current engine state, or the last result when idle. */
export function statusText(stats: EngineStats, last?: LastResult): NodeStatus {
  const waiting = stats.queued + stats.retrying;
  if (stats.inFlight > 0) {
    return { fill: 'blue', shape: 'dot', text: fit(waiting > 0 ? `sending, ${count(waiting)} queued` : 'sending') };
  }
  if (waiting > 0) {
    return {
      fill: stats.retrying > 0 ? 'yellow' : 'blue',
      shape: 'ring',
      text: fit(stats.retrying > 0 ? `retry wait, ${count(waiting)}` : `${count(waiting)} queued`),
    };
  }
  if (!last) return {};
  if (last.outcome === 'delivered') {
    return { fill: 'green', shape: 'dot', text: fit(last.status !== undefined ? `delivered ${last.status}` : 'delivered') };
  }
  const code = last.errorCode ? shortErrorCode(last.errorCode) : last.status !== undefined ? String(last.status) : 'error';
  return { fill: 'red', shape: 'ring', text: fit(`failed: ${code}`) };
}
