/**
 * Compiles the AST into closures, once; rendering runs the closures (no parsing, no eval).
 *
 * Resolution done at compile time: functions (unknown ones are errors here), arities, the sigil a
 * function is called with, loop variables (to slots). At run time: event variables (case-insensitive,
 * an unknown one is an error with a "did you mean" hint), value kinds, function arguments.
 */
import type { CmpOp, Expr, Pred, PredicateAst, Sigil, TNode, TemplateAst } from './ast';
import { type Dec, compareValues, parseDecimal, scriptBool } from './dotnet';
import { OtterScriptError } from './errors';
import { type CallSite, type FnDef, checkCompareOp, compareOp, getFunction, short } from './functions';
import { JsonValueError, jsonString, toJson } from './json';
import { type Regex, RegexLimitError, checkInput, compileRegex } from './regex';
import {
  type Ctx,
  type Kind,
  MAX_LOOP_ITERATIONS,
  MAX_WORK,
  type MapValue,
  type Value,
  kindName,
  kindOf,
  lookupVar,
  mapGet,
  mapSet,
  norm,
  sizeOf,
  suggest,
} from './values';
import { MAX_DEPTH } from './parser';

/** Largest output a template may produce. */
export const MAX_OUTPUT_LENGTH = 16 * 1024 * 1024;

type Fn = (ctx: Ctx) => Value;
type SFn = (ctx: Ctx) => string;
type PFn = (ctx: Ctx) => boolean;

interface Local {
  lname: string;
  name: string;
  sigil: Sigil;
  slot: number;
}

const SIGIL_KIND: Record<Sigil, Kind> = { $: 'text', '@': 'list', '%': 'map' };
const KIND_SIGIL: Record<Kind, Sigil> = { text: '$', list: '@', map: '%' };

/** Takes `units` from the render's work budget; over it, the render stops with an OtterScriptError at `pos`. */
function charge(ctx: Ctx, units: number, src: string, pos: number): void {
  if ((ctx.work -= units) < 0) {
    throw new OtterScriptError(
      `The template does more work than allowed (${MAX_WORK / 1048576}M units: characters produced, function calls and the text they process)`,
      src,
      pos,
    );
  }
}

function ordinal(n: number): string {
  return n === 1 ? '1st' : n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
}

/**
 * Escaping of the values a template outputs, chosen per channel when the template is compiled (Slack
 * mrkdwn, Teams markdown, HTML). The template's own text is never escaped; every value it outputs
 * (a variable, an index, a function result) is.
 */
export interface OutputEscaper {
  /**
   * Called at compile time for each value the template outputs, with the template's literal text
   * before it (earlier values shown as U+0000), so that the escaper can see the context (e.g. an HTML
   * attribute); returns the function that escapes that value at run time.
   */
  at(before: string): (value: string) => string;
  /** Functions (lowercase names) whose result is already escaped for the channel, e.g. `htmlencode`. */
  raw?: ReadonlySet<string>;
}

class Compiler {
  private scope: Local[] = [];
  /** Compiling a template (not a predicate): unknown-variable errors then suggest escaping. */
  private inTemplate = false;
  /** The template's literal text so far, in document order (for the escaper's context). */
  private literal = '';

  constructor(
    private readonly src: string,
    private readonly escaper?: OutputEscaper,
  ) {}

  fail(reason: string, pos: number): never {
    throw new OtterScriptError(reason, this.src, pos);
  }

  // ---------------------------------------------------------------- templates

  template(ast: TemplateAst): SFn {
    this.inTemplate = true;
    return this.body(ast.body, 0);
  }

  private body(nodes: TNode[], depth: number): SFn {
    if (depth > MAX_DEPTH) this.fail(`Blocks nested deeper than ${MAX_DEPTH} levels`, nodes[0]?.pos ?? 0);
    const fns = nodes.map((n) => this.node(n, depth));
    if (fns.length === 0) return () => '';
    if (fns.length === 1) return fns[0]!;
    if (fns.length === 2) {
      const [a, b] = fns as [SFn, SFn];
      return (ctx) => a(ctx) + b(ctx);
    }
    return (ctx) => {
      let s = '';
      for (let i = 0; i < fns.length; i++) s += fns[i]!(ctx);
      return s;
    };
  }

  private node(n: TNode, depth: number): SFn {
    switch (n.k) {
      case 'out': {
        const f = this.escaper ? this.escapedOut(n.expr, this.escaper) : this.scalar(n.expr);
        const src = this.src;
        const pos = n.expr.pos;
        return (ctx) => {
          const s = f(ctx);
          charge(ctx, s.length, src, pos);
          return s;
        };
      }
      case 'if': {
        const pred = this.pred(n.pred);
        const then = this.body(n.then, depth + 1);
        const otherwise = n.else ? this.body(n.else, depth + 1) : () => '';
        return (ctx) => (pred(ctx) ? then(ctx) : otherwise(ctx));
      }
      case 'foreach': {
        const list = this.expr(n.list);
        const listDesc = describe(n.list);
        const slot = this.scope.length;
        const local: Local = { lname: n.name.toLowerCase(), name: n.name, sigil: n.sigil, slot };
        this.scope.push(local);
        const body = this.body(n.body, depth + 1);
        this.scope.pop();
        const want = SIGIL_KIND[n.sigil];
        const src = this.src;
        const pos = n.pos;
        const varName = n.sigil + n.name;
        return (ctx) => {
          const l = list(ctx);
          if (!Array.isArray(l)) {
            throw new OtterScriptError(`foreach needs a list, but ${listDesc} is ${kindName(kindOf(l))}`, src, pos);
          }
          const saved = ctx.locals[slot];
          let out = '';
          for (let i = 0; i < l.length; i++) {
            const raw = l[i];
            const item = typeof raw === 'string' ? raw : norm(raw);
            const k = kindOf(item);
            if (k !== want) {
              throw new OtterScriptError(
                `Item ${i} of ${listDesc} is ${kindName(k)}: the loop variable must be written ${KIND_SIGIL[k]}${varName.slice(1)}, not ${varName}`,
                src,
                pos,
              );
            }
            if (--ctx.budget < 0) {
              throw new OtterScriptError(`The template runs more than ${MAX_LOOP_ITERATIONS} loop iterations`, src, pos);
            }
            charge(ctx, 1, src, pos);
            ctx.locals[slot] = item;
            out += body(ctx);
            if (out.length > MAX_OUTPUT_LENGTH) {
              throw new OtterScriptError(`The template output is larger than ${MAX_OUTPUT_LENGTH / 1048576} MiB`, src, pos);
            }
          }
          ctx.locals[slot] = saved;
          return out;
        };
      }
    }
  }

  /** A template piece with every value in it escaped; its literal text kept as written. */
  private escapedOut(e: Expr, escaper: OutputEscaper): SFn {
    const fns = (e.k === 'concat' ? e.parts : [e]).map((p): SFn => {
      if (p.k === 'text') {
        this.literal += p.value;
        const v = p.value;
        return () => v;
      }
      const f = this.scalar(p);
      const esc = escaper.at(this.literal);
      this.literal += '\u0000';
      if (p.k === 'call' && escaper.raw?.has(p.name.toLowerCase())) return f;
      return (ctx) => esc(f(ctx));
    });
    if (fns.length === 1) return fns[0]!;
    return (ctx) => {
      let s = '';
      for (let i = 0; i < fns.length; i++) s += fns[i]!(ctx);
      return s;
    };
  }

  // ---------------------------------------------------------------- predicates

  predicate(ast: PredicateAst): PFn {
    return this.pred(ast.pred);
  }

  pred(p: Pred): PFn {
    switch (p.k) {
      case 'const': {
        const v = p.value;
        return () => v;
      }
      case 'and': {
        const items = p.items.map((x) => this.pred(x));
        if (items.length === 2) {
          const [a, b] = items as [PFn, PFn];
          return (ctx) => a(ctx) && b(ctx);
        }
        return (ctx) => {
          for (let i = 0; i < items.length; i++) if (!items[i]!(ctx)) return false;
          return true;
        };
      }
      case 'or': {
        const items = p.items.map((x) => this.pred(x));
        if (items.length === 2) {
          const [a, b] = items as [PFn, PFn];
          return (ctx) => a(ctx) || b(ctx);
        }
        return (ctx) => {
          for (let i = 0; i < items.length; i++) if (items[i]!(ctx)) return true;
          return false;
        };
      }
      case 'not': {
        const inner = this.pred(p.operand);
        return (ctx) => !inner(ctx);
      }
      case 'truth': {
        const v = this.scalar(p.value);
        const src = this.src;
        const pos = p.pos;
        const desc = describe(p.value);
        if (p.value.k === 'text') {
          this.fail(`A condition must be true or false; "${short(p.value.value)}" is neither (compare it with == or !=)`, pos);
        }
        return (ctx) => {
          const s = v(ctx);
          if (s === 'True' || s === 'true') return true;
          if (s === 'False' || s === 'false') return false;
          const t = s.trim().toLowerCase();
          if (t === 'true') return true;
          if (t === 'false') return false;
          throw new OtterScriptError(`A condition must be true or false, but ${desc} is "${short(s)}" (compare it with == or !=)`, src, pos);
        };
      }
      case 'cmp':
        return this.cmp(p.op, p.left, p.right);
    }
  }

  private cmp(op: CmpOp, left: Expr, right: Expr): PFn {
    const a = this.scalar(left);
    if (op === '==' || op === '!=') {
      if (right.k === 'text') {
        const c = right.value;
        return op === '==' ? (ctx) => a(ctx) === c : (ctx) => a(ctx) !== c;
      }
      const b = this.scalar(right);
      return op === '==' ? (ctx) => a(ctx) === b(ctx) : (ctx) => a(ctx) !== b(ctx);
    }
    if (right.k === 'text') {
      const c = right.value;
      const dec: Dec | null = parseDecimal(c) ?? null;
      return (ctx) => compareOp(op, compareValues(a(ctx), c, dec ?? undefined));
    }
    const b = this.scalar(right);
    return (ctx) => compareOp(op, compareValues(a(ctx), b(ctx)));
  }

  // ---------------------------------------------------------------- expressions

  /** An expression that must produce text. */
  scalar(e: Expr): SFn {
    const f = this.expr(e);
    if (producesText(e)) return f as SFn;
    const src = this.src;
    const desc = describe(e);
    return (ctx) => {
      const v = f(ctx);
      if (typeof v === 'string') return v;
      throw new OtterScriptError(`${desc} is ${kindName(kindOf(v))}, not text; use $ToJson(…) or $Join(…) to turn it into text`, src, e.pos);
    };
  }

  expr(e: Expr): Fn {
    switch (e.k) {
      case 'text': {
        const v = e.value;
        return () => v;
      }
      case 'concat': {
        const parts = e.parts.map((p) => this.scalar(p));
        if (parts.length === 2) {
          const [a, b] = parts as [SFn, SFn];
          return (ctx) => a(ctx) + b(ctx);
        }
        if (parts.length === 3) {
          const [a, b, c] = parts as [SFn, SFn, SFn];
          return (ctx) => a(ctx) + b(ctx) + c(ctx);
        }
        return (ctx) => {
          let s = '';
          for (let i = 0; i < parts.length; i++) s += parts[i]!(ctx);
          return s;
        };
      }
      case 'var':
        return this.variable(e.sigil, e.name, e.pos);
      case 'call':
        return this.call(e);
      case 'index':
        return this.index(e);
      case 'list': {
        const items = e.items.map((x) => this.expr(x));
        return (ctx) => {
          const out = new Array<Value>(items.length);
          for (let i = 0; i < items.length; i++) out[i] = items[i]!(ctx);
          return out;
        };
      }
      case 'map': {
        const keys = e.entries.map((x) => x.key);
        const values = e.entries.map((x) => this.expr(x.value));
        return (ctx) => {
          const out: MapValue = {};
          for (let i = 0; i < keys.length; i++) mapSet(out, keys[i]!, values[i]!(ctx));
          return out;
        };
      }
    }
  }

  private variable(sigil: Sigil, name: string, pos: number): Fn {
    const lname = name.toLowerCase();
    const src = this.src;
    const want = SIGIL_KIND[sigil];
    for (let i = this.scope.length - 1; i >= 0; i--) {
      const local = this.scope[i]!;
      if (local.lname === lname && local.sigil === sigil) {
        const slot = local.slot;
        return (ctx) => ctx.locals[slot]!;
      }
    }
    const scopeNames = this.scope.map((l) => l.sigil + l.name);
    const inTemplate = this.inTemplate;
    const unknown = (ctx: Ctx): never => {
      const hint = suggest(name, [...Object.keys(ctx.vars), ...scopeNames.map((n) => n.slice(1))]);
      const literal = inTemplate ? ` (for a literal "${sigil}${name}", escape the sigil: \`${sigil}${name})` : '';
      throw new OtterScriptError(`Unknown variable ${sigil}${name}` + (hint ? `; did you mean ${sigil}${hint}?` : literal), src, pos);
    };
    const wrongKind = (v: Value): never => {
      const k = kindOf(v);
      throw new OtterScriptError(`${sigil}${name} is ${kindName(k)}, not ${kindName(want)}: write ${KIND_SIGIL[k]}${name}`, src, pos);
    };
    // ProGet: a name without parentheses is a variable first, else the function of that name
    // (`$DateUtc`, as Inedo's reference writes it)
    const fallback = this.functionFallback(sigil, name, pos);
    const missing = fallback ?? unknown;
    if (sigil === '$') {
      return (ctx) => {
        const v = lookupVar(ctx, name, lname);
        if (typeof v === 'string') return v;
        return v === undefined ? missing(ctx) : wrongKind(v);
      };
    }
    return (ctx) => {
      const v = lookupVar(ctx, name, lname);
      if (v === undefined) return missing(ctx);
      if (kindOf(v) !== want) return wrongKind(v);
      return v;
    };
  }

  /** The call without arguments of the function `name`, when there is one that takes none and returns the sigil's kind. */
  private functionFallback(sigil: Sigil, name: string, pos: number): Fn | undefined {
    const fn = getFunction(name);
    if (!fn || fn.params.some((p) => !p.optional) || (fn.returns !== 'any' && fn.returns !== SIGIL_KIND[sigil])) return undefined;
    return this.call({ k: 'call', pos, sigil, name, args: [], end: pos + name.length + 1 });
  }

  private index(e: Extract<Expr, { k: 'index' }>): Fn {
    const target = this.expr(e.target);
    const key = this.scalar(e.key);
    const src = this.src;
    const pos = e.pos;
    const desc = describe(e.target);
    return (ctx) => {
      const t = target(ctx);
      const k = key(ctx);
      if (typeof t === 'string') throw new OtterScriptError(`${desc} is text and cannot be indexed with [${short(k)}]`, src, pos);
      if (Array.isArray(t)) {
        if (!/^\d{1,9}$/.test(k)) {
          throw new OtterScriptError(`A list index must be a whole number of 0 or more, got "${short(k)}"`, src, pos);
        }
        const i = Number(k);
        if (i >= t.length) {
          throw new OtterScriptError(`Index ${i} is out of range: ${desc} has ${t.length} item${t.length === 1 ? '' : 's'}`, src, pos);
        }
        const v = t[i];
        return typeof v === 'string' ? v : norm(v);
      }
      const v = mapGet(t, k);
      if (v === undefined) {
        const keys = Object.keys(t);
        const hint = suggest(k, keys);
        throw new OtterScriptError(
          `${desc} has no key "${short(k)}"` + (hint ? `; did you mean "${hint}"?` : keys.length ? ` (keys: ${short(keys.join(', '))})` : ''),
          src,
          pos,
        );
      }
      return v;
    };
  }

  private call(e: Extract<Expr, { k: 'call' }>): Fn {
    const src = this.src;
    const fn = getFunction(e.name);
    if (!fn) {
      if (e.name.toLowerCase() === 'eval') {
        this.fail('$Eval is not supported: event data is never run as template code', e.pos);
      }
      // ProGet: `$FeedName()` (empty argument list) forces the built-in variable
      if (e.args.length === 0) return this.variable(e.sigil, e.name, e.pos);
      this.fail(`Unknown function ${e.sigil}${e.name}(…)`, e.pos);
    }
    const name = fn.name;
    const returns = fn.returns;
    if (returns !== 'any' && SIGIL_KIND[e.sigil] !== returns) {
      this.fail(`${name} returns ${kindName(returns)}: call it as ${KIND_SIGIL[returns]}${name}(…)`, e.pos);
    }
    const min = fn.params.filter((p) => !p.optional).length;
    const max = fn.rest ? Infinity : fn.params.length;
    if (e.args.length < min || e.args.length > max) {
      const sig = fn.params.map((p) => (p.optional ? `[${p.name}]` : p.name)).concat(fn.rest ? [`${fn.rest.name}…`] : []);
      this.fail(
        `${e.sigil}${name} takes ${min === max ? min : max === Infinity ? `at least ${min}` : `${min} to ${max}`} argument${max === 1 ? '' : 's'} (${sig.join(', ')}), got ${e.args.length}`,
        e.pos,
      );
    }
    const site: CallSite = {
      name,
      sigil: e.sigil,
      fail: (reason: string): never => {
        throw new OtterScriptError(reason, src, e.pos);
      },
      scope: this.scope.map((l) => ({ lname: l.lname, sigil: l.sigil, slot: l.slot })),
    };

    const special = this.specialCall(fn, e, site);
    if (special) {
      return (ctx) => {
        const v = special(ctx);
        charge(ctx, 1 + sizeOf(v), src, e.pos);
        return v;
      };
    }

    const argFns = e.args.map((a, i) => this.argument(fn, a, i, site));
    const run = fn.run;
    const pos = e.pos;
    // the work of a call: 1, the size of its arguments (before the call) and of its result (after)
    const f: Fn = (ctx) => {
      const args = new Array<Value>(argFns.length);
      let units = 1;
      for (let i = 0; i < argFns.length; i++) units += sizeOf((args[i] = argFns[i]!(ctx)));
      charge(ctx, units, src, pos);
      const v = run(args, ctx, site);
      charge(ctx, sizeOf(v), src, pos);
      return v;
    };
    if (returns !== 'any') return f;
    const want = SIGIL_KIND[e.sigil];
    return (ctx) => {
      const v = f(ctx);
      const k = kindOf(v);
      if (k !== want) site.fail(`${e.sigil}${name} returned ${kindName(k)}: call it as ${KIND_SIGIL[k]}${name}(…)`);
      return v;
    };
  }

  /** An argument closure that checks the kind the parameter wants. */
  private argument(fn: FnDef, a: Expr, i: number, site: CallSite): Fn {
    const param = fn.params[i] ?? fn.rest!;
    const f = this.expr(a);
    if (param.kind === 'any') return f;
    if (param.kind === 'text' && producesText(a)) return f;
    const want = param.kind;
    const label = `${site.sigil}${site.name}: the ${ordinal(i + 1)} argument (${param.name})`;
    return (ctx) => {
      const v = f(ctx);
      const k = kindOf(v);
      if (k !== want) site.fail(`${label} must be ${kindName(want)}, got ${kindName(k)}`);
      return v;
    };
  }

  /** Compile-time specializations of hot or checkable calls. */
  private specialCall(fn: FnDef, e: Extract<Expr, { k: 'call' }>, site: CallSite): Fn | undefined {
    const args = e.args;
    switch (fn.name) {
      case 'ToJson': {
        const w = this.jsonWriter(args[0]!, site, 0);
        return w;
      }
      case 'Compare': {
        const op = args[1]!;
        const b = args[2]!;
        if (op.k !== 'text' || b.k !== 'text' || args.length !== 3) return undefined;
        const o = op.value.trim();
        checkCompareOp(site, o);
        const a = this.scalar(args[0]!);
        const c = b.value;
        const dec = parseDecimal(c) ?? null;
        return (ctx) => scriptBool(compareOp(o, compareValues(a(ctx), c, dec)));
      }
      case 'MatchesRegex': {
        const p = args[1]!;
        if (p.k !== 'text') return undefined;
        let re: Regex;
        try {
          re = compileRegex(p.value);
        } catch (err) {
          if (err instanceof RegexLimitError) this.fail(`$MatchesRegex: ${err.message}`, p.pos);
          throw err;
        }
        const text = this.scalar(args[0]!);
        return (ctx) => {
          const t = text(ctx);
          try {
            checkInput(t);
          } catch (err) {
            site.fail(`$MatchesRegex: ${(err as Error).message}`);
          }
          return scriptBool(re.test(t));
        };
      }
      case 'RegexReplace':
      case 'RegexFind': {
        const p = args[1]!;
        if (p.k === 'text') {
          try {
            compileRegex(p.value);
          } catch (err) {
            if (err instanceof RegexLimitError) this.fail(`${e.sigil}${fn.name}: ${err.message}`, p.pos);
            throw err;
          }
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /**
   * `$ToJson(x)`: writes JSON straight from map and list literals (keys escaped once, at compile
   * time) and serializes other values at run time.
   */
  private jsonWriter(e: Expr, site: CallSite, depth: number): SFn {
    if (e.k === 'map' && depth < 32 && new Set(e.entries.map((x) => x.key)).size === e.entries.length) {
      const heads = e.entries.map((x, i) => (i ? ',' : '{') + jsonString(x.key) + ':');
      const values = e.entries.map((x) => this.jsonWriter(x.value, site, depth + 1));
      if (values.length === 0) return () => '{}';
      return (ctx) => {
        let s = '';
        for (let i = 0; i < values.length; i++) s += heads[i]! + values[i]!(ctx);
        return s + '}';
      };
    }
    if (e.k === 'list' && depth < 32) {
      const items = e.items.map((x) => this.jsonWriter(x, site, depth + 1));
      return (ctx) => {
        let s = '[';
        for (let i = 0; i < items.length; i++) s += (i ? ',' : '') + items[i]!(ctx);
        return s + ']';
      };
    }
    if (producesText(e)) {
      const f = this.expr(e) as SFn;
      return (ctx) => jsonString(f(ctx));
    }
    const f = this.expr(e);
    return (ctx) => {
      const v = f(ctx);
      if (typeof v === 'string') return jsonString(v);
      try {
        return toJson(v, depth);
      } catch (err) {
        if (err instanceof JsonValueError) site.fail(`$ToJson: ${err.message}`);
        throw err;
      }
    };
  }
}

/** Whether an expression always produces text (its closure checks that itself). */
function producesText(e: Expr): boolean {
  switch (e.k) {
    case 'text':
    case 'concat':
      return true;
    case 'var':
    case 'call':
      return e.sigil === '$';
    default:
      return false;
  }
}

/** How an expression is named in error messages. */
export function describe(e: Expr): string {
  switch (e.k) {
    case 'var':
      return e.sigil + e.name;
    case 'call':
      return `${e.sigil}${e.name}(…)`;
    case 'index':
      return e.key.k === 'text' ? `${describe(e.target)}${e.dot ? '.' + e.key.value : `[${e.key.value}]`}` : `${describe(e.target)}[…]`;
    case 'list':
      return 'the list @(…)';
    case 'map':
      return 'the map %(…)';
    case 'text':
      return `"${short(e.value)}"`;
    default:
      return 'the value';
  }
}

export function compileTemplateAst(ast: TemplateAst, escaper?: OutputEscaper): SFn {
  return new Compiler(ast.source, escaper).template(ast);
}

export function compilePredicateAst(ast: PredicateAst): PFn {
  return new Compiler(ast.source).predicate(ast);
}
