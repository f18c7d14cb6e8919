/**
 * OtterScript engine: ProGet's template and condition language.
 *
 *   const render = compileTemplate('$ToJson(%(package: $PackageId, feed: $FeedName))');
 *   render(event.vars)                       // '{"package":"MyCorp.CoolUtils","feed":"internal-utils"}'
 *   compilePredicate('$Compare($VulnerabilityScore, >=, 7.5)')(event.vars)   // true
 *
 * Compile once (deploy time), run many: compiled functions hold closures only. Every problem is an
 * `OtterScriptError` with line, column and an excerpt.
 */
import type { Vars } from '../events/types';
import { type OutputEscaper, compilePredicateAst, compileTemplateAst } from './compiler';
import { OtterScriptError } from './errors';
import { parsePredicate, parseTemplate } from './parser';
import { type Ctx, MAX_LOOP_ITERATIONS, MAX_WORK, type RenderOptions } from './values';

export { OtterScriptError } from './errors';
export type { OutputEscaper } from './compiler';

export interface CompileOptions {
  /** Escapes every value the template outputs (its own text stays as written): see OutputEscaper. */
  escape?: OutputEscaper;
}
export { defaultTemplates } from './defaults';
export type { DefaultTemplates } from './defaults';
export type { RenderOptions } from './values';
export { functionNames } from './functions';
export { MAX_PATTERN_LENGTH, MAX_REGEX_INPUT } from './regex';
export { MAX_DEPTH, parseTemplate, parsePredicate } from './parser';
export { MAX_SOURCE_LENGTH } from './lexer';
export { MAX_OUTPUT_LENGTH } from './compiler';
export { MAX_LOOP_ITERATIONS, MAX_WORK } from './values';
export type { TemplateAst, PredicateAst } from './ast';

/** A compiled template: renders the variables of an event to text. */
export type CompiledTemplate = ((vars: Vars, options?: RenderOptions) => string) & { readonly source: string };
/** A compiled predicate: evaluates to true or false over the variables of an event. */
export type CompiledPredicate = ((vars: Vars, options?: RenderOptions) => boolean) & { readonly source: string };

function makeCtx(vars: Vars, options: RenderOptions | undefined): Ctx {
  if (typeof vars !== 'object' || vars === null || Array.isArray(vars)) {
    throw new TypeError(
      `OtterScript variables must be an object of name → value, got ${vars === null ? 'null' : Array.isArray(vars) ? 'an array' : typeof vars}`,
    );
  }
  return { vars, index: undefined, locals: [], now: options?.now, budget: MAX_LOOP_ITERATIONS, work: MAX_WORK };
}

/**
 * Compiles a text template (plain text with `$Variables`, `$Functions(…)`, `<% foreach %>` and
 * `<% if %>` tags). Throws OtterScriptError on a syntax error, an unknown function or a bad
 * argument count; the returned function throws OtterScriptError on run-time problems (an unknown
 * variable, a list where text is expected…).
 */
export function compileTemplate(source: string, options?: CompileOptions): CompiledTemplate {
  const fn = compileTemplateAst(parseTemplate(source), options?.escape);
  const render = (vars: Vars, options?: RenderOptions): string => fn(makeCtx(vars, options));
  Object.defineProperty(render, 'source', { value: source, enumerable: true });
  return render as CompiledTemplate;
}

/**
 * Compiles a predicate (ProGet's "advanced expression": `== != && || !`, parentheses, `< > <= >=`
 * comparing like $Compare, and functions such as $Compare and $MatchesRegex). An empty predicate
 * is always true.
 */
export function compilePredicate(source: string): CompiledPredicate {
  const fn = compilePredicateAst(parsePredicate(source));
  const evaluate = (vars: Vars, options?: RenderOptions): boolean => fn(makeCtx(vars, options));
  Object.defineProperty(evaluate, 'source', { value: source, enumerable: true });
  return evaluate as CompiledPredicate;
}

const CACHE_SIZE = 100;
const templateCache = new Map<string, CompiledTemplate>();
const predicateCache = new Map<string, CompiledPredicate>();

function cached<T>(cache: Map<string, T>, source: string, compile: (s: string) => T): T {
  let hit = cache.get(source);
  if (hit === undefined) {
    hit = compile(source);
    if (typeof source === 'string' && source.length <= 64 * 1024) {
      if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(source, hit);
    }
  }
  return hit;
}

/** Compiles (with a small cache) and renders a template in one call. */
export function renderTemplate(source: string, vars: Vars, options?: RenderOptions): string {
  return cached(templateCache, source, compileTemplate)(vars, options);
}

/** Compiles (with a small cache) and evaluates a predicate in one call. */
export function evaluatePredicate(source: string, vars: Vars, options?: RenderOptions): boolean {
  return cached(predicateCache, source, compilePredicate)(vars, options);
}

/** Checks a template or predicate without running it: undefined when valid, else the error. */
export function validate(kind: 'template' | 'predicate', source: string): OtterScriptError | undefined {
  try {
    if (kind === 'template') compileTemplate(source);
    else compilePredicate(source);
    return undefined;
  } catch (err) {
    if (err instanceof OtterScriptError) return err;
    throw err;
  }
}
