// The DSL compiler: source + context → parse → check/fold → bytecode v2, unsigned. Pure, never throws.
// It signs nothing: the injector seals the body for each agent where it stages it (src/signing, docs/security.md).
import { BytecodeError, encodeUnsignedProgram } from '../bytecode/format';
import { DRY_RUN_PROGRAM_ID } from '../signing/seal';
import { DEFAULT_DIRECTIVES, DirectiveCatalogue } from './catalogue';
import { check, DirectiveSummary } from './check';
import { isRecord } from './context';
import { generate } from './codegen';
import { Diagnostic, diagnosticAt } from './diagnostics';
import type { Position } from './ast';
import { parseProgram } from './grammar';
import { controlCharacterEscape, hasControlCharacter } from '../shared/control-chars';
import { MAX_NESTING_DEPTH, MAX_SOURCE_BYTES, MAX_WHEN_DEPTH } from './limits';
import { prescan } from './prescan';
import { findExcessWhenDepth } from './when-depth';
import type { RolloutSettings } from './rollout';

export type { Severity, Diagnostic, DiagnosticCode } from './diagnostics';
export { DIAGNOSTIC_CODES, formatDiagnostic } from './diagnostics';
export type { Share, RolloutSettings } from './rollout';
export { ROLLOUT_DEFAULTS, ROLLOUT_KEYS } from './rollout';
export type { DirectiveSummary } from './check';
export type { DirectiveCatalogue, DirectiveSpec, ValueSpec, ScalarKind } from './catalogue';
export { DEFAULT_DIRECTIVES, RUNTIME_VARIABLES } from './catalogue';
export * from './limits';

export interface CompileOptions {
  /** Written into the bytecode: the injection id, or another caller-chosen id (at most 128 UTF-8 bytes). */
  programId: string;
  /**
   * Marks the output as a dry run's (FLAG_DRY_RUN), which the injector never seals. The program id `dry-run` is
   * always one. Either way the output is unsigned and every agent refuses it (BC_UNSIGNED).
   */
  dryRun?: boolean;
  /** The directives the agents implement; DEFAULT_DIRECTIVES when omitted. */
  directives?: DirectiveCatalogue;
  /** Constant folding and dead-branch removal; default true. Checks and rollout are the same either way. */
  optimize?: boolean;
}

export interface CompileResult {
  ok: boolean;
  /** The unsigned v2 file: the body the injector seals per agent (sealCompiled), or a dry run's listing. */
  bytecode: Buffer | null;
  rollout: RolloutSettings | null;
  directives: DirectiveSummary[];
  diagnostics: Diagnostic[];
}

function failed(diagnostics: Diagnostic[], directives: DirectiveSummary[] = []): CompileResult {
  return { ok: false, bytecode: null, rollout: null, directives, diagnostics };
}

/** Compiles a program; every problem, including bad arguments, comes back as a diagnostic. */
export function compile(source: string, context: Record<string, unknown> | undefined, options: CompileOptions): CompileResult {
  try {
    return compileChecked(source, context, options);
  } catch (err) {
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return failed([diagnosticAt('INTERNAL_ERROR', `the compiler failed unexpectedly (${detail}); please report this program`)]);
  }
}

function compileChecked(source: unknown, context: unknown, options: unknown): CompileResult {
  if (typeof source !== 'string') return failed([diagnosticAt('INVALID_INPUT', 'the source must be a string')]);
  if (context !== undefined && !isRecord(context)) return failed([diagnosticAt('INVALID_INPUT', 'the context must be a JSON object')]);
  if (!isRecord(options) || typeof options.programId !== 'string') {
    return failed([diagnosticAt('INVALID_INPUT', 'options need a programId string')]);
  }
  const dryRun = options.dryRun === true || options.programId === DRY_RUN_PROGRAM_ID;
  const catalogue = isRecord(options.directives) ? (options.directives as DirectiveCatalogue) : DEFAULT_DIRECTIVES;
  const optimize = options.optimize !== false;

  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > MAX_SOURCE_BYTES) {
    return failed([diagnosticAt('PROGRAM_TOO_LARGE', `the program is ${bytes} bytes, over the ${MAX_SOURCE_BYTES}-byte limit; split it into several injections`)]);
  }
  const found = prescan(source);
  if (found?.code === 'NESTING_TOO_DEEP') {
    return failed([diagnosticAt('NESTING_TOO_DEEP', `brackets nest deeper than ${MAX_NESTING_DEPTH} levels here; flatten the program`, found.span)]);
  }
  if (found?.code === 'CONTROL_CHARACTER') {
    const shown = controlCharacterEscape(found.char ?? '');
    return failed([diagnosticAt('CONTROL_CHARACTER', `this string holds the control character ${shown}; write \\n, \\t or \\r for a line break or a tab, and leave other control characters out`, found.span)]);
  }

  const parsed = parseProgram(source);
  if (!parsed.ok) return failed([syntaxDiagnostic(source, parsed)]);
  const whenTooDeep = findExcessWhenDepth(parsed.program.statements);
  if (whenTooDeep) {
    return failed([
      diagnosticAt('WHEN_TOO_DEEP', `WHEN blocks nest deeper than ${MAX_WHEN_DEPTH} levels here (each ELSE WHEN counts as one more); use fewer branches, or split the program`, whenTooDeep),
    ]);
  }

  const checked = check(parsed.program.statements, context ?? {}, catalogue, optimize);
  if (checked.diagnostics.some((d) => d.severity === 'error')) return failed(checked.diagnostics, checked.directives);

  const generated = generate(options.programId, checked.statements);
  const diagnostics = [...checked.diagnostics, ...generated.diagnostics];
  if (generated.diagnostics.length > 0) return failed(diagnostics, checked.directives);
  try {
    const bytecode = encodeUnsignedProgram(generated.body, { dryRun });
    return { ok: true, bytecode, rollout: checked.rollout, directives: checked.directives, diagnostics };
  } catch (err) {
    if (!(err instanceof BytecodeError)) throw err;
    const code = err.code === 'BC_TOO_LARGE' || err.code === 'BC_LIMIT' ? 'PROGRAM_TOO_LARGE' : 'INTERNAL_ERROR';
    return failed([...diagnostics, diagnosticAt(code, `the bytecode cannot be written: ${err.message}`)], checked.directives);
  }
}

function syntaxDiagnostic(source: string, failure: { at: Position; expected: string[] }): Diagnostic {
  const { offset, line, column } = failure.at;
  const expected = [...new Set(failure.expected.map(readableExpectation))].sort();
  const found = offset >= source.length ? 'the end of the program' : describeFound(source, offset);
  const message = `expected ${joinOr(expected)}, found ${found}`;
  return { code: 'SYNTAX_ERROR', severity: 'error', message, line, column, offset, endLine: line, endColumn: column + 1, expected };
}

function readableExpectation(e: string): string {
  if (e === 'EOF') return 'the end of the program';
  return e;
}

function describeFound(source: string, offset: number): string {
  const c = source[offset];
  if (c === '\n' || c === '\r') return 'the end of the line';
  if (c === '"') return /^"(?:[^"\\\n\r]|\\.)*"/.test(source.slice(offset, offset + 70_000)) ? 'a string with an unknown escape (use \\" \\\\ \\n \\t \\r)' : 'a string with no closing quote on its line';
  const word = /^[A-Za-z0-9_$%.]+/.exec(source.slice(offset, offset + 40));
  if (word) return `'${word[0]}'`;
  // A control character is named by its escape, never echoed into a message that reaches a terminal.
  return hasControlCharacter(c) ? `the control character ${controlCharacterEscape(c)}` : `'${c}'`;
}

function joinOr(items: string[]): string {
  if (items.length <= 1) return items[0] ?? 'something else';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
