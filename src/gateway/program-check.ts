// Compiles programs at the gateway: the check before a start (a bad program is a 400 listing every diagnostic) and the
// POST /compile dry run. The one place the gateway calls the compiler and the bytecode reader. The compiler's output is
// unsigned (agents accept only programs a worker sealed for them), and the gateway holds no signing key: nothing it
// compiles can run anywhere. The private key lives only with the workers.
import { disassemble } from '../bytecode/disassemble';
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

export interface ProgramChecker {
  /** Compiles, or throws 400 COMPILE_FAILED with every diagnostic. The bytecode is unsigned. */
  compileOrReject(source: string, context: Record<string, unknown>, options: { programId: string; dryRun?: boolean }): CompiledOk;
  /** Disassembly of bytecode this checker compiled; its listing says it is unsigned. */
  disassemble(bytecode: Buffer): string;
}

export function createProgramChecker(): ProgramChecker {
  return {
    compileOrReject(source, context, options) {
      const result = compile(source, context, options);
      if (!result.ok || !result.bytecode || !result.rollout) {
        const errors = result.diagnostics.filter((d) => d.severity === 'error');
        const first = errors[0] ?? result.diagnostics[0];
        const where = first ? ` (first at ${first.line}:${first.column}: ${first.message})` : '';
        throw new ApiError(400, 'COMPILE_FAILED', `the program does not compile: ${errors.length} error(s)${where}`, { diagnostics: result.diagnostics.map(diagnosticView) });
      }
      return result as CompiledOk;
    },
    disassemble(bytecode) {
      return disassemble(bytecode);
    },
  };
}
