/**
 * ProGet's (Inedo's) variable functions, with the semantics of their .NET implementations
 * (inedox-inedocore) where documented. Functions are looked up case-insensitively by name.
 * `$Eval` is deliberately absent: event data is never run as template code.
 */
import {
  scriptBool,
  compareValues,
  evaluateArithmetic,
  formatDate,
  formatNumber,
  htmlEncode,
  jsEncode,
  parseBoolArg,
  parseDecimal,
  parseIntArg,
  urlEncode,
  xmlEncode,
} from './dotnet';
import { JsonValueError, fromJson, toJson } from './json';
import { RegexLimitError, checkInput, compileRegex } from './regex';
import { type Ctx, type Kind, MAX_TEXT_LENGTH, type MapValue, type Value, isMap, kindName, kindOf, lookupVar, mapGet, mapSet, norm } from './values';

/** Where a function is called from: used for errors and for the few functions that read the context. */
export interface CallSite {
  name: string;
  sigil: '$' | '@' | '%';
  fail(reason: string): never;
  /** Loop variables visible at the call: name (lowercase), sigil and slot. */
  scope: ReadonlyArray<{ lname: string; sigil: string; slot: number }>;
}

export type ArgKind = Kind | 'any';

export interface FnDef {
  /** Canonical spelling. */
  name: string;
  /** What it returns; `any` = decided by the sigil it is called with ($FromJson, @FromJson, %FromJson). */
  returns: Kind | 'any';
  params: ReadonlyArray<{ name: string; kind: ArgKind; optional?: boolean }>;
  /** Kind of every further argument (variadic functions). */
  rest?: { name: string; kind: ArgKind };
  run: (args: Value[], ctx: Ctx, site: CallSite) => Value;
}

const FUNCTIONS = new Map<string, FnDef>();

function def(d: FnDef): void {
  FUNCTIONS.set(d.name.toLowerCase(), d);
}

export function getFunction(name: string): FnDef | undefined {
  return FUNCTIONS.get(name.toLowerCase());
}

export function functionNames(): string[] {
  return [...FUNCTIONS.values()].map((f) => f.name).sort();
}

function str(v: Value): string {
  return v as string;
}

function intArg(site: CallSite, v: Value, what: string): number {
  const n = parseIntArg(v as string);
  if (n === undefined) site.fail(`${site.sigil}${site.name}: ${what} must be a whole number, got "${short(v as string)}"`);
  return n;
}

function boolArg(site: CallSite, v: Value | undefined, what: string): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  const b = parseBoolArg(v as string);
  if (b === undefined) site.fail(`${site.sigil}${site.name}: ${what} must be true or false, got "${short(v as string)}"`);
  return b;
}

export function short(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

/** Fails the call when the text it would build is longer than MAX_TEXT_LENGTH. */
function textLimit(site: CallSite, length: number): void {
  if (length > MAX_TEXT_LENGTH) site.fail(`${site.sigil}${site.name}: the result would be longer than ${MAX_TEXT_LENGTH / 1048576} MiB`);
}

function regexCall<T>(site: CallSite, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RegexLimitError) site.fail(`${site.sigil}${site.name}: ${err.message}`);
    throw err;
  }
}

function listOfText(site: CallSite, list: Value[], what: string): string[] {
  const out = new Array<string>(list.length);
  for (let i = 0; i < list.length; i++) {
    const v = norm(list[i]);
    if (typeof v !== 'string') site.fail(`${site.sigil}${site.name}: item ${i} of ${what} is ${kindName(kindOf(v))}, not text`);
    out[i] = v;
  }
  return out;
}

const T = (name: string, optional = false) => ({ name, kind: 'text' as const, optional });
const L = (name: string, optional = false) => ({ name, kind: 'list' as const, optional });
const M = (name: string, optional = false) => ({ name, kind: 'map' as const, optional });
const A = (name: string, optional = false) => ({ name, kind: 'any' as const, optional });

// ---------------------------------------------------------------- JSON

def({
  name: 'ToJson',
  returns: 'text',
  params: [A('data')],
  run: ([data], _ctx, site) => {
    try {
      return toJson(data!);
    } catch (err) {
      if (err instanceof JsonValueError) site.fail(`$ToJson: ${err.message}`);
      throw err;
    }
  },
});

def({
  name: 'FromJson',
  returns: 'any',
  params: [T('json')],
  run: ([json], _ctx, site) => {
    try {
      return fromJson(str(json!));
    } catch (err) {
      if (err instanceof JsonValueError) site.fail(`${site.sigil}FromJson: ${err.message}`);
      throw err;
    }
  },
});

// ---------------------------------------------------------------- comparisons and regex

const COMPARE_OPS = new Set(['<', '>', '<=', '>=', '=', '==', '!=']);

export function compareOp(op: string, cmp: number): boolean {
  switch (op) {
    case '<':
      return cmp < 0;
    case '>':
      return cmp > 0;
    case '<=':
      return cmp <= 0;
    case '>=':
      return cmp >= 0;
    case '!=':
      return cmp !== 0;
    default:
      return cmp === 0;
  }
}

export function checkCompareOp(site: CallSite, op: string): void {
  if (!COMPARE_OPS.has(op)) site.fail(`$Compare: the operator must be one of <, >, <=, >=, =, != (got "${short(op)}")`);
}

def({
  name: 'Compare',
  returns: 'text',
  params: [T('arg1'), T('operator'), T('arg2'), T('asNumber', true)],
  run: ([a, op, b, asNumber], _ctx, site) => {
    const o = str(op!).trim();
    checkCompareOp(site, o);
    const mode = boolArg(site, asNumber, 'asNumber');
    let cmp: number;
    if (mode === true) {
      const da = parseDecimal(str(a!));
      const db = parseDecimal(str(b!));
      if (!da) site.fail(`$Compare: invalid number "${short(str(a!))}"`);
      if (!db) site.fail(`$Compare: invalid number "${short(str(b!))}"`);
      cmp = compareValues(str(a!), str(b!));
    } else if (mode === false) cmp = compareValues(str(a!), str(b!), null);
    else cmp = compareValues(str(a!), str(b!));
    return scriptBool(compareOp(o, cmp));
  },
});

def({
  name: 'MatchesRegex',
  returns: 'text',
  params: [T('text'), T('pattern')],
  run: ([text, pattern], _ctx, site) =>
    regexCall(site, () => {
      const re = compileRegex(str(pattern!));
      checkInput(str(text!));
      return scriptBool(re.test(str(text!)));
    }),
});

def({
  name: 'RegexReplace',
  returns: 'text',
  params: [T('text'), T('pattern'), T('replacement')],
  run: ([text, pattern, replacement], _ctx, site) =>
    regexCall(site, () => {
      const re = compileRegex(str(pattern!));
      checkInput(str(text!));
      const out = re.replaceAll(str(text!), str(replacement!), MAX_TEXT_LENGTH);
      if (out === undefined) textLimit(site, Infinity);
      return out!;
    }),
});

def({
  name: 'RegexFind',
  returns: 'list',
  params: [T('text'), T('pattern'), T('group', true)],
  run: ([text, pattern, group], _ctx, site) =>
    regexCall(site, () => {
      const re = compileRegex(str(pattern!));
      checkInput(str(text!));
      const g = group === undefined || group === '' ? undefined : str(group);
      const out = re.findAll(str(text!), g, 10000);
      if (out.length > 10000) site.fail('@RegexFind: more than 10000 matches');
      return out;
    }),
});

// ---------------------------------------------------------------- strings

def({
  name: 'Coalesce',
  returns: 'text',
  params: [],
  rest: { name: 'values', kind: 'text' },
  run: (args) => {
    for (const a of args) if ((a as string).trim() !== '') return a;
    return '';
  },
});

def({ name: 'JSEncode', returns: 'text', params: [T('text')], run: ([t]) => jsEncode(str(t!)) });
def({ name: 'HtmlEncode', returns: 'text', params: [T('text')], run: ([t]) => htmlEncode(str(t!)) });
def({ name: 'UrlEncode', returns: 'text', params: [T('text')], run: ([t]) => urlEncode(str(t!)) });
def({ name: 'XmlEncode', returns: 'text', params: [T('text')], run: ([t]) => xmlEncode(str(t!)) });
def({
  name: 'EncodeBasicAuth',
  returns: 'text',
  params: [T('userName'), T('password')],
  run: ([u, p]) => Buffer.from(`${str(u!)}:${str(p!)}`, 'utf8').toString('base64'),
});

def({
  name: 'Join',
  returns: 'text',
  params: [T('separator'), L('values')],
  run: ([sep, values], _ctx, site) => {
    const items = listOfText(site, values as Value[], 'the list');
    let length = Math.max(0, items.length - 1) * str(sep!).length;
    for (const item of items) length += item.length;
    textLimit(site, length);
    return items.join(str(sep!));
  },
});

def({
  name: 'Split',
  returns: 'list',
  params: [T('text'), T('separator'), T('count', true)],
  run: ([text, sep, count], _ctx, site) => {
    const s = str(text!);
    const separator = str(sep!);
    const n = count === undefined || count === '' ? undefined : intArg(site, count, 'count');
    if (n !== undefined && n < 0) site.fail('$Split: count cannot be negative');
    if (s.length > 1024 * 1024) site.fail('@Split: text longer than 1 MiB');
    // .NET: an empty separator splits on whitespace
    let parts = separator === '' ? s.split(/\s/) : s.split(separator);
    if (n !== undefined) {
      if (n === 0) return [];
      if (parts.length > n) parts = [...parts.slice(0, n - 1), parts.slice(n - 1).join(separator === '' ? ' ' : separator)];
    }
    return parts;
  },
});

def({
  name: 'Replace',
  returns: 'text',
  params: [T('text'), T('find'), T('replaceWith'), T('ignoreCase', true)],
  run: ([text, find, rep, ignoreCase], _ctx, site) => {
    const f = str(find!);
    if (f === '') site.fail('$Replace: the text to find cannot be empty');
    const ic = boolArg(site, ignoreCase, 'ignoreCase') === true;
    if (!ic) {
      const parts = str(text!).split(f);
      textLimit(site, str(text!).length + (parts.length - 1) * (str(rep!).length - f.length));
      return parts.join(str(rep!));
    }
    const s = str(text!);
    const lower = s.toLowerCase();
    const lf = f.toLowerCase();
    let out = '';
    let pos = 0;
    for (let i = lower.indexOf(lf); i !== -1; i = lower.indexOf(lf, pos)) {
      out += s.slice(pos, i) + str(rep!);
      textLimit(site, out.length);
      pos = i + f.length;
    }
    return out + s.slice(pos);
  },
});

def({
  name: 'Substring',
  returns: 'text',
  params: [T('text'), T('offset'), T('length', true)],
  run: ([text, offset, length], _ctx, site) => {
    const s = str(text!);
    const o = intArg(site, offset!, 'offset');
    const l = length === undefined || length === '' ? undefined : intArg(site, length, 'length');
    if (o < 0) site.fail('$Substring: offset cannot be negative');
    if (l !== undefined && l < 0) site.fail('$Substring: length cannot be negative');
    if (o >= s.length) return '';
    return l === undefined ? s.slice(o) : s.slice(o, o + l);
  },
});

def({ name: 'ToLower', returns: 'text', params: [T('text')], run: ([t]) => str(t!).toLowerCase() });
def({ name: 'ToUpper', returns: 'text', params: [T('text')], run: ([t]) => str(t!).toUpperCase() });

function trimChars(args: Value[]): Set<string> | undefined {
  const chars = new Set<string>();
  for (const a of args.slice(1)) if ((a as string).length === 1) chars.add(a as string);
  return chars.size ? chars : undefined;
}

function trim(s: string, chars: Set<string> | undefined, start: boolean, end: boolean): string {
  if (!chars) return start && end ? s.trim() : start ? s.trimStart() : s.trimEnd();
  let a = 0;
  let b = s.length;
  if (start) while (a < b && chars.has(s[a]!)) a++;
  if (end) while (b > a && chars.has(s[b - 1]!)) b--;
  return s.slice(a, b);
}

for (const [name, start, end] of [
  ['Trim', true, true],
  ['TrimStart', true, false],
  ['TrimEnd', false, true],
] as const) {
  def({
    name,
    returns: 'text',
    params: [T('text')],
    rest: { name: 'characters', kind: 'text' },
    run: (args) => trim(str(args[0]!), trimChars(args), start, end),
  });
}

for (const [name, left] of [
  ['PadLeft', true],
  ['PadRight', false],
] as const) {
  def({
    name,
    returns: 'text',
    params: [T('text'), T('length'), T('character', true)],
    run: ([text, length, ch], _ctx, site) => {
      const n = intArg(site, length!, 'length');
      if (n < 0) site.fail(`$${name}: length cannot be negative`);
      if (n > 1024 * 1024) site.fail(`$${name}: length larger than 1048576`);
      const c = ch === undefined || ch === '' ? ' ' : str(ch);
      if (c.length !== 1) site.fail(`$${name}: the padding must be a single character, got "${short(c)}"`);
      return left ? str(text!).padStart(n, c) : str(text!).padEnd(n, c);
    },
  });
}

def({
  name: 'NewLine',
  returns: 'text',
  params: [T('type', true)],
  run: ([type], _ctx, site) => {
    const t = (type === undefined ? '' : str(type)).trim().toLowerCase();
    if (t === 'windows') return '\r\n';
    if (t === 'linux') return '\n';
    if (t === '' || t === 'current') return process.platform === 'win32' ? '\r\n' : '\n';
    return site.fail(`$NewLine: the type must be windows, linux or current, got "${short(t)}"`);
  },
});

// ---------------------------------------------------------------- lists

function listIndex(site: CallSite, list: Value[], v: Value, allowEnd = false): number {
  let i = intArg(site, v, 'index');
  if (i < 0) i += list.length;
  if (i < 0 || i > list.length || (i === list.length && !allowEnd)) {
    site.fail(
      `${site.sigil}${site.name}: index ${short(v as string)} is out of range (the list has ${list.length} item${list.length === 1 ? '' : 's'})`,
    );
  }
  return i;
}

def({ name: 'ListCount', returns: 'text', params: [L('list')], run: ([l]) => String((l as Value[]).length) });
def({
  name: 'ListIndexOf',
  returns: 'text',
  params: [L('list'), T('item')],
  run: ([l, item]) => {
    const list = l as Value[];
    for (let i = 0; i < list.length; i++) if (norm(list[i]) === item) return String(i);
    return '-1';
  },
});
def({
  name: 'ListItem',
  returns: 'any',
  params: [L('list'), T('index')],
  run: ([l, idx], _ctx, site) => {
    const list = l as Value[];
    const i = intArg(site, idx!, 'index');
    if (i < 0 || i >= list.length) {
      site.fail(`${site.sigil}ListItem: index ${i} is out of range (the list has ${list.length} item${list.length === 1 ? '' : 's'})`);
    }
    return norm(list[i]);
  },
});
def({
  name: 'ListConcat',
  returns: 'list',
  params: [],
  rest: { name: 'lists', kind: 'list' },
  run: (args) => ([] as Value[]).concat(...(args as Value[][])),
});
def({
  name: 'ListInsert',
  returns: 'list',
  params: [L('list'), A('item'), T('index', true)],
  run: ([l, item, idx], _ctx, site) => {
    const list = [...(l as Value[])];
    const i = idx === undefined || idx === '' ? list.length : listIndex(site, list, idx, true);
    list.splice(i, 0, item!);
    return list;
  },
});
def({
  name: 'ListRemove',
  returns: 'list',
  params: [L('list'), T('index')],
  run: ([l, idx], _ctx, site) => {
    const list = [...(l as Value[])];
    list.splice(listIndex(site, list, idx!), 1);
    return list;
  },
});
def({
  name: 'ListSet',
  returns: 'list',
  params: [L('list'), T('index'), A('item')],
  run: ([l, idx, item], _ctx, site) => {
    const list = [...(l as Value[])];
    let i = intArg(site, idx!, 'index');
    if (i < 0) i += list.length;
    if (i < 0) site.fail(`@ListSet: index ${short(idx as string)} is out of range`);
    if (i > 100000) site.fail('@ListSet: index larger than 100000');
    while (list.length < i) list.push('');
    list[i] = item!;
    return list;
  },
});
def({
  name: 'Range',
  returns: 'list',
  params: [T('start'), T('count')],
  run: ([start, count], _ctx, site) => {
    const s = intArg(site, start!, 'start');
    const c = intArg(site, count!, 'count');
    if (c < 0) site.fail('@Range: count cannot be negative');
    if (c > 100000) site.fail('@Range: count larger than 100000');
    return Array.from({ length: c }, (_, i) => String(s + i));
  },
});

// ---------------------------------------------------------------- maps

def({
  name: 'MapItem',
  returns: 'any',
  params: [M('map'), T('key')],
  run: ([m, key], _ctx, site) => {
    const v = mapGet(m as MapValue, str(key!));
    if (v === undefined) return site.fail(`${site.sigil}MapItem: the map has no key "${short(str(key!))}"`);
    return v;
  },
});
def({ name: 'MapKeys', returns: 'list', params: [M('map')], run: ([m]) => Object.keys(m as MapValue) });
for (const [name, mode] of [
  ['MapAdd', 'add'],
  ['MapSet', 'set'],
] as const) {
  def({
    name,
    returns: 'map',
    params: [M('map'), T('key'), A('value')],
    run: ([m, key, value], _ctx, site) => {
      const out: MapValue = { ...(m as MapValue) };
      const k = str(key!);
      const existing = Object.keys(out).find((x) => x.toLowerCase() === k.toLowerCase());
      if (existing !== undefined) {
        if (mode === 'add') site.fail(`%MapAdd: the map already has the key "${short(k)}"`);
        delete out[existing];
      }
      mapSet(out, k, value!);
      return out;
    },
  });
}
def({
  name: 'MapRemove',
  returns: 'map',
  params: [M('map'), T('key')],
  run: ([m, key]) => {
    const out: MapValue = { ...(m as MapValue) };
    const k = str(key!).toLowerCase();
    for (const x of Object.keys(out)) if (x.toLowerCase() === k) delete out[x];
    return out;
  },
});

// ---------------------------------------------------------------- math

function num(site: CallSite, v: Value, what: string): number {
  const s = (v as string).trim();
  if (!parseDecimal(s)) site.fail(`${site.sigil}${site.name}: ${what} must be a number, got "${short(s)}"`);
  return Number(s.replace(/,/g, ''));
}

def({
  name: 'Expr',
  returns: 'text',
  params: [T('expression')],
  run: ([e], _ctx, site) => {
    try {
      return formatNumber(evaluateArithmetic(str(e!)));
    } catch (err) {
      return site.fail(`$Expr: ${(err as Error).message}`);
    }
  },
});
def({ name: 'Abs', returns: 'text', params: [T('value')], run: ([v], _c, site) => formatNumber(Math.abs(num(site, v!, 'value'))) });
def({ name: 'Ceiling', returns: 'text', params: [T('value')], run: ([v], _c, site) => formatNumber(Math.ceil(num(site, v!, 'value'))) });
def({ name: 'Floor', returns: 'text', params: [T('value')], run: ([v], _c, site) => formatNumber(Math.floor(num(site, v!, 'value'))) });
def({
  name: 'Increment',
  returns: 'text',
  params: [T('value'), T('amount', true)],
  run: ([v, a], _c, site) => formatNumber(num(site, v!, 'value') + (a === undefined || a === '' ? 1 : num(site, a, 'amount'))),
});
def({
  name: 'Decrement',
  returns: 'text',
  params: [T('value'), T('amount', true)],
  run: ([v, a], _c, site) => formatNumber(num(site, v!, 'value') - (a === undefined || a === '' ? 1 : num(site, a, 'amount'))),
});

// ---------------------------------------------------------------- dates

for (const [name, utc] of [
  ['Date', false],
  ['DateUtc', true],
] as const) {
  def({
    name,
    returns: 'text',
    params: [T('format', true)],
    run: ([format], ctx, site) => {
      const now = ctx.now ? ctx.now() : new Date();
      const f = format === undefined || format === '' ? 'yyyy-MM-ddTHH:mm:ss' : str(format);
      if (f.length > 200) site.fail(`$${name}: format longer than 200 characters`);
      try {
        return formatDate(now, f, utc);
      } catch (err) {
        return site.fail(`$${name}: ${(err as Error).message}`);
      }
    },
  });
}

// ---------------------------------------------------------------- variables

function resolveByName(ctx: Ctx, site: CallSite, rawName: string, type: string): Value | undefined {
  let name = rawName.trim();
  let sigil = '';
  if (/^[$@%]/.test(name)) {
    sigil = name[0]!;
    name = name.slice(1);
  }
  const lname = name.toLowerCase();
  const want: Kind | undefined =
    type === 'scalar'
      ? 'text'
      : type === 'vector' || type === 'list'
        ? 'list'
        : type === 'map'
          ? 'map'
          : sigil === '$'
            ? 'text'
            : sigil === '@'
              ? 'list'
              : sigil === '%'
                ? 'map'
                : undefined;
  for (let i = site.scope.length - 1; i >= 0; i--) {
    const local = site.scope[i]!;
    if (local.lname === lname) {
      const v = ctx.locals[local.slot];
      if (v !== undefined && (want === undefined || kindOf(v) === want)) return v;
    }
  }
  if (!name) return undefined;
  const v = lookupVar(ctx, name, lname);
  if (v === undefined || (want !== undefined && kindOf(v) !== want)) return undefined;
  return v;
}

function typeArg(site: CallSite, t: Value | undefined): string {
  const type = t === undefined ? '' : str(t).trim().toLowerCase();
  if (!['', 'any', 'scalar', 'vector', 'list', 'map'].includes(type)) {
    site.fail(`${site.sigil}${site.name}: the type must be any, scalar, vector or map, got "${short(type)}"`);
  }
  return type;
}

def({
  name: 'IsVariableDefined',
  returns: 'text',
  params: [T('name'), T('type', true)],
  run: ([name, type], ctx, site) => scriptBool(resolveByName(ctx, site, str(name!), typeArg(site, type)) !== undefined),
});

def({
  name: 'GetVariableValue',
  returns: 'any',
  params: [T('name'), T('type', true)],
  run: ([name, type], ctx, site) => {
    const v = resolveByName(ctx, site, str(name!), typeArg(site, type));
    if (v === undefined) return site.fail(`${site.sigil}GetVariableValue: variable "${short(str(name!))}" is not defined`);
    return v;
  },
});

// ---------------------------------------------------------------- ProGet's event functions

/** The event's variable `name` (any spelling), or undefined. */
function eventVar(ctx: Ctx, name: string): Value | undefined {
  return lookupVar(ctx, name, name.toLowerCase());
}

def({
  // ProGet: any metadata property of the package; here from the event's `PackageProperties` map (when the
  // sender puts one in the event), else the default; without a default a missing property is an error
  name: 'PackageProperty',
  returns: 'text',
  params: [T('name'), T('defaultValue', true)],
  run: ([name, fallback], ctx, site) => {
    const props = eventVar(ctx, 'PackageProperties');
    const v = props !== undefined && isMap(props) ? mapGet(props, str(name!).trim()) : undefined;
    if (typeof v === 'string') return v;
    if (v !== undefined) site.fail(`$PackageProperty: the property "${short(str(name!))}" is ${kindName(kindOf(v))}, not text`);
    if (fallback !== undefined) return str(fallback);
    return site.fail(
      `$PackageProperty: the package has no property "${short(str(name!))}"` +
        (props === undefined ? ' (the event carries no PackageProperties)' : '') +
        '; give a default as the second argument',
    );
  },
});

/** An issue counts as closed when its `Resolved` (or `Closed`) is true. */
function issueClosed(issue: Value): boolean {
  if (!isMap(issue)) return false;
  for (const key of ['Resolved', 'Closed']) {
    const v = mapGet(issue, key);
    if (typeof v === 'string' && v.trim().toLowerCase() === 'true') return true;
  }
  return false;
}

def({
  // ProGet: `@BuildIssues(includeClosed)`; the event's @BuildIssues, without closed (resolved) issues unless asked
  name: 'BuildIssues',
  returns: 'list',
  params: [T('includeClosed', true)],
  run: ([includeClosed], ctx, site) => {
    const issues = eventVar(ctx, 'BuildIssues');
    if (!Array.isArray(issues)) {
      return site.fail(
        issues === undefined
          ? '@BuildIssues: the event has no build issues (only Issues Opened on Build has them)'
          : `@BuildIssues: the event's BuildIssues is ${kindName(kindOf(norm(issues)))}, not a list`,
      );
    }
    return boolArg(site, includeClosed, 'includeClosed') ? issues : issues.filter((i) => !issueClosed(norm(i)));
  },
});

export function isMapValue(v: Value): boolean {
  return isMap(v);
}
