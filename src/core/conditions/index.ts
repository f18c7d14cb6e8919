/**
 * ProGet's Conditions tab as pure logic: the feed filter (wildcards, several feeds) and the
 * "run conditionally" modes. The `jsonata` mode is Node-RED's own language: the node evaluates it;
 * here it only passes the feed filter on.
 *
 * Order (ProGet's): event type (the event node) → feed filter → condition.
 */
import { SEVERITY_ORDER, type Severity } from '../events/schemas';
import type { NotifierEvent, Value } from '../events/types';
import { compilePredicate, type CompiledPredicate } from '../otterscript';
import { parseDecimal, compareDecimal } from '../otterscript/dotnet';

export const CONDITION_MODES = ['always', 'never', 'package', 'score', 'severity', 'expression', 'jsonata'] as const;
export type ConditionMode = (typeof CONDITION_MODES)[number];

export interface ConditionConfig {
  /** Comma-separated feed names with `*` and `?` wildcards; empty = all feeds. */
  feeds?: string;
  mode?: string;
  packageName?: string;
  packageVersion?: string;
  minScore?: number | string;
  minSeverity?: string;
  expression?: string;
}

/** A configuration problem, naming the property that is wrong. */
export class ConditionConfigError extends Error {
  readonly property: string;
  constructor(property: string, message: string) {
    super(`${property}: ${message}`);
    this.name = 'ConditionConfigError';
    this.property = property;
  }
}

// ---------------------------------------------------------------- wildcards

const MAX_PATTERN = 500;

/**
 * A wildcard pattern as a RegExp: `*` = any run of characters (also none), `?` = one character,
 * everything else literal; the whole value must match.
 */
export function wildcardToRegExp(pattern: string, ignoreCase: boolean): RegExp {
  if (pattern.length > MAX_PATTERN) throw new ConditionConfigError('pattern', `longer than ${MAX_PATTERN} characters`);
  let re = '^';
  let lastStar = false;
  for (const ch of pattern) {
    if (ch === '*') {
      if (!lastStar) re += '[\\s\\S]*';
      lastStar = true;
      continue;
    }
    lastStar = false;
    re += ch === '?' ? '[\\s\\S]' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$', ignoreCase ? 'iu' : 'u');
}

export function matchesWildcard(pattern: string, value: string, ignoreCase = true): boolean {
  return wildcardToRegExp(pattern, ignoreCase).test(value);
}

// ---------------------------------------------------------------- feed filter

export interface FeedFilter {
  /** The patterns, trimmed; empty = every feed (and events without a feed). */
  readonly patterns: readonly string[];
  passes(event: Pick<NotifierEvent, 'feed'>): boolean;
}

/** Parses the `feeds` property: comma-separated names or wildcard patterns, case-insensitive. */
export function parseFeedFilter(feeds: string | undefined | null): FeedFilter {
  if (feeds !== undefined && feeds !== null && typeof feeds !== 'string') {
    throw new ConditionConfigError('feeds', `must be text (comma-separated feed names), got ${typeof feeds}`);
  }
  const patterns = (feeds ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (patterns.length === 0) return { patterns, passes: () => true };
  const res = patterns.map((p) => wildcardToRegExp(p, true));
  return {
    patterns,
    // an event without a feed never passes a feed filter (ProGet: Issues Opened on Build)
    passes: (event) => typeof event.feed === 'string' && event.feed !== '' && res.some((re) => re.test(event.feed!)),
  };
}

// ---------------------------------------------------------------- modes

function varOf(vars: Record<string, Value>, name: string): Value | undefined {
  if (Object.prototype.hasOwnProperty.call(vars, name)) return vars[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(vars)) if (k.toLowerCase() === lower) return vars[k];
  return undefined;
}

function text(v: Value | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Names an event is about: PackageName/PackageId, and each of @AffectedPackages (with and without `type:`). */
export function packageNamesOf(event: NotifierEvent): string[] {
  const vars = event.vars ?? {};
  const names = new Set<string>();
  for (const key of ['PackageName', 'PackageId']) {
    const v = text(varOf(vars, key));
    if (v) names.add(v);
  }
  const affected = varOf(vars, 'AffectedPackages');
  if (Array.isArray(affected)) {
    for (const p of affected) {
      if (p && typeof p === 'object' && !Array.isArray(p)) {
        const n = text(varOf(p, 'Name'));
        if (n) {
          names.add(n);
          names.add(n.replace(/^[^:]*:/, ''));
        }
      }
    }
  }
  return [...names];
}

export function severityRank(s: string): number {
  const t = s.trim().toLowerCase();
  return SEVERITY_ORDER.findIndex((x) => x.toLowerCase() === t);
}

export interface CompiledCondition {
  readonly mode: ConditionMode;
  readonly feedFilter: FeedFilter;
  /**
   * The mode's test (feed filter excluded). Undefined for `jsonata`, which the node evaluates. For
   * `expression` it throws OtterScriptError at run time (e.g. an undefined variable).
   */
  readonly test: ((event: NotifierEvent) => boolean) | undefined;
  /** Short label for the editor and logs: `score >= 7.5`, `feed internal-*`, `severity >= High`… */
  readonly label: string;
  /** The compiled predicate of `expression` mode. */
  readonly predicate?: CompiledPredicate;
}

/**
 * Validates a configuration and compiles it. Throws ConditionConfigError (property named) for a
 * bad mode, score or severity, and OtterScriptError for an expression that does not compile.
 */
export function compileCondition(config: ConditionConfig): CompiledCondition {
  const mode = (config.mode === undefined || config.mode === '' ? 'always' : config.mode) as ConditionMode;
  if (!CONDITION_MODES.includes(mode)) {
    throw new ConditionConfigError('mode', `unknown mode "${String(config.mode)}"; use one of ${CONDITION_MODES.join(', ')}`);
  }
  const feedFilter = parseFeedFilter(config.feeds);
  const feedLabel = feedFilter.patterns.length ? `feed ${feedFilter.patterns.join(', ')}` : '';
  const withFeed = (label: string): string => (feedLabel && label ? `${feedLabel}; ${label}` : feedLabel || label);
  let test: CompiledCondition['test'];
  let label: string;
  let predicate: CompiledPredicate | undefined;
  switch (mode) {
    case 'always':
      test = () => true;
      label = withFeed('') || 'always';
      break;
    case 'never':
      test = () => false;
      label = withFeed('never');
      break;
    case 'package': {
      const name = (config.packageName ?? '').trim();
      const version = (config.packageVersion ?? '').trim();
      if (!name && !version) throw new ConditionConfigError('packageName', 'give a package name or version pattern (or both)');
      const nameRe = name ? wildcardToRegExp(name, true) : undefined;
      const versionRe = version ? wildcardToRegExp(version, false) : undefined;
      test = (event) => {
        if (nameRe && !packageNamesOf(event).some((n) => nameRe.test(n))) return false;
        if (versionRe) {
          const v = text(varOf(event.vars ?? {}, 'PackageVersion'));
          if (!v || !versionRe.test(v)) return false;
        }
        return true;
      };
      label = withFeed(name && version ? `package ${name} ${version}` : name ? `package ${name}` : `version ${version}`);
      break;
    }
    case 'score': {
      const raw = config.minScore;
      const s = typeof raw === 'number' ? String(raw) : (raw ?? '').trim();
      const n = Number(s);
      const min = parseDecimal(s);
      if (s === '' || !min || !Number.isFinite(n) || n < 0 || n > 10) {
        throw new ConditionConfigError('minScore', `must be a number from 0 to 10 (a CVSS score), got "${String(raw ?? '')}"`);
      }
      test = (event) => {
        const v = text(varOf(event.vars ?? {}, 'VulnerabilityScore'));
        const d = v === undefined ? undefined : parseDecimal(v);
        return d !== undefined && v!.trim() !== '' && compareDecimal(d, min) >= 0;
      };
      label = withFeed(`score >= ${s}`);
      break;
    }
    case 'severity': {
      const rank = severityRank(config.minSeverity ?? '');
      if (rank < 0) {
        throw new ConditionConfigError('minSeverity', `must be one of ${SEVERITY_ORDER.join(', ')}, got "${String(config.minSeverity ?? '')}"`);
      }
      const sev = SEVERITY_ORDER[rank] as Severity;
      test = (event) => {
        const v = text(varOf(event.vars ?? {}, 'VulnerabilitySeverity'));
        if (v === undefined || v === '') return false;
        const r = severityRank(v);
        return r >= 0 && r >= rank;
      };
      label = withFeed(`severity >= ${sev}`);
      break;
    }
    case 'expression': {
      const src = config.expression ?? '';
      if (typeof src !== 'string' || src.trim() === '') {
        throw new ConditionConfigError('expression', 'write an OtterScript condition, e.g. $Compare($VulnerabilityScore, >=, 7.5)');
      }
      predicate = compilePredicate(src);
      const p = predicate;
      test = (event) => p(event.vars);
      label = withFeed('expression');
      break;
    }
    case 'jsonata':
      test = undefined;
      label = withFeed('JSONata');
      break;
  }
  return { mode, feedFilter, test, label, ...(predicate ? { predicate } : {}) };
}

export type ConditionOutcome = { pass: boolean; reason: 'feed' | 'condition' | 'matched' };

/**
 * Runs the feed filter then the mode's test. For `jsonata` (evaluated by the node) only the feed
 * filter runs. Throws what the test throws (OtterScriptError for an expression).
 */
export function evaluateCondition(condition: CompiledCondition, event: NotifierEvent): ConditionOutcome {
  if (!condition.feedFilter.passes(event)) return { pass: false, reason: 'feed' };
  if (condition.test && !condition.test(event)) return { pass: false, reason: 'condition' };
  return { pass: true, reason: 'matched' };
}

/** Whether a value looks like a normalized event (what notifier-event puts on msg.event). */
export function describeEventProblem(event: unknown): string | undefined {
  if (event === undefined || event === null) return 'msg.event is missing: wire a notifier-event node before this one';
  if (typeof event !== 'object' || Array.isArray(event))
    return `msg.event must be an object (a normalized event), got ${Array.isArray(event) ? 'an array' : typeof event}`;
  const e = event as Record<string, unknown>;
  if (typeof e.type !== 'string' || e.type === '')
    return 'msg.event.type is missing: msg.event is not a normalized event (wire a notifier-event node first)';
  if (typeof e.vars !== 'object' || e.vars === null || Array.isArray(e.vars)) return 'msg.event.vars must be an object of variables';
  if (e.feed !== undefined && typeof e.feed !== 'string') return `msg.event.feed must be a string, got ${typeof e.feed}`;
  return undefined;
}
