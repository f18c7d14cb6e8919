/**
 * Parser of OtterScript text templates and predicates into the AST of ./ast.ts.
 *
 * OtterScript strings are context-sensitive (an implicit string ends at `,` or `)` inside a call, at
 * an operator inside a predicate, nowhere inside template text), so the parser reads characters
 * directly, in one recursive-descent pass over the source; ./lexer.ts provides the tags-first
 * segmentation of templates and the character classes. Nesting is bounded (MAX_DEPTH): deep input
 * gives an OtterScriptError, never a stack overflow.
 */
import type { CmpOp, Expr, Pred, PredicateAst, Sigil, TNode, TemplateAst } from './ast';
import { OtterScriptError } from './errors';
import { MAX_SOURCE_LENGTH, isLetter, isWs, scanKey, scanName, segmentTemplate, swimSentinel } from './lexer';

/** Deepest nesting of calls, literals, parentheses and blocks. */
export const MAX_DEPTH = 64;

const enum Mode {
  /** template text: nothing stops it but the end of the range */
  Text,
  /** implicit string in a call argument, list item or map value: stops at `,` `)` or a newline */
  Arg,
  /** inside `[ … ]`: stops at `]` */
  Index,
  /** predicate operand: stops at an operator, `)` at depth 0 */
  Pred,
}

const C = {
  tab: 9,
  nl: 10,
  cr: 13,
  space: 32,
  bang: 33,
  dquote: 34,
  dollar: 36,
  percent: 37,
  amp: 38,
  squote: 39,
  lparen: 40,
  rparen: 41,
  comma: 44,
  dot: 46,
  colon: 58,
  lt: 60,
  eq: 61,
  gt: 62,
  at: 64,
  lbracket: 91,
  rbracket: 93,
  backtick: 96,
  lbrace: 123,
  pipe: 124,
  rbrace: 125,
} as const;

function checkSource(src: unknown, what: string): string {
  if (typeof src !== 'string') {
    throw new OtterScriptError(`The ${what} must be a string, got ${src === null ? 'null' : typeof src}`, '', 0);
  }
  if (src.length > MAX_SOURCE_LENGTH) {
    throw new OtterScriptError(`The ${what} is longer than ${MAX_SOURCE_LENGTH / 1024} KiB`, src.slice(0, 200), 0);
  }
  return src;
}

export function parseTemplate(source: unknown): TemplateAst {
  const src = checkSource(source, 'template');
  return new Parser(src).template();
}

export function parsePredicate(source: unknown): PredicateAst {
  const src = checkSource(source, 'condition');
  return new Parser(src).predicate();
}

interface Scanned {
  expr: Expr;
  next: number;
}

class Parser {
  private depth = 0;

  constructor(private readonly src: string) {}

  private fail(reason: string, at: number): never {
    throw new OtterScriptError(reason, this.src, at);
  }

  private enter(at: number): void {
    if (++this.depth > MAX_DEPTH) this.fail(`Nesting is deeper than ${MAX_DEPTH} levels`, at);
  }

  private leave(): void {
    this.depth--;
  }

  private c(i: number): number {
    return this.src.charCodeAt(i);
  }

  private skipWs(i: number, end: number): number {
    while (i < end && isWs(this.c(i))) i++;
    return i;
  }

  private describe(i: number, end: number): string {
    if (i >= end) return 'the end';
    const ch = this.src[i]!;
    return ch === '\n' ? 'a line break' : `"${ch}"`;
  }

  // ---------------------------------------------------------------- templates

  template(): TemplateAst {
    const src = this.src;
    const segments = segmentTemplate(src);
    const root: TNode[] = [];
    type Frame = { kind: 'foreach' | 'if'; node: TNode; body: TNode[]; inElse: boolean; pos: number };
    const stack: Frame[] = [];
    let current = root;
    for (const seg of segments) {
      if (seg.k === 'text') {
        const expr = this.textRange(seg.start, seg.end);
        if (!(expr.k === 'text' && expr.value === '')) current.push({ k: 'out', pos: seg.start, expr });
        continue;
      }
      const a = this.skipWs(seg.innerStart, seg.innerEnd);
      let b = seg.innerEnd;
      while (b > a && isWs(this.c(b - 1))) b--;
      const inner = src.slice(a, b);
      if (inner === '}') {
        const frame = stack.pop();
        if (!frame) this.fail('"<% } %>" closes no block', seg.start);
        this.leave();
        current = stack.length ? stack[stack.length - 1]!.body : root;
        continue;
      }
      if (/^}\s*else\s*\{$/.test(inner)) {
        const frame = stack[stack.length - 1];
        if (!frame || frame.kind !== 'if' || frame.inElse) {
          this.fail('"<% } else { %>" must follow "<% if … { %>"', seg.start);
        }
        frame.inElse = true;
        const elseBody: TNode[] = [];
        (frame.node as Extract<TNode, { k: 'if' }>).else = elseBody;
        frame.body = elseBody;
        current = elseBody;
        continue;
      }
      const word = /^[A-Za-z]+/.exec(inner)?.[0] ?? '';
      if (word === 'foreach' || word === 'if') {
        if (b <= a || this.c(b - 1) !== C.lbrace) {
          this.fail(`"<% ${word} … %>" must end with "{" (blocks close with "<% } %>")`, b);
        }
        this.enter(seg.start);
        const bodyEnd = b - 1;
        let node: TNode;
        const body: TNode[] = [];
        if (word === 'foreach') node = this.foreachTag(a + 7, bodyEnd, seg.start, body);
        else {
          const pred = this.predRange(a + 2, bodyEnd, 'if');
          node = { k: 'if', pos: seg.start, pred, then: body, else: undefined };
        }
        current.push(node);
        stack.push({ kind: word, node, body, inElse: false, pos: seg.start });
        current = body;
        continue;
      }
      if (/^(end|endforeach|endif)\b/i.test(inner)) {
        this.fail(`"<% ${inner} %>" is not OtterScript: blocks close with "<% } %>"`, a);
      }
      if (/^else\b/.test(inner)) this.fail('"else" must be written "<% } else { %>"', a);
      this.fail('A tag holds "foreach %item in @list {", "if condition {", "} else {" or "}"', a);
    }
    if (stack.length) {
      const open = stack[stack.length - 1]!;
      this.fail(`"<% ${open.kind} … { %>" is never closed with "<% } %>"`, open.pos);
    }
    return { kind: 'template', source: src, body: root };
  }

  private foreachTag(i: number, end: number, tagPos: number, body: TNode[]): TNode {
    const src = this.src;
    const start = this.skipWs(i, end);
    if (start === i) this.fail('Expected a loop variable after "foreach", e.g. foreach %p in @AffectedPackages', i);
    const sigil = src[start] as Sigil;
    if (sigil !== '$' && sigil !== '@' && sigil !== '%') {
      this.fail('Expected a loop variable after "foreach", e.g. foreach %p in @AffectedPackages', start);
    }
    const nameEnd = scanName(src, start + 1, end);
    if (nameEnd === start + 1) this.fail('Expected a variable name after the sigil', start + 1);
    const name = src.slice(start + 1, nameEnd);
    let j = this.skipWs(nameEnd, end);
    if (!(src.startsWith('in', j) && (j + 2 >= end || isWs(this.c(j + 2)) || this.c(j + 2) === C.at))) {
      this.fail('Expected "in" after the loop variable', j);
    }
    j = this.skipWs(j + 2, end);
    const ch = this.c(j);
    if (j >= end) this.fail('Expected a list after "in", e.g. @AffectedPackages', j);
    let list: Expr;
    let next: number;
    if (ch === C.at || ch === C.percent) ({ expr: list, next } = this.sigilExpr(j, end));
    else if (ch === C.dollar) {
      const d = this.dollar(j, end);
      if (!d) this.fail('Expected a list after "in", e.g. @AffectedPackages', j);
      ({ expr: list, next } = d);
    } else this.fail('Expected a list after "in", e.g. @AffectedPackages', j);
    next = this.skipWs(next, end);
    if (next < end) this.fail(`Unexpected ${this.describe(next, end)} after the list of "foreach"`, next);
    return { k: 'foreach', pos: tagPos, sigil, name, list, body };
  }

  /** Template text between tags: plain text with `$` expressions and backtick escapes. */
  private textRange(start: number, end: number): Expr {
    const parts: Expr[] = [];
    let i = start;
    // `@` and `%` are meaningful only at the start of a literal: here, the start of the template
    if (start === 0 && this.sigilStartsExpr(0, end)) {
      const s = this.sigilExpr(0, end);
      parts.push(s.expr);
      i = s.next;
    }
    const rest = this.scan(i, end, Mode.Text);
    parts.push(...flatten(rest.expr));
    return join(parts, start);
  }

  private sigilStartsExpr(i: number, end: number): boolean {
    const ch = this.c(i);
    if (ch !== C.at && ch !== C.percent) return false;
    if (i + 1 >= end) return false;
    const d = this.c(i + 1);
    return d === C.lparen || d === C.lbrace || isLetter(d);
  }

  // ---------------------------------------------------------------- scanning literal text

  /**
   * Reads interpolated text from `i` until the mode's delimiter (or `end`): literal characters,
   * backtick escapes and `$` expressions. Implicit strings (Arg, Pred) are trimmed.
   */
  private scan(i: number, end: number, mode: Mode): Scanned {
    const src = this.src;
    const start = i;
    const parts: Expr[] = [];
    let buf = '';
    let bufPos = i;
    let protect = 0; // length of buf that trimming must keep (escaped characters)
    let parens = 0;
    let runStart = i; // start of the current run of plain characters
    const flushRun = (to: number): void => {
      if (to > runStart) buf += src.slice(runStart, to);
    };
    const flush = (): void => {
      if (buf !== '') parts.push({ k: 'text', pos: bufPos, value: buf });
      buf = '';
      protect = 0;
    };
    while (i < end) {
      const ch = src.charCodeAt(i);
      if (mode !== Mode.Text) {
        if (mode === Mode.Arg) {
          if ((ch === C.comma || ch === C.rparen || ch === C.nl) && parens === 0) break;
          if (ch === C.lparen) parens++;
          else if (ch === C.rparen) parens--;
        } else if (mode === Mode.Index) {
          if (ch === C.rbracket) break;
          if (ch === C.nl) break;
        } else {
          // Pred
          if (ch === C.rparen && parens === 0) break;
          if (ch === C.lparen) parens++;
          else if (ch === C.rparen) parens--;
          else if (ch === C.lt || ch === C.gt || ch === C.eq) break;
          else if (ch === C.bang && src.charCodeAt(i + 1) === C.eq) break;
          else if (ch === C.amp && src.charCodeAt(i + 1) === C.amp) break;
          else if (ch === C.pipe && src.charCodeAt(i + 1) === C.pipe) break;
        }
      }
      if (ch === C.backtick) {
        flushRun(i);
        if (i + 1 >= end) {
          buf += '`';
          i++;
        } else {
          const e = src[i + 1]!;
          buf += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
          i += 2;
        }
        protect = buf.length;
        runStart = i;
        continue;
      }
      if (ch === C.dollar) {
        const d = this.dollar(i, end);
        if (d) {
          flushRun(i);
          flush();
          parts.push(d.expr);
          i = d.next;
          runStart = i;
          bufPos = i;
          continue;
        }
      }
      i++;
    }
    flushRun(i);
    if (mode !== Mode.Text) {
      // implicit strings are trimmed (leading whitespace was skipped by the caller)
      let t = buf.length;
      while (t > protect && isWs(buf.charCodeAt(t - 1))) t--;
      buf = buf.slice(0, t);
    }
    flush();
    return { expr: join(parts, start), next: i };
  }

  /**
   * A `$` expression at `i`: `$Name`, `$Name(args)`, `${name}` or `$( … )`. Returns undefined when
   * the `$` starts no expression (e.g. `$5`, a lone `$`): it is then literal text.
   */
  private dollar(i: number, end: number): Scanned | undefined {
    const src = this.src;
    const next = src.charCodeAt(i + 1);
    if (i + 1 >= end) return undefined;
    if (next === C.lbrace) return this.braced(i, end, '$');
    if (next === C.lparen) {
      this.enter(i);
      let j = this.skipWs(i + 2, end);
      let inner: Scanned;
      const ch = this.c(j);
      if (ch === C.at || ch === C.percent) inner = this.sigilExpr(j, end);
      else if (ch === C.dollar) {
        const d = this.dollar(j, end);
        if (!d) this.fail('Expected a variable inside "$( … )", e.g. $(%p.Name)', j);
        inner = d;
      } else {
        const ne = scanName(src, j, end);
        if (ne === j) this.fail('Expected a variable inside "$( … )", e.g. $(%p.Name) or $(@list[0])', j);
        inner = { expr: { k: 'var', pos: j, sigil: '$', name: src.slice(j, ne) }, next: ne };
      }
      j = this.skipWs(inner.next, end);
      if (this.c(j) !== C.rparen || j >= end) {
        this.fail(`Expected ")" to close "$(", found ${this.describe(j, end)}`, j);
      }
      this.leave();
      return { expr: inner.expr, next: j + 1 };
    }
    const nameEnd = scanName(src, i + 1, end);
    if (nameEnd === i + 1) return undefined;
    const name = src.slice(i + 1, nameEnd);
    if (src.charCodeAt(nameEnd) === C.lparen && nameEnd < end) return this.call(i, '$', name, nameEnd, end);
    return { expr: { k: 'var', pos: i, sigil: '$', name }, next: nameEnd };
  }

  /** `${name}`, `@{name}`, `%{name}`: a variable whose name may hold any character but `}`. */
  private braced(i: number, end: number, sigil: Sigil): Scanned {
    const src = this.src;
    let j = i + 2;
    while (j < end && src.charCodeAt(j) !== C.rbrace && src.charCodeAt(j) !== C.nl) j++;
    if (j >= end || src.charCodeAt(j) !== C.rbrace) {
      this.fail(`"${sigil}{" is not closed with "}" (write \`${sigil} for a literal "${sigil}")`, i);
    }
    const name = src.slice(i + 2, j).trim();
    if (!name) this.fail(`Empty variable name in "${sigil}{}"`, i);
    return { expr: { k: 'var', pos: i, sigil, name }, next: j + 1 };
  }

  /** `@name`, `%name`, `@(…)`, `%(…)`, `@{…}`, `@Func(…)`, followed by `[key]` / `.key` indexing. */
  private sigilExpr(i: number, end: number): Scanned {
    const src = this.src;
    const sigil = src[i] as Sigil;
    this.enter(i);
    let res: Scanned;
    const d = src.charCodeAt(i + 1);
    if (i + 1 < end && d === C.lparen) res = sigil === '@' ? this.listLiteral(i, end) : this.mapLiteral(i, end);
    else if (i + 1 < end && d === C.lbrace) res = this.braced(i, end, sigil);
    else {
      const nameEnd = scanName(src, i + 1, end);
      if (nameEnd === i + 1) this.fail(`Expected a variable name or "(" after "${sigil}"`, i + 1);
      const name = src.slice(i + 1, nameEnd);
      if (nameEnd < end && src.charCodeAt(nameEnd) === C.lparen) res = this.call(i, sigil, name, nameEnd, end);
      else res = { expr: { k: 'var', pos: i, sigil, name }, next: nameEnd };
    }
    // indexing chain (each index counts as a nesting level)
    let { expr, next } = res;
    let chain = 0;
    for (; ; chain++) {
      if (chain > 0) this.enter(next);
      const ch = src.charCodeAt(next);
      if (next < end && ch === C.lbracket) {
        this.enter(next);
        const ks = this.skipWs(next + 1, end);
        const key = this.scan(ks, end, Mode.Index);
        if (key.next >= end || src.charCodeAt(key.next) !== C.rbracket) {
          this.fail('Expected "]" to close the index', key.next);
        }
        this.leave();
        expr = { k: 'index', pos: next, target: expr, key: key.expr, dot: false };
        next = key.next + 1;
        continue;
      }
      if (ch === C.dot && next + 1 < end) {
        const ke = scanKey(src, next + 1, end);
        if (ke > next + 1) {
          expr = { k: 'index', pos: next, target: expr, key: { k: 'text', pos: next + 1, value: src.slice(next + 1, ke) }, dot: true };
          next = ke;
          continue;
        }
      }
      break;
    }
    this.depth -= chain;
    this.leave();
    return { expr, next };
  }

  /** A call `<sigil>Name(arg, …)`; `open` is the offset of `(`. */
  private call(i: number, sigil: Sigil, name: string, open: number, end: number): Scanned {
    this.enter(i);
    const args: Expr[] = [];
    let j = this.skipWs(open + 1, end);
    if (j < end && this.c(j) === C.rparen) {
      this.leave();
      return { expr: { k: 'call', pos: i, sigil, name, args, end: j + 1 }, next: j + 1 };
    }
    for (;;) {
      const lit = this.literal(j, end);
      args.push(lit.expr);
      j = this.skipWs(lit.next, end);
      const ch = this.c(j);
      if (j < end && ch === C.comma) {
        j = this.skipWs(j + 1, end);
        continue;
      }
      if (j < end && ch === C.rparen) break;
      this.fail(`Expected "," or ")" in the arguments of ${sigil}${name}, found ${this.describe(j, end)}`, j);
    }
    this.leave();
    return { expr: { k: 'call', pos: i, sigil, name, args, end: j + 1 }, next: j + 1 };
  }

  private listLiteral(i: number, end: number): Scanned {
    const items: Expr[] = [];
    let j = this.skipWs(i + 2, end);
    if (j < end && this.c(j) === C.rparen) return { expr: { k: 'list', pos: i, items }, next: j + 1 };
    for (;;) {
      const lit = this.literal(j, end);
      items.push(lit.expr);
      const sep = this.separator(lit.next, end, 'list');
      j = sep.next;
      if (sep.closed) break;
    }
    return { expr: { k: 'list', pos: i, items }, next: j + 1 };
  }

  /**
   * After an item of a list or map literal: a `,` (then the next item, or `)` for a trailing comma) or `)`.
   * `next` is the position of the next item, or of the closing `)` when `closed`.
   */
  private separator(i: number, end: number, what: 'list' | 'map'): { next: number; closed: boolean } {
    let j = this.skipWs(i, end);
    if (j < end && this.c(j) === C.comma) {
      j = this.skipWs(j + 1, end);
      return { next: j, closed: j < end && this.c(j) === C.rparen };
    }
    if (j < end && this.c(j) === C.rparen) return { next: j, closed: true };
    return this.fail(`Expected "," or ")" in the ${what}, found ${this.describe(j, end)}`, j);
  }

  private mapLiteral(i: number, end: number): Scanned {
    const src = this.src;
    const entries: Array<{ key: string; pos: number; value: Expr }> = [];
    let j = this.skipWs(i + 2, end);
    if (j < end && this.c(j) === C.rparen) return { expr: { k: 'map', pos: i, entries }, next: j + 1 };
    for (;;) {
      // key: a quoted string or a name
      let key: string;
      const keyPos = j;
      const q = this.c(j);
      if (j < end && (q === C.dquote || q === C.squote)) {
        const close = src.indexOf(src[j]!, j + 1);
        const nl = src.indexOf('\n', j + 1);
        if (close === -1 || close >= end || (nl !== -1 && nl < close)) this.fail('Quoted map key is not closed on its line', j);
        key = src.slice(j + 1, close);
        j = close + 1;
      } else {
        const ke = scanKey(src, j, end);
        if (ke === j) this.fail(`Expected a key (a name) in the map, found ${this.describe(j, end)}`, j);
        key = src.slice(j, ke);
        j = ke;
      }
      j = this.skipWs(j, end);
      if (j >= end || this.c(j) !== C.colon) this.fail(`Expected ":" after the map key "${key}", found ${this.describe(j, end)}`, j);
      const lit = this.literal(this.skipWs(j + 1, end), end);
      entries.push({ key, pos: keyPos, value: lit.expr });
      const sep = this.separator(lit.next, end, 'map');
      j = sep.next;
      if (sep.closed) break;
    }
    return { expr: { k: 'map', pos: i, entries }, next: j + 1 };
  }

  /**
   * A literal expression in a call argument, list item or map value: quoted, swim, list/map
   * expression, or implicit string (ends at `,`, `)` or a line break; trimmed).
   */
  private literal(i: number, end: number): Scanned {
    const src = this.src;
    i = this.skipWs(i, end);
    const ch = this.c(i);
    if (i < end && (ch === C.dquote || ch === C.squote)) return this.quoted(i, end);
    if (i < end && ch === C.gt) {
      const swim = this.swim(i, end);
      if (swim) return swim;
    }
    if (i < end && this.sigilStartsExpr(i, end)) {
      const s = this.sigilExpr(i, end);
      const j = this.skipWs(s.next, end);
      const d = this.c(j);
      if (j < end && d !== C.comma && d !== C.rparen) {
        this.fail(`Unexpected ${this.describe(j, end)} after a ${src[i] === '@' ? 'list' : 'map'} expression (use $( … ) to put it in text)`, j);
      }
      return s;
    }
    return this.scan(i, end, Mode.Arg);
  }

  /** `"…"` or `'…'` on one line; `$` expressions and backtick escapes work, backslashes are plain. */
  private quoted(i: number, end: number): Scanned {
    const src = this.src;
    const q = src.charCodeAt(i);
    let j = i + 1;
    while (j < end) {
      const c = src.charCodeAt(j);
      if (c === C.backtick) {
        j += 2;
        continue;
      }
      if (c === q || c === C.nl) break;
      j++;
    }
    if (j >= end || src.charCodeAt(j) !== q) {
      this.fail(`Quoted string is not closed with ${src[i]} on its line`, i);
    }
    this.enter(i);
    const inner = this.scan(i + 1, j, Mode.Text);
    this.leave();
    const expr: Expr = inner.expr.k === 'text' ? { ...inner.expr, pos: i } : inner.expr;
    return { expr: expr.k === 'text' || expr.k === 'concat' ? expr : { k: 'concat', pos: i, parts: [expr] }, next: j + 1 };
  }

  /** A swim string `>>…>>` (or a fish sentinel like `>==8>…>==8>`); may span lines. */
  private swim(i: number, end: number): Scanned | undefined {
    const sentinel = swimSentinel(this.src, i, end);
    if (!sentinel) return undefined;
    const contentStart = i + sentinel.length;
    const close = this.src.indexOf(sentinel, contentStart);
    if (close === -1 || close + sentinel.length > end) return undefined;
    this.enter(i);
    const inner = this.scan(contentStart, close, Mode.Text);
    this.leave();
    const expr: Expr = inner.expr.k === 'text' ? { ...inner.expr, pos: i } : inner.expr;
    return { expr: expr.k === 'text' || expr.k === 'concat' ? expr : { k: 'concat', pos: i, parts: [expr] }, next: close + sentinel.length };
  }

  // ---------------------------------------------------------------- predicates

  predicate(): PredicateAst {
    const src = this.src;
    return { kind: 'predicate', source: src, pred: this.predRange(0, src.length, 'condition') };
  }

  private predRange(i: number, end: number, what: 'if' | 'condition'): Pred {
    const start = this.skipWs(i, end);
    if (start >= end) {
      if (what === 'condition') return { k: 'const', pos: 0, value: true };
      this.fail('Expected a condition after "if"', start);
    }
    const r = this.or(start, end);
    const j = this.skipWs(r.next, end);
    if (j < end) {
      const ch = this.c(j);
      const hint = ch === C.rparen ? ' (unbalanced ")")' : '';
      this.fail(`Unexpected ${this.describe(j, end)} in the condition${hint}`, j);
    }
    return r.pred;
  }

  private or(i: number, end: number): { pred: Pred; next: number } {
    return this.chain(i, end, 'or', C.pipe, (a, b) => this.and(a, b));
  }

  private and(i: number, end: number): { pred: Pred; next: number } {
    return this.chain(i, end, 'and', C.amp, (a, b) => this.unary(a, b));
  }

  /** `operand (op operand)*` for the doubled operator character `ch` (`||`, `&&`), as one n-ary node. */
  private chain(
    i: number,
    end: number,
    k: 'and' | 'or',
    ch: number,
    operand: (i: number, end: number) => { pred: Pred; next: number },
  ): { pred: Pred; next: number } {
    const first = operand(i, end);
    const items: Pred[] = [first.pred];
    let next = first.next;
    let pos = -1;
    for (;;) {
      const j = this.skipWs(next, end);
      if (j + 1 < end && this.c(j) === ch && this.c(j + 1) === ch) {
        if (pos < 0) pos = j;
        const right = operand(j + 2, end);
        items.push(right.pred);
        next = right.next;
        continue;
      }
      return items.length === 1 ? first : { pred: { k, pos, items }, next };
    }
  }

  private unary(i: number, end: number): { pred: Pred; next: number } {
    const j = this.skipWs(i, end);
    const ch = this.c(j);
    if (j < end && ch === C.bang && this.c(j + 1) !== C.eq) {
      this.enter(j);
      const operand = this.unary(j + 1, end);
      this.leave();
      return { pred: { k: 'not', pos: j, operand: operand.pred }, next: operand.next };
    }
    if (j < end && ch === C.lparen) {
      this.enter(j);
      const inner = this.or(j + 1, end);
      const k = this.skipWs(inner.next, end);
      if (k >= end || this.c(k) !== C.rparen) this.fail(`Expected ")" to close "(", found ${this.describe(k, end)}`, k);
      this.leave();
      return { pred: inner.pred, next: k + 1 };
    }
    return this.comparison(j, end);
  }

  private comparison(i: number, end: number): { pred: Pred; next: number } {
    const left = this.operand(i, end);
    const j = this.skipWs(left.next, end);
    const op = this.operator(j, end);
    if (!op) {
      const v = left.expr;
      if (v.k === 'text') {
        const t = v.value.toLowerCase();
        if (t === 'true' || t === 'false') return { pred: { k: 'const', pos: v.pos, value: t === 'true' }, next: left.next };
      }
      return { pred: { k: 'truth', pos: i, value: left.expr }, next: left.next };
    }
    const right = this.operand(j + op.length, end);
    return { pred: { k: 'cmp', pos: j, op: op.op, left: left.expr, right: right.expr }, next: right.next };
  }

  private operator(j: number, end: number): { op: CmpOp; length: number } | undefined {
    if (j >= end) return undefined;
    const a = this.c(j);
    const b = j + 1 < end ? this.c(j + 1) : -1;
    if (a === C.eq) return b === C.eq ? { op: '==', length: 2 } : { op: '==', length: 1 };
    if (a === C.bang && b === C.eq) return { op: '!=', length: 2 };
    if (a === C.lt) return b === C.eq ? { op: '<=', length: 2 } : { op: '<', length: 1 };
    if (a === C.gt) return b === C.eq ? { op: '>=', length: 2 } : { op: '>', length: 1 };
    return undefined;
  }

  private operand(i: number, end: number): Scanned {
    const j = this.skipWs(i, end);
    if (j >= end) this.fail('Expected a value in the condition, found the end', j);
    const ch = this.c(j);
    if (ch === C.dquote || ch === C.squote) return this.quoted(j, end);
    if (ch === C.gt) {
      const swim = this.swim(j, end);
      if (swim) return swim;
    }
    if (this.sigilStartsExpr(j, end)) return this.sigilExpr(j, end);
    const s = this.scan(j, end, Mode.Pred);
    if (s.next === j) this.fail(`Expected a value in the condition, found ${this.describe(j, end)}`, j);
    return s;
  }
}

function flatten(e: Expr): Expr[] {
  if (e.k === 'concat') return e.parts;
  if (e.k === 'text' && e.value === '') return [];
  return [e];
}

/** Builds one expression out of parts: merges adjacent text, unwraps a single part. */
function join(parts: Expr[], pos: number): Expr {
  const merged: Expr[] = [];
  for (const p of parts) {
    const last = merged[merged.length - 1];
    if (p.k === 'text' && last && last.k === 'text') merged[merged.length - 1] = { k: 'text', pos: last.pos, value: last.value + p.value };
    else if (!(p.k === 'text' && p.value === '')) merged.push(p);
  }
  if (merged.length === 0) return { k: 'text', pos, value: '' };
  if (merged.length === 1) return merged[0]!;
  return { k: 'concat', pos, parts: merged };
}
