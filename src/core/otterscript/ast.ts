/**
 * The syntax tree of OtterScript templates and predicates. Every node carries `pos`, the offset of
 * its first character in the source, so that run-time errors can point at it.
 */

export type Sigil = '$' | '@' | '%';

/** A literal expression: evaluates to a string, a list or a map. */
export type Expr =
  | { k: 'text'; pos: number; value: string }
  | { k: 'concat'; pos: number; parts: Expr[] }
  | { k: 'var'; pos: number; sigil: Sigil; name: string }
  | { k: 'call'; pos: number; sigil: Sigil; name: string; args: Expr[]; end: number }
  | { k: 'index'; pos: number; target: Expr; key: Expr; dot: boolean }
  | { k: 'list'; pos: number; items: Expr[] }
  | { k: 'map'; pos: number; entries: Array<{ key: string; pos: number; value: Expr }> };

/** A predicate (an `if` condition or a notifier condition). */
export type Pred =
  | { k: 'and'; pos: number; items: Pred[] }
  | { k: 'or'; pos: number; items: Pred[] }
  | { k: 'not'; pos: number; operand: Pred }
  | { k: 'cmp'; pos: number; op: CmpOp; left: Expr; right: Expr }
  | { k: 'truth'; pos: number; value: Expr }
  | { k: 'const'; pos: number; value: boolean };

export type CmpOp = '==' | '!=' | '<' | '>' | '<=' | '>=';

/** A piece of a text template. */
export type TNode =
  | { k: 'out'; pos: number; expr: Expr }
  | { k: 'foreach'; pos: number; sigil: Sigil; name: string; list: Expr; body: TNode[] }
  | { k: 'if'; pos: number; pred: Pred; then: TNode[]; else: TNode[] | undefined };

export interface TemplateAst {
  kind: 'template';
  source: string;
  body: TNode[];
}

export interface PredicateAst {
  kind: 'predicate';
  source: string;
  pred: Pred;
}
