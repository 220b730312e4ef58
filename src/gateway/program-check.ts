// Compiles a program at the gateway so that a bad one is refused with a 400 listing every diagnostic, before any workflow starts.
import { compile, CompileResult, Diagnostic } from '../compiler';
import { ApiError } from './errors';

export type CompiledOk = CompileResult & { ok: true; bytecode: Buffer; rollout: NonNullable<CompileResult['rollout']> };

/** What a client sees of a diagnostic: enough to put a caret under the problem. */
export function diagnosticView(d: Diagnostic) {
  return {
    code: d.code,
    severity: d.severity,
    line: d.line,
    column: d.column,
    endLine: d.endLine,
    endColumn: d.endColumn,
    message: d.message,
    ...(d.expected ? { expected: d.expected } : {}),
  };
}

export function compileOrReject(source: string, context: Record<string, unknown>, options: { programId: string; dryRun?: boolean }): CompiledOk {
  const result = compile(source, context, options);
  if (!result.ok || !result.bytecode || !result.rollout) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0] ?? result.diagnostics[0];
    const where = first ? ` (first at ${first.line}:${first.column}: ${first.message})` : '';
    throw new ApiError(400, 'COMPILE_FAILED', `the program does not compile: ${errors.length} error(s)${where}`, { diagnostics: result.diagnostics.map(diagnosticView) });
  }
  return result as CompiledOk;
}
