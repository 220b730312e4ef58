// The DSL grammar (docs/dsl.md, "Grammar"): one Parsimmon language; tokens own the horizontal space after them.
// Tokens are sticky regexps and operators are read flat then arranged by precedence: Parsimmon merges the
// expected-sets of every failed alternative, so fewer alternatives is most of the speed.
import P from 'parsimmon';
import type { BinaryOpcode } from '../bytecode/arith';
import { Opcode, Value, ValueTag } from '../bytecode/instructions';
import { DirectiveNode, Entry, Expr, Name, Position, ProgramNode, Span, spanning, Statement, WhenNode } from './ast';

/** Words that cannot be directive names, keys or identifier values. */
const KEYWORDS = new Set(['WHEN', 'ELSE', 'BY', 'and', 'or', 'not', 'AND', 'OR', 'NOT', 'true', 'false', 'TRUE', 'FALSE']);

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

/** 1-based line and column of an offset (columns count UTF-16 code units, as most editors do). */
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

/** A regexp token matched in place (no slicing of the input); fails with `expected` when it does not match. */
function sticky(re: RegExp, expected: string): P.Parser<RegExpExecArray> {
  const pattern = new RegExp(re.source, 'y');
  return P((input, i) => {
    pattern.lastIndex = i;
    const match = pattern.exec(input);
    return match ? P.makeSuccess(i + match[0].length, match) : P.makeFailure(i, expected);
  });
}
/** A pattern that may match nothing: it never fails, so it adds nothing to error reports. */
function skipping(re: RegExp): P.Parser<string> {
  return sticky(re, '').map((m) => m[0]);
}

const ws = skipping(/[ \t]*/);
const newlines = sticky(/(?:[ \t]*(?:#[^\n]*)?\r?\n)+[ \t]*/, 'a new line');
const optNewlines = skipping(/(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*/);
const trailingComment = skipping(/(?:#[^\n]*)?/);
const entrySeparator = sticky(/[ \t]*(?:;|(?:#[^\n]*)?\r?\n)(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*/, 'a new line or ;');
const blockEnd = skipping(/[ \t]*;?(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*/);

const here: P.Parser<Position> = P((input, i) => P.makeSuccess(i, positionAt(input, i)));

/** The parser's value with the span it covers (the Parsimmon .mark() idea, with correct positions). */
function marked<T>(parser: P.Parser<T>): P.Parser<{ value: T; span: Span }> {
  return P.seqMap(here, parser, here, (start, value, end) => ({ value, span: { start, end } })).skip(ws);
}
function symbol(text: string): P.Parser<{ value: string; span: Span }> {
  return marked(sticky(new RegExp(text.replace(/[{}()]/g, '\\$&')), `'${text}'`).map((m) => m[0]));
}
function keyword(word: string): P.Parser<string> {
  return sticky(new RegExp(`${word}(?![A-Za-z0-9_])`), word)
    .map((m) => m[0])
    .skip(ws);
}

const name: P.Parser<Name> = marked(
  sticky(/[A-Za-z_][A-Za-z0-9_]*/, 'a name')
    .map((m) => m[0])
    .assert((s) => !KEYWORDS.has(s), 'a name'),
).map(({ value, span }) => ({ text: value, span }));

const DURATION_UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;

function durationMs(text: string): number {
  let total = 0;
  for (const [, count, unit] of text.matchAll(/(\d+)(ms|d|h|m|s)/g)) total += Number(count) * DURATION_UNIT_MS[unit as keyof typeof DURATION_UNIT_MS];
  return total;
}

function unescape(body: string): string {
  return body.replace(/\\(["\\ntr])/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c as 'n' | 't' | 'r'] ?? c);
}

/**
 * Every value token in one ordered alternation; the capture group that matched says which kind it is:
 * 1 ${context.path}  2 agent.variable  3 money  4 percent  5 duration  6 number  7 boolean  8 string  9 identifier
 */
const VALUE_TOKEN = new RegExp(
  [
    /\$\{[ \t]*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)[ \t]*\}/,
    /agent\.([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_])/,
    /\$((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?)(?![A-Za-z0-9_.])/,
    /(\d+(?:\.\d+)?)%/,
    /((?=\d)(?:\d+d)?(?:\d+h)?(?:\d+m(?!s))?(?:\d+s)?(?:\d+ms)?)(?![A-Za-z0-9_.])/,
    /(\d+(?:\.\d+)?)(?![A-Za-z0-9_%.])/,
    /(true|false|TRUE|FALSE)(?![A-Za-z0-9_])/,
    /"((?:[^"\\\n\r]|\\["\\ntr])*)"/,
    /([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)/,
  ]
    .map((re) => re.source)
    .join('|'),
  'y',
);

type Token = { kind: 'context'; path: string } | { kind: 'variable'; name: string } | { kind: 'literal'; value: Value };

function readToken(m: RegExpExecArray): Token | undefined {
  if (m[1] !== undefined) return { kind: 'context', path: m[1] };
  if (m[2] !== undefined) return { kind: 'variable', name: m[2] };
  if (m[3] !== undefined) return { kind: 'literal', value: { tag: ValueTag.Money, value: Number(m[3].replace(/,/g, '')) } };
  if (m[4] !== undefined) return { kind: 'literal', value: { tag: ValueTag.Percent, value: Number(m[4]) } };
  if (m[5] !== undefined) return { kind: 'literal', value: { tag: ValueTag.Duration, value: durationMs(m[5]) } };
  if (m[6] !== undefined) return { kind: 'literal', value: { tag: ValueTag.Number, value: Number(m[6]) } };
  if (m[7] !== undefined) return { kind: 'literal', value: { tag: ValueTag.Boolean, value: m[7].toLowerCase() === 'true' } };
  if (m[8] !== undefined) return { kind: 'literal', value: { tag: ValueTag.String, value: unescape(m[8]) } };
  if (m[9] !== undefined && !KEYWORDS.has(m[9])) return { kind: 'literal', value: { tag: ValueTag.Identifier, value: m[9] } };
  return undefined;
}

const valueToken: P.Parser<Token> = P((input, i) => {
  VALUE_TOKEN.lastIndex = i;
  const match = VALUE_TOKEN.exec(input);
  const token = match && readToken(match);
  return token ? P.makeSuccess(i + (match as RegExpExecArray)[0].length, token) : P.makeFailure(i, 'a value');
});

/** Reads a context string as a DSL literal ("2h" is a duration, "$500" money); undefined when it is not one. */
export function parseLiteral(text: string): Value | undefined {
  VALUE_TOKEN.lastIndex = 0;
  const match = VALUE_TOKEN.exec(text);
  const token = match && match[0].length === text.length ? readToken(match) : undefined;
  return token?.kind === 'literal' ? token.value : undefined;
}

interface Prefix {
  op: Opcode.Neg | Opcode.Not;
  start: Position;
}

/** Zero or more `-` and `not` before a term, with where each starts (a never-failing token). */
const prefixes: P.Parser<Prefix[]> = P((input, i) => {
  const found: Prefix[] = [];
  const pattern = /(?:(not|NOT)(?![A-Za-z0-9_])|-)[ \t]*/y;
  pattern.lastIndex = i;
  let at = i;
  for (let m = pattern.exec(input); m !== null; m = pattern.exec(input)) {
    found.push({ op: m[1] ? Opcode.Not : Opcode.Neg, start: positionAt(input, at) });
    at = pattern.lastIndex;
  }
  return P.makeSuccess(at, found);
});

const BINARY_OPERATORS: Record<string, BinaryOpcode> = {
  or: Opcode.Or,
  OR: Opcode.Or,
  and: Opcode.And,
  AND: Opcode.And,
  '==': Opcode.Eq,
  '!=': Opcode.Ne,
  '<=': Opcode.Le,
  '>=': Opcode.Ge,
  '<': Opcode.Lt,
  '>': Opcode.Gt,
  '+': Opcode.Add,
  '-': Opcode.Sub,
  '*': Opcode.Mul,
  '/': Opcode.Div,
};
const binaryOperator: P.Parser<BinaryOpcode> = sticky(/(==|!=|<=|>=|<|>|\+|-|\*|\/|(?:and|AND|or|OR)(?![A-Za-z0-9_]))[ \t]*/, 'an operator').map(
  (m) => BINARY_OPERATORS[m[1]],
);

/** Binding strength: or < and < not < comparisons < + - < * /; unary minus binds tightest of all. */
const PRECEDENCE: Readonly<Partial<Record<Opcode, number>>> = {
  [Opcode.Or]: 1,
  [Opcode.And]: 2,
  [Opcode.Eq]: 4,
  [Opcode.Ne]: 4,
  [Opcode.Lt]: 4,
  [Opcode.Le]: 4,
  [Opcode.Gt]: 4,
  [Opcode.Ge]: 4,
  [Opcode.Add]: 5,
  [Opcode.Sub]: 5,
  [Opcode.Mul]: 6,
  [Opcode.Div]: 6,
};
const NOT_PRECEDENCE = 3;

interface Term {
  /** Leading `not`s: they take in the comparisons and arithmetic that follow. */
  nots: Prefix[];
  /** The operand with its tighter prefixes applied. */
  operand: Expr;
}

function unary(op: Opcode.Neg | Opcode.Not, start: Position, operand: Expr): Expr {
  return { kind: 'unary', op, operand, span: { start, end: operand.span.end }, depth: operand.depth + 1 };
}
function binary(op: BinaryOpcode, left: Expr, right: Expr): Expr {
  return { kind: 'binary', op, left, right, span: spanning(left.span, right.span), depth: 1 + Math.max(left.depth, right.depth) };
}
function wrap(prefixList: Prefix[], operand: Expr): Expr {
  let out = operand;
  for (let k = prefixList.length - 1; k >= 0; k--) out = unary(prefixList[k].op, prefixList[k].start, out);
  return out;
}

function makeTerm(prefixList: Prefix[], operand: Expr): Term {
  const firstNeg = prefixList.findIndex((p) => p.op === Opcode.Neg);
  const loose = firstNeg === -1 ? prefixList : prefixList.slice(0, firstNeg);
  return { nots: loose, operand: wrap(prefixList.slice(loose.length), operand) };
}

/** Precedence climbing over `term (op term)*`, left-associative; recursion depth is bounded by the levels. */
function arrange(first: Term, rest: Array<[BinaryOpcode, Term]>): Expr {
  const terms = [first, ...rest.map(([, t]) => t)];
  const ops = rest.map(([op]) => op);
  let consumed = 0;
  const nextOpPrecedence = (): number => (consumed - 1 < ops.length ? (PRECEDENCE[ops[consumed - 1]] ?? 0) : 0);

  /** Takes in every following operator at least as tight as minPrecedence. */
  const extend = (left: Expr, minPrecedence: number): Expr => {
    let out = left;
    while (nextOpPrecedence() >= minPrecedence) {
      const op = ops[consumed - 1];
      out = binary(op, out, climb((PRECEDENCE[op] ?? 0) + 1));
    }
    return out;
  };
  const climb = (minPrecedence: number): Expr => extend(operand(minPrecedence), minPrecedence);
  const operand = (minPrecedence: number): Expr => {
    const term = terms[consumed++];
    if (term.nots.length === 0) return term.operand;
    // After a tighter operator (`a == not b`) a `not` covers its own term only.
    if (minPrecedence > NOT_PRECEDENCE) return wrap(term.nots, term.operand);
    return wrap(term.nots, extend(term.operand, NOT_PRECEDENCE + 1));
  };
  return climb(1);
}

/** One `WHEN condition { … }` of a chain, before its ELSE is known. */
type WhenLink = Pick<WhenNode, 'condition' | 'then' | 'span'>;

interface Spec {
  program: ProgramNode;
  statements: Statement[];
  statement: Statement;
  when: WhenNode;
  whenLink: WhenLink;
  directive: DirectiveNode;
  block: { entries: Entry[]; span: Span };
  entry: Entry;
  value: Expr;
  expr: Expr;
  term: Term;
  primary: Expr;
}

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

  // `WHEN … { } ELSE WHEN … { } … ELSE { }`: the links are read in a loop (many), not by recursion, so a long chain
  // cannot exhaust the stack; the nested WhenNodes are then built from the last link back.
  when: (r) =>
    P.seqMap(
      r.whenLink,
      optNewlines.then(keyword('ELSE')).then(r.whenLink).many(),
      optNewlines
        .then(keyword('ELSE'))
        .then(symbol('{').then(optNewlines).then(r.statements).skip(optNewlines).skip(symbol('}')))
        .fallback([]),
      (first, links, lastElse): WhenNode => {
        let otherwise: Statement[] = lastElse;
        for (let k = links.length - 1; k >= 0; k--) otherwise = [{ kind: 'when', ...links[k], otherwise }];
        return { kind: 'when', ...first, otherwise };
      },
    ),

  whenLink: (r) =>
    P.seqMap(
      marked(keyword('WHEN')),
      r.expr,
      symbol('{').then(optNewlines).then(r.statements).skip(optNewlines),
      symbol('}'),
      (when, condition, then, close): WhenLink => ({ condition, then, span: spanning(when.span, close.span) }),
    ),

  directive: (r) =>
    P.seqMap(name.desc('a directive name'), keyword('BY').then(r.expr).fallback(null), r.block.fallback(null), (directiveName, amount, block): DirectiveNode => {
      const last = block?.span ?? amount?.span ?? directiveName.span;
      return { kind: 'directive', name: directiveName, amount, entries: block?.entries ?? [], span: spanning(directiveName.span, last) };
    }),

  block: (r) =>
    P.seqMap(symbol('{').skip(optNewlines), r.entry.sepBy(entrySeparator).skip(blockEnd), symbol('}'), (open, entries, close) => ({
      entries,
      span: spanning(open.span, close.span),
    })),

  entry: (r) => P.seqMap(name.desc('a key'), symbol(':'), r.value, (key, _colon, value): Entry => ({ key, value, span: spanning(key.span, value.span) })),

  value: (r) =>
    P.seqMap(r.expr, symbol(',').then(optNewlines).then(r.expr).many(), (first, rest): Expr => {
      if (rest.length === 0) return first;
      const items = [first, ...rest];
      return { kind: 'list', items, span: spanning(first.span, items[items.length - 1].span), depth: 1 + Math.max(...items.map((i) => i.depth)) };
    }),

  expr: (r) => P.seqMap(r.term, P.seq(binaryOperator, r.term).many(), arrange),

  term: (r) => P.seqMap(prefixes, r.primary, makeTerm),

  primary: (r) =>
    P.alt<Expr>(
      marked(valueToken).map(({ value, span }): Expr => {
        if (value.kind === 'context') return { kind: 'context', path: value.path, span, depth: 1 };
        if (value.kind === 'variable') return { kind: 'variable', name: value.name, span, depth: 1 };
        return { kind: 'literal', value: value.value, span, depth: 1 };
      }),
      P.seqMap(symbol('('), r.expr, symbol(')'), (open, inner, close) => ({ ...inner, span: spanning(open.span, close.span) })),
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
  return { ok: false, at: positionAt(input, Math.min(result.index.offset, source.length)), expected: result.expected.filter((e) => e !== '') };
}
