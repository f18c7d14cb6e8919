/**
 * Email address lists as users type them in ProGet's "To addresses" field: separated by `,` or
 * `;`, each either a bare address (`dev@corp.local`) or a display name with the address in angle
 * brackets (`Dev Team <dev@corp.local>`, `"Doe, John" <john@corp.local>`). Strict: anything that
 * is not one address per item is an error naming the item, so a typo never silently drops a
 * recipient.
 */

export interface Mailbox {
  name?: string;
  address: string;
}

/** Thrown for an address list or mailbox that cannot be read. */
export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

/** At most this many recipients per field. */
export const MAX_RECIPIENTS = 500;

const LOCAL_ATOM = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+$/u;
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?$/u;

/** Why `address` is not a valid addr-spec (`local@domain`), or undefined when it is. */
export function checkAddress(address: string): string | undefined {
  if (address.length > 254) return 'is longer than 254 characters';
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return 'is not an email address (expected name@domain)';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64) return 'has a local part longer than 64 characters';
  if (!local.split('.').every((part) => LOCAL_ATOM.test(part))) return 'has an invalid character or dot before the @';
  if (/^\[[0-9a-fA-F:.]+\]$/.test(domain)) return undefined; // address literal, e.g. [127.0.0.1]
  const labels = domain.replace(/\.$/, '').split('.');
  if (!labels.every((l) => l.length <= 63 && DOMAIN_LABEL.test(l))) return 'has an invalid domain';
  return undefined;
}

/** Splits at `,` and `;` outside quotes and angle brackets. */
function splitList(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      cur += c;
      if (c === '\\' && i + 1 < text.length) cur += text[++i];
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '<') angle = true;
    else if (c === '>') angle = false;
    else if ((c === ',' || c === ';') && !angle) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (quoted) throw new AddressError(`unclosed quote in ${JSON.stringify(text.slice(0, 80))}`);
  out.push(cur);
  return out;
}

function shown(s: string): string {
  return JSON.stringify(s.length > 80 ? s.slice(0, 77) + '...' : s);
}

/** Reads one mailbox: `addr`, `Name <addr>` or `"Name" <addr>`. */
export function parseMailbox(text: string): Mailbox {
  const item = text.trim();
  if (!item) throw new AddressError('empty address');
  if (/[\r\n]/.test(item)) throw new AddressError(`${shown(item)} contains a line break`);
  const m = /^(.*?)<([^<>]*)>$/s.exec(item);
  let name: string | undefined;
  let address: string;
  if (m) {
    let raw = m[1]!.trim();
    if (raw.startsWith('"')) {
      if (!raw.endsWith('"') || raw.length < 2) throw new AddressError(`${shown(item)} has an unclosed quote`);
      raw = raw.slice(1, -1).replace(/\\(.)/g, '$1');
    } else if (/[<>"]/.test(raw)) throw new AddressError(`${shown(item)} is not one address`);
    name = raw.trim() || undefined;
    address = m[2]!.trim();
  } else {
    if (/[<>"\s]/.test(item)) throw new AddressError(`${shown(item)} is not one address (put a display name before <address>)`);
    address = item;
  }
  const problem = checkAddress(address);
  if (problem) throw new AddressError(`${shown(address)} ${problem}`);
  return name ? { name, address } : { address };
}

/**
 * Reads an address list separated by `,` or `;`. Empty items (a trailing separator, blank lines)
 * are skipped; duplicates (same address, any case) are kept once.
 */
export function parseAddressList(text: string): Mailbox[] {
  const out: Mailbox[] = [];
  const seen = new Set<string>();
  for (const raw of splitList(text.replace(/\r?\n/g, ','))) {
    if (!raw.trim()) continue;
    const mb = parseMailbox(raw);
    const key = mb.address.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(mb);
    if (out.length > MAX_RECIPIENTS) throw new AddressError(`more than ${MAX_RECIPIENTS} addresses`);
  }
  return out;
}

/** `Name <addr>` (name quoted when it needs to be) or `addr`. */
export function formatMailbox(mb: Mailbox): string {
  if (!mb.name) return mb.address;
  const name = /^[\p{L}\p{N} !#$%&'*+/=?^_`{|}~-]+$/u.test(mb.name) ? mb.name : `"${mb.name.replace(/(["\\])/g, '\\$1')}"`;
  return `${name} <${mb.address}>`;
}
