/**
 * Reading output-node settings from flow JSON (strings from the editor, numbers from hand-written
 * flows) with clear errors. A `ConfigError` names the property and never echoes a secret.
 */

export class ConfigError extends Error {
  /** the property at fault, e.g. `headers`, `timeout` */
  readonly property: string;
  constructor(property: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.property = property;
  }
}

export interface NumberSpec {
  min: number;
  max: number;
  default: number;
  /** accept fractions (default: integers only) */
  fraction?: boolean;
  /** words for the error message, e.g. "seconds" */
  unit?: string;
}

/** A number property: empty/absent → default; otherwise a finite number within [min, max]. */
export function numberProperty(config: Record<string, unknown>, name: string, spec: NumberSpec): number {
  const raw = config[name];
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return spec.default;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : NaN;
  const unit = spec.unit ? ` ${spec.unit}` : '';
  if (!Number.isFinite(n) || (!spec.fraction && !Number.isInteger(n)) || n < spec.min || n > spec.max) {
    const shown = typeof raw === 'string' || typeof raw === 'number' ? JSON.stringify(raw).slice(0, 40) : typeof raw;
    throw new ConfigError(
      name,
      `${name} must be ${spec.fraction ? 'a number' : 'a whole number'} from ${spec.min} to ${spec.max}${unit}, got ${shown}`,
    );
  }
  return n;
}

/** A choice property: empty/absent → default; otherwise one of `choices`. */
export function choiceProperty<T extends string>(config: Record<string, unknown>, name: string, choices: readonly T[], dflt: T): T {
  const raw = config[name];
  if (raw === undefined || raw === null || raw === '') return dflt;
  const v = typeof raw === 'string' ? raw.trim() : raw;
  const hit = choices.find((c) => typeof v === 'string' && c.toLowerCase() === v.toLowerCase());
  if (!hit) throw new ConfigError(name, `${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw).slice(0, 40)}`);
  return hit;
}

/** A text property: absent → ''. */
export function textProperty(config: Record<string, unknown>, name: string): string {
  const raw = config[name];
  if (raw === undefined || raw === null) return '';
  if (typeof raw !== 'string') throw new ConfigError(name, `${name} must be text, got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  return raw;
}

/**
 * Checks an absolute http(s) URL without echoing it (it may be a secret).
 * Returns the parsed URL.
 */
export function checkHttpUrl(property: string, url: string, what = property): URL {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new ConfigError(property, `${what} is not a valid absolute URL (expected https://…)`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new ConfigError(property, `${what} must use http or https, not ${u.protocol.replace(':', '')}`);
  }
  return u;
}
