// The DSL grammar (docs/dsl.md, "Grammar"): one Parsimmon language; tokens own the horizontal space after them.
import P from 'parsimmon';
import type { BinaryOpcode } from '../bytecode/arith';
import { Opcode, Value, ValueTag } from '../bytecode/instructions';
import { DirectiveNode, Entry, Expr, Name, Position, ProgramNode, Span, spanning, Statement, WhenNode } from './ast';

/** Words that cannot be directive names, keys or identifier values. */
const KEYWORDS = new Set(['WHEN', 'ELSE', 'BY', 'and', 'or', 'not', 'AND', 'OR', 'NOT', 'true', 'false', 'TRUE', 'FALSE']);
const NAME = /[A-Za-z_][A-Za-z0-9_]*/;
const END_OF_WORD = '(?![A-Za-z0-9_])';

const ws = P.regexp(/[ \t]*/);
/** One or more line ends (each may carry a comment), then the next line's indentation. */
const newlines = P.regexp(/(?:[ \t]*(?:#[^\n]*)?\r?\n)+[ \t]*/).desc('a new line');
const optNewlines = P.regexp(/(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*/);
const trailingComment = P.regexp(/(?:#[^\n]*)?/);
const entrySeparator = P.regexp(/[ \t]*(?:;|(?:#[^\n]*)?\r?\n)(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*/).desc('a new line or ;');
const blockEnd = P.regexp(/[ \t]*;?(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*/);

function token<T>(parser: P.Parser<T>): P.Parser<T> {
  return parser.skip(ws);
}
function symbol(text: string): P.Parser<string> {
  return token(P.string(text));
}
function keyword(...words: string[]): P.Parser<string> {
  return token(P.regexp(new RegExp(`(?:${words.join('|')})${END_OF_WORD}`)).desc(words[0]));
}
/**
 * Line starts of the input being parsed. Parsimmon 1.18.1's own .mark()/index misplace a position that sits on a
 * newline (reported as the next line, column 0) and cache by input in a plain object, so spans come from here.
 */
let lineIndex: { input: string; starts: number[] } = { input: '', starts: [0] };

function indexLines(input: string): void {
  const starts = [0];
  for (let i = input.indexOf('\n'); i !== -1; i = input.indexOf('\n', i + 1)) starts.push(i + 1);
  lineIndex = { input, starts };
}

/** 1-based line and column of an offset (columns count UTF-16 code units, as editors' "column" mostly does). */
export function positionAt(input: string, offset: number): Position {
  if (lineIndex.input !== input) indexLines(input);
  const { starts } = lineIndex;
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid] <= offset) low = mid;
    else high = mid - 1;
  }
  return { offset, line: low + 1, column: offset - starts[low] + 1 };
}

const here: P.Parser<Position> = P((input, i) => P.makeSuccess(i, positionAt(input, i)));

/** The parser's value with the span it covers (the Parsimmon .mark() idea, with correct positions). */
function marked<T>(parser: P.Parser<T>): P.Parser<{ value: T; span: Span }> {
  return token(P.seqMap(here, parser, here, (start, value, end) => ({ value, span: { start, end } })));
}
const DURATION_UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;

/** Scalar literal parsers, each giving a Value; shared with context substitution. */
const literalParsers = {
  money: P.regexp(/\$((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?)(?![A-Za-z0-9_.])/, 1)
    .map((s): Value => ({ tag: ValueTag.Money, value: Number(s.replace(/,/g, '')) }))
    .desc('money'),
  percent: P.regexp(/(\d+(?:\.\d+)?)%/, 1)
    .map((s): Value => ({ tag: ValueTag.Percent, value: Number(s) }))
    .desc('a percent'),
  duration: P.regexp(/(?=\d)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?(?![A-Za-z0-9_.])/)
    .map((s): Value => ({ tag: ValueTag.Duration, value: durationMs(s) }))
    .desc('a duration'),
  number: P.regexp(/\d+(?:\.\d+)?(?![A-Za-z0-9_%.])/)
    .map((s): Value => ({ tag: ValueTag.Number, value: Number(s) }))
    .desc('a number'),
  boolean: P.regexp(new RegExp(`(?:true|false|TRUE|FALSE)${END_OF_WORD}`))
    .map((s): Value => ({ tag: ValueTag.Boolean, value: s.toLowerCase() === 'true' }))
    .desc('a boolean'),
  string: P.regexp(/"((?:[^"\\\n\r]|\\["\\ntr])*)"/, 1)
    .map((s): Value => ({ tag: ValueTag.String, value: unescape(s) }))
    .desc('a string'),
  identifier: P.regexp(/[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*/)
    .assert((s) => !KEYWORDS.has(s), 'an identifier')
    .map((s): Value => ({ tag: ValueTag.Identifier, value: s }))
    .desc('an identifier'),
};

const scalarLiteral: P.Parser<Value> = P.alt(
  literalParsers.money,
  literalParsers.percent,
  literalParsers.duration,
  literalParsers.number,
  literalParsers.boolean,
  literalParsers.string,
  literalParsers.identifier,
);
const wholeLiteral = scalarLiteral.skip(P.string('\n')).skip(P.eof);

/** Reads a context string as a DSL literal ("2h" is a duration, "$500" money); undefined when it is not one. */
export function parseLiteral(text: string): Value | undefined {
  if (text.includes('\n')) return undefined;
  // The newline keeps the input unlike any Object.prototype key (see parseProgram).
  const result = wholeLiteral.parse(text + '\n');
  return result.status ? result.value : undefined;
}

function durationMs(text: string): number {
  let total = 0;
  for (const [, count, unit] of text.matchAll(/(\d+)(ms|d|h|m|s)/g)) {
    total += Number(count) * DURATION_UNIT_MS[unit as keyof typeof DURATION_UNIT_MS];
  }
  return total;
}

function unescape(body: string): string {
  return body.replace(/\\(["\\ntr])/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c as 'n' | 't' | 'r'] ?? c);
}

function binaryChain(operand: P.Parser<Expr>, operator: P.Parser<BinaryOpcode>): P.Parser<Expr> {
  return P.seqMap(operand, P.seq(operator, operand).many(), (first, rest) =>
    rest.reduce<Expr>(
      (left, [op, right]) => ({ kind: 'binary', op, left, right, span: spanning(left.span, right.span), depth: 1 + Math.max(left.depth, right.depth) }),
      first,
    ),
  );
}

function prefixChain(operator: P.Parser<{ value: Opcode.Neg | Opcode.Not; span: Span }>, operand: P.Parser<Expr>): P.Parser<Expr> {
  return P.seqMap(operator.many(), operand, (ops, inner) =>
    ops.reduceRight<Expr>((acc, { value, span }) => ({ kind: 'unary', op: value, operand: acc, span: spanning(span, acc.span), depth: acc.depth + 1 }), inner),
  );
}

interface Spec {
  program: ProgramNode;
  statements: Statement[];
  statement: Statement;
  when: WhenNode;
  directive: DirectiveNode;
  block: { entries: Entry[]; span: Span };
  entry: Entry;
  value: Expr;
  expr: Expr;
  conjunction: Expr;
  negation: Expr;
  comparison: Expr;
  additive: Expr;
  multiplicative: Expr;
  unary: Expr;
  primary: Expr;
}

const COMPARISON: Record<string, BinaryOpcode> = { '==': Opcode.Eq, '!=': Opcode.Ne, '<=': Opcode.Le, '>=': Opcode.Ge, '<': Opcode.Lt, '>': Opcode.Gt };

const name: P.Parser<Name> = marked(P.regexp(NAME).assert((s) => !KEYWORDS.has(s), 'a name').desc('a name')).map(({ value, span }) => ({ text: value, span }));

export const Language = P.createLanguage<Spec>({
  program: (r) =>
    optNewlines
      .then(r.statements)
      .skip(optNewlines)
      .skip(trailingComment)
      .skip(P.eof)
      .map((statements) => ({ statements })),

  statements: (r) => r.statement.sepBy(newlines),

  statement: (r) => P.alt<Statement>(r.when, r.directive),

  when: (r) =>
    P.seqMap(
      marked(keyword('WHEN')),
      r.expr,
      symbol('{').then(optNewlines).then(r.statements).skip(optNewlines),
      marked(P.string('}').desc("'}'")),
      optNewlines
        .then(keyword('ELSE'))
        .then(P.alt(r.when.map((w) => [w]), symbol('{').then(optNewlines).then(r.statements).skip(optNewlines).skip(symbol('}'))))
        .fallback([]),
      (when, condition, then, close, otherwise): WhenNode => ({ kind: 'when', condition, then, otherwise, span: spanning(when.span, close.span) }),
    ),

  directive: (r) =>
    P.seqMap(
      name.desc('a directive name'),
      keyword('BY').then(r.expr).fallback(null),
      r.block.fallback(null),
      (directiveName, amount, block): DirectiveNode => {
        const last = block?.span ?? amount?.span ?? directiveName.span;
        return { kind: 'directive', name: directiveName, amount, entries: block?.entries ?? [], span: spanning(directiveName.span, last) };
      },
    ),

  block: (r) =>
    P.seqMap(
      marked(P.string('{').desc("'{'")).skip(optNewlines),
      r.entry.sepBy(entrySeparator).skip(blockEnd),
      marked(P.string('}').desc("'}'")),
      (open, entries, close) => ({ entries, span: spanning(open.span, close.span) }),
    ),

  entry: (r) =>
    P.seqMap(name.desc('a key'), symbol(':'), r.value, (key, _colon, value): Entry => ({ key, value, span: spanning(key.span, value.span) })),

  value: (r) =>
    P.seqMap(r.expr, symbol(',').then(optNewlines).then(r.expr).many(), (first, rest): Expr => {
      if (rest.length === 0) return first;
      const items = [first, ...rest];
      return { kind: 'list', items, span: spanning(first.span, items[items.length - 1].span), depth: 1 + Math.max(...items.map((i) => i.depth)) };
    }),

  expr: (r) => binaryChain(r.conjunction, keyword('or', 'OR').result(Opcode.Or as BinaryOpcode)),
  conjunction: (r) => binaryChain(r.negation, keyword('and', 'AND').result(Opcode.And as BinaryOpcode)),
  negation: (r) => prefixChain(marked(P.regexp(new RegExp(`(?:not|NOT)${END_OF_WORD}`)).desc('not').result(Opcode.Not as const)), r.comparison),
  comparison: (r) =>
    P.seqMap(r.additive, P.seq(token(P.regexp(/==|!=|<=|>=|<|>/).desc('a comparison')), r.additive).fallback(null), (left, rest): Expr => {
      if (rest === null) return left;
      const [symbolText, right] = rest;
      return { kind: 'binary', op: COMPARISON[symbolText], left, right, span: spanning(left.span, right.span), depth: 1 + Math.max(left.depth, right.depth) };
    }),
  additive: (r) => binaryChain(r.multiplicative, token(P.regexp(/[+-]/).desc("'+' or '-'")).map((s) => (s === '+' ? Opcode.Add : Opcode.Sub) as BinaryOpcode)),
  multiplicative: (r) => binaryChain(r.unary, token(P.regexp(/[*/]/).desc("'*' or '/'")).map((s) => (s === '*' ? Opcode.Mul : Opcode.Div) as BinaryOpcode)),
  unary: (r) => prefixChain(marked(P.string('-').result(Opcode.Neg as const)), r.primary),

  primary: (r) =>
    P.alt<Expr>(
      P.alt(
        marked(P.regexp(/\$\{[ \t]*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)[ \t]*\}/, 1)).map(
          ({ value, span }): Expr => ({ kind: 'context', path: value, span, depth: 1 }),
        ),
        marked(P.regexp(new RegExp(`agent\\.(${NAME.source})${END_OF_WORD}`), 1)).map(({ value, span }): Expr => ({ kind: 'variable', name: value, span, depth: 1 })),
        marked(scalarLiteral).map(({ value, span }): Expr => ({ kind: 'literal', value, span, depth: 1 })),
      ).desc('a value'),
      P.seqMap(marked(P.string('(')), r.expr, marked(P.string(')').desc("')'")), (open, inner, close) => ({ ...inner, span: spanning(open.span, close.span) })),
    ),
});

export type ParseOutcome = { ok: true; program: ProgramNode } | { ok: false; at: Position; expected: string[] };

/**
 * Parses a whole program. Parsimmon keys a line/column cache by the input string in a plain object, so an
 * input such as "__proto__" would write into Object.prototype; a trailing newline (harmless to the grammar)
 * makes every input unlike any property name. Failure positions past the real end are clamped to it.
 */
export function parseProgram(source: string): ParseOutcome {
  const input = source + '\n';
  indexLines(input);
  const result = Language.program.parse(input);
  if (result.status) return { ok: true, program: result.value };
  return { ok: false, at: positionAt(input, Math.min(result.index.offset, source.length)), expected: result.expected };
}
