// Unit-aware arithmetic and comparison: one set of rules for the compiler's constant folder and the agent VM.
import { Opcode, Value, ValueTag } from './instructions';

export class ArithError extends Error {
  constructor(
    readonly code: 'TYPE_MISMATCH' | 'DIVISION_BY_ZERO' | 'NOT_FINITE',
    message: string,
  ) {
    super(message);
    this.name = 'ArithError';
  }
}

export const BINARY_OPCODES = [
  Opcode.Add,
  Opcode.Sub,
  Opcode.Mul,
  Opcode.Div,
  Opcode.Eq,
  Opcode.Ne,
  Opcode.Lt,
  Opcode.Le,
  Opcode.Gt,
  Opcode.Ge,
  Opcode.And,
  Opcode.Or,
] as const;
export type BinaryOpcode = (typeof BINARY_OPCODES)[number];

export const OPERATOR_SYMBOL: Readonly<Record<BinaryOpcode | Opcode.Neg | Opcode.Not, string>> = {
  [Opcode.Add]: '+',
  [Opcode.Sub]: '-',
  [Opcode.Mul]: '*',
  [Opcode.Div]: '/',
  [Opcode.Eq]: '==',
  [Opcode.Ne]: '!=',
  [Opcode.Lt]: '<',
  [Opcode.Le]: '<=',
  [Opcode.Gt]: '>',
  [Opcode.Ge]: '>=',
  [Opcode.And]: 'and',
  [Opcode.Or]: 'or',
  [Opcode.Neg]: '-',
  [Opcode.Not]: 'not',
};

const MEASURES = new Set([ValueTag.Number, ValueTag.Percent, ValueTag.Money, ValueTag.Duration]);

export function typeName(tag: ValueTag): string {
  return ValueTag[tag].toLowerCase();
}

function measure(v: Value): number | undefined {
  return MEASURES.has(v.tag) ? (v as { value: number }).value : undefined;
}

function num(tag: ValueTag.Number | ValueTag.Percent | ValueTag.Money | ValueTag.Duration, value: number): Value {
  if (!Number.isFinite(value)) throw new ArithError('NOT_FINITE', 'the result is not a finite number');
  return { tag, value };
}

function mismatch(op: BinaryOpcode | Opcode.Neg | Opcode.Not, a: Value, b?: Value): ArithError {
  const symbol = OPERATOR_SYMBOL[op];
  return new ArithError(
    'TYPE_MISMATCH',
    b === undefined
      ? `cannot apply '${symbol}' to a ${typeName(a.tag)}`
      : `cannot apply '${symbol}' to a ${typeName(a.tag)} and a ${typeName(b.tag)}`,
  );
}

/**
 * The unit rules (docs/dsl.md, "Units"):
 *   + -   same unit on both sides; the result keeps it.
 *   *     number * X and X * number keep X's unit; a percent times money or a duration is that share of it
 *         ($500 * 10% = $50); percent * percent is a percent (50% * 50% = 25%).
 *   /     X / number keeps X's unit; X / X (same unit) is a plain number; dividing by zero is an error.
 *   < <= > >=  same unit on both sides.   == !=  same type on both sides (lists compare item by item).
 *   and or not  booleans only.
 */
export function applyBinary(op: BinaryOpcode, a: Value, b: Value): Value {
  switch (op) {
    case Opcode.And:
    case Opcode.Or:
      if (a.tag !== ValueTag.Boolean || b.tag !== ValueTag.Boolean) throw mismatch(op, a, b);
      return { tag: ValueTag.Boolean, value: op === Opcode.And ? a.value && b.value : a.value || b.value };
    case Opcode.Eq:
    case Opcode.Ne:
      if (a.tag !== b.tag) throw mismatch(op, a, b);
      return { tag: ValueTag.Boolean, value: valuesEqual(a, b) === (op === Opcode.Eq) };
    default:
      break;
  }
  const x = measure(a);
  const y = measure(b);
  if (x === undefined || y === undefined) throw mismatch(op, a, b);
  const ta = a.tag as ValueTag.Number | ValueTag.Percent | ValueTag.Money | ValueTag.Duration;
  const tb = b.tag as typeof ta;
  switch (op) {
    case Opcode.Add:
    case Opcode.Sub:
      if (ta !== tb) throw mismatch(op, a, b);
      return num(ta, op === Opcode.Add ? x + y : x - y);
    case Opcode.Mul:
      if (ta === ValueTag.Number) return num(tb, x * y);
      if (tb === ValueTag.Number) return num(ta, x * y);
      if (ta === ValueTag.Percent && tb === ValueTag.Percent) return num(ValueTag.Percent, (x * y) / 100);
      if (ta === ValueTag.Percent) return num(tb, (x * y) / 100);
      if (tb === ValueTag.Percent) return num(ta, (x * y) / 100);
      throw mismatch(op, a, b);
    case Opcode.Div:
      if (tb !== ValueTag.Number && tb !== ta) throw mismatch(op, a, b);
      if (y === 0) throw new ArithError('DIVISION_BY_ZERO', 'division by zero');
      return num(tb === ValueTag.Number ? ta : ValueTag.Number, x / y);
    case Opcode.Lt:
    case Opcode.Le:
    case Opcode.Gt:
    case Opcode.Ge: {
      if (ta !== tb) throw mismatch(op, a, b);
      const result = op === Opcode.Lt ? x < y : op === Opcode.Le ? x <= y : op === Opcode.Gt ? x > y : x >= y;
      return { tag: ValueTag.Boolean, value: result };
    }
  }
}

export function applyUnary(op: Opcode.Neg | Opcode.Not, a: Value): Value {
  if (op === Opcode.Not) {
    if (a.tag !== ValueTag.Boolean) throw mismatch(op, a);
    return { tag: ValueTag.Boolean, value: !a.value };
  }
  const x = measure(a);
  if (x === undefined) throw mismatch(op, a);
  return num(a.tag as ValueTag.Number, -x);
}

export function valuesEqual(a: Value, b: Value): boolean {
  if (a.tag !== b.tag) return false;
  if (a.tag === ValueTag.List && b.tag === ValueTag.List) {
    return a.items.length === b.items.length && a.items.every((item, i) => valuesEqual(item, b.items[i]));
  }
  if (a.tag === ValueTag.Null) return true;
  return (a as { value: unknown }).value === (b as { value: unknown }).value;
}

/** Human form of a value, as the DSL would write it (used by the disassembler and trace lines). */
export function formatValue(v: Value): string {
  switch (v.tag) {
    case ValueTag.Number:
      return String(v.value);
    case ValueTag.Percent:
      return `${v.value}%`;
    case ValueTag.Money:
      return `$${Number.isInteger(v.value) ? v.value : v.value.toFixed(2)}`;
    case ValueTag.Duration:
      return formatDuration(v.value);
    case ValueTag.String:
      return JSON.stringify(v.value);
    case ValueTag.Identifier:
      return v.value;
    case ValueTag.Boolean:
      return v.value ? 'true' : 'false';
    case ValueTag.List:
      return v.items.map(formatValue).join(', ');
    case ValueTag.Null:
      return 'null';
  }
}

const DURATION_UNITS: ReadonlyArray<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

export function formatDuration(ms: number): string {
  if (ms <= 0 || !Number.isInteger(ms)) return `${ms}ms`;
  let rest = ms;
  let out = '';
  for (const [unit, size] of DURATION_UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
