/**
 * Errors of the OtterScript engine. Every problem found while parsing, compiling or running a
 * template or predicate is an `OtterScriptError` carrying the position in the source (1-based line
 * and column) and an excerpt of the offending line with a caret under the column.
 */
export class OtterScriptError extends Error {
  /** The problem, without the position (the `message` adds "(line L, column C)"). */
  readonly reason: string;
  /** 1-based line of the problem in the source. */
  readonly line: number;
  /** 1-based column (in UTF-16 code units) of the problem in the source. */
  readonly column: number;
  /** 0-based offset in the source. */
  readonly offset: number;
  /** The source line (shortened around the column when long) and a caret line under the column. */
  readonly excerpt: string;

  constructor(reason: string, source: string, offset: number) {
    const at = clamp(offset, source.length);
    const { line, column, lineStart, lineEnd } = locate(source, at);
    super(`${reason} (line ${line}, column ${column})`);
    this.name = 'OtterScriptError';
    this.reason = reason;
    this.line = line;
    this.column = column;
    this.offset = at;
    this.excerpt = makeExcerpt(source, lineStart, lineEnd, at);
  }

  toJSON(): { message: string; line: number; column: number; excerpt: string } {
    return { message: this.message, line: this.line, column: this.column, excerpt: this.excerpt };
  }
}

function clamp(offset: number, max: number): number {
  if (!Number.isFinite(offset) || offset < 0) return 0;
  return offset > max ? max : Math.floor(offset);
}

function locate(source: string, at: number): { line: number; column: number; lineStart: number; lineEnd: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf('\n'); i !== -1 && i < at; i = source.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  let lineEnd = source.indexOf('\n', at);
  if (lineEnd === -1) lineEnd = source.length;
  if (lineEnd > lineStart && source[lineEnd - 1] === '\r') lineEnd--;
  return { line, column: at - lineStart + 1, lineStart, lineEnd };
}

const EXCERPT_WIDTH = 80;

function makeExcerpt(source: string, lineStart: number, lineEnd: number, at: number): string {
  let from = lineStart;
  let to = lineEnd;
  if (to - from > EXCERPT_WIDTH) {
    from = Math.max(lineStart, at - EXCERPT_WIDTH / 2);
    to = Math.min(lineEnd, from + EXCERPT_WIDTH);
    from = Math.max(lineStart, to - EXCERPT_WIDTH);
  }
  const prefix = from > lineStart ? '…' : '';
  const suffix = to < lineEnd ? '…' : '';
  // tabs and other control characters would shift the caret: show them as spaces
  // eslint-disable-next-line no-control-regex -- control characters are replaced on purpose (see above)
  const text = source.slice(from, to).replace(/[\u0000-\u001f\u007f]/g, ' ');
  const caretCol = prefix.length + Math.min(at, to) - from;
  return `${prefix}${text}${suffix}\n${' '.repeat(caretCol)}^`;
}
