// Diagnostics: the stable codes, the value every check reports, and its `file:line:col:` rendering.
import type { Span } from './ast';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  line: number;
  column: number;
  offset: number;
  endLine: number;
  endColumn: number;
  expected?: string[];
}

/** Every code the compiler reports, with what it means; docs/dsl.md lists the same table. */
export const DIAGNOSTIC_CODES = {
  SYNTAX_ERROR: 'the text does not follow the grammar; the message says what was expected there',
  EMPTY_PROGRAM: 'the program holds no directive',
  PROGRAM_TOO_LARGE: 'the source or the bytecode is over its size bound',
  NESTING_TOO_DEEP: 'parentheses or WHEN blocks nest deeper than the bound',
  WHEN_TOO_DEEP: 'WHEN blocks, counting each ELSE WHEN of a chain as one level more, nest deeper than the bound',
  CONTROL_CHARACTER: 'a string holds a raw control character (write \\n, \\t or \\r; other control characters have no place in a program)',
  EXPRESSION_TOO_DEEP: 'an expression tree is deeper than the bound',
  STACK_TOO_DEEP: 'a directive would need more VM stack than the agent allows',
  UNKNOWN_DIRECTIVE: 'the directive is not in the catalogue (with a suggestion for near misses)',
  UNKNOWN_KEY: 'the key is neither a parameter of the directive nor a rollout key (with a suggestion)',
  DUPLICATE_KEY: 'the same key appears twice in one block',
  TOO_MANY_KEYS: 'a block holds more entries than the bound',
  MISSING_KEY: 'a required parameter is missing',
  MISSING_AMOUNT: 'the directive needs a BY amount',
  AMOUNT_NOT_ALLOWED: 'the directive takes no BY amount',
  TYPE_MISMATCH: 'a value has the wrong type, or an operator does not accept its operands (unit rules)',
  PERCENT_OUT_OF_RANGE: 'a percent is outside 0–100',
  DURATION_NOT_POSITIVE: 'a duration is zero or negative',
  DEADLINE_TOO_LONG: 'DEADLINE is over the maximum',
  OUT_OF_RANGE: 'a number is outside the range its key allows (or is not a whole number where one is needed)',
  DIVISION_BY_ZERO: 'an expression divides by zero',
  NOT_FINITE: 'a number is too large to represent',
  LIST_TOO_LONG: 'a list holds more items than the bound',
  NOT_CONSTANT: 'the value must be known at compile time (no agent.* variables)',
  UNDEFINED_CONTEXT: 'a ${name} reference names nothing in the context',
  CONTEXT_TYPE: 'a context value cannot be used as a DSL value (null, object, nested list, mixed list)',
  UNKNOWN_VARIABLE: 'an agent.* variable the agents do not provide',
  ROLLOUT_CONFLICT: 'a rollout key is set to two different values',
  ROLLOUT_IN_RUNTIME_BRANCH: 'a rollout key sits under a WHEN that depends on agent.* variables',
  NO_DIRECTIVE_RUNS: 'warning: every directive is in a branch that can never run',
  TOO_MANY_DIAGNOSTICS: 'more diagnostics than the bound; the rest were dropped',
  INVALID_INPUT: 'compile() was called with a source, context or options of the wrong shape',
  INTERNAL_ERROR: 'a compiler defect; please report it with the program',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

const START_OF_FILE: Span = { start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } };

export function diagnosticAt(code: DiagnosticCode, message: string, span: Span = START_OF_FILE, severity: Severity = 'error'): Diagnostic {
  return {
    code,
    severity,
    message,
    line: span.start.line,
    column: span.start.column,
    offset: span.start.offset,
    endLine: span.end.line,
    endColumn: span.end.column,
  };
}

/** `FILE:LINE:COL: error[CODE]: message`, then the source line and a caret under the span. */
export function formatDiagnostic(file: string, source: string, d: Diagnostic): string {
  const lines = source.split(/\r?\n|\r/);
  const text = lines[d.line - 1] ?? '';
  // Keep tabs in the padding so the caret lines up under tab-indented source.
  const padding = text.slice(0, Math.max(0, d.column - 1)).replace(/[^\t]/g, ' ');
  const width = d.endLine === d.line && d.endColumn > d.column ? Math.min(d.endColumn, text.length + 1) - d.column : 1;
  const underline = '^' + '~'.repeat(Math.max(0, width - 1));
  return `${file}:${d.line}:${d.column}: ${d.severity}[${d.code}]: ${d.message}\n${text}\n${padding}${underline}`;
}
