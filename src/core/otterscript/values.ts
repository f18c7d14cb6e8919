/**
 * Run-time values and variable lookup. OtterScript values are strings (scalars), lists and maps;
 * data that comes from outside (event variables, JSON) may hold numbers, booleans or null, which are
 * read as strings (`norm`).
 */
import type { Value, Vars } from '../events/types';

export type { Value, Vars };
export type MapValue = { [key: string]: Value };
export type Kind = 'text' | 'list' | 'map';

/** Per-render state: the variables, a lazily built lowercase index of their names, loop variables. */
export interface Ctx {
  vars: Vars;
  index: Map<string, string> | undefined;
  locals: Array<Value | undefined>;
  now: (() => Date) | undefined;
  /** Loop iterations left in this render (MAX_LOOP_ITERATIONS at the start). */
  budget: number;
  /** Work units left in this render (MAX_WORK at the start): see `charge`. */
  work: number;
}

/**
 * The work one render or evaluation may do, in units: one per character a template outputs, one per
 * function call plus one per character (or list item, map key) of the arguments it takes and the
 * value it returns, one per loop iteration. Counts what is produced and computed, so a loop over a
 * cheap function and one huge $Replace are bounded alike (a few hundred milliseconds of CPU at most).
 */
export const MAX_WORK = 16 * 1024 * 1024;

/** Longest text a function may build ($Replace, $Join, $RegexReplace…); longer is an error, not an allocation. */
export const MAX_TEXT_LENGTH = 16 * 1024 * 1024;

/** A value's size for the work budget: characters of a text, items of a list, keys of a map (shallow). */
export function sizeOf(v: Value): number {
  return typeof v === 'string' ? v.length : Array.isArray(v) ? v.length : Object.keys(v).length;
}

/** Most `foreach` iterations one render or evaluation may run (all loops together). */
export const MAX_LOOP_ITERATIONS = 1_000_000;

export interface RenderOptions {
  /** Clock for $Date / $DateUtc (tests, previews). */
  now?: () => Date;
}

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

export function kindOf(v: Value): Kind {
  return typeof v === 'string' ? 'text' : Array.isArray(v) ? 'list' : 'map';
}

export function kindName(k: Kind): string {
  return k === 'text' ? 'text' : k === 'list' ? 'a list' : 'a map';
}

/** Reads outside data as an OtterScript value: numbers and booleans become text, null becomes "". */
export function norm(v: unknown): Value {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'bigint':
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      if (v === null) return '';
      if (Array.isArray(v)) return v as Value[];
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
      return v as MapValue;
    default:
      return '';
  }
}

function buildIndex(vars: Vars): Map<string, string> {
  const index = new Map<string, string>();
  for (const key of Object.keys(vars)) {
    const lower = key.toLowerCase();
    if (!index.has(lower)) index.set(lower, key);
  }
  return index;
}

/** Looks a variable up, exact spelling first, then case-insensitively. */
export function lookupVar(ctx: Ctx, name: string, lname: string): Value | undefined {
  const vars = ctx.vars;
  let v: unknown = vars[name];
  if (v === undefined || !hasOwn(vars, name)) {
    let index = ctx.index;
    if (index === undefined) index = ctx.index = buildIndex(vars);
    const key = index.get(lname);
    if (key === undefined) return undefined;
    v = vars[key];
    if (v === undefined) return undefined;
  }
  return typeof v === 'string' ? v : norm(v);
}

/** Looks a key up in a map, exact spelling first, then case-insensitively (as ProGet's maps). */
export function mapGet(map: MapValue, key: string): Value | undefined {
  let v: unknown;
  if (hasOwn(map, key)) v = map[key];
  else {
    const lower = key.toLowerCase();
    for (const k of Object.keys(map)) {
      if (k.toLowerCase() === lower) {
        v = map[k];
        break;
      }
    }
  }
  return v === undefined ? undefined : typeof v === 'string' ? v : norm(v);
}

/** Sets a key on a map object without ever touching its prototype. */
export function mapSet(map: MapValue, key: string, value: Value): void {
  if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  else map[key] = value;
}

export function isMap(v: Value): v is MapValue {
  return typeof v === 'object' && !Array.isArray(v);
}

/** Variable names (and loop variables) close to `name`, for "did you mean" hints. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestD = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) > bestD) continue;
    const d = distance(lower, c.toLowerCase(), bestD);
    if (d <= bestD && (best === undefined || d < bestD)) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

function distance(a: string, b: string, max: number): number {
  if (a.length > 100 || b.length > 100) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
