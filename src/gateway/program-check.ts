// Compiles programs at the gateway: the check before a start (a bad program is a 400 listing every diagnostic) and the
// POST /compile dry run. The one place the gateway calls the compiler and the bytecode reader, so a change of signature
// scheme touches only this file. It signs with a key drawn at random per process and never stored: no agent trusts it,
// so nothing the gateway compiles can run anywhere. The production key lives only with the workers.
import { randomBytes } from 'node:crypto';
import { disassemble } from '../bytecode/disassemble';
import { compile, CompileResult, Diagnostic } from '../compiler';
import { ApiError } from './errors';

export type CompiledOk = CompileResult & { ok: true; bytecode: Buffer; rollout: NonNullable<CompileResult['rollout']> };

/** Bytes of the throwaway key; the compiler's minimum is 16. */
export const DRY_RUN_KEY_BYTES = 32;
/** Written above a dry run's disassembly, so that a copy of it says what it is. */
export const DRY_RUN_NOTE = '; dry run: signed with a throwaway key of this gateway process that no agent trusts';

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
  /** Compiles, or throws 400 COMPILE_FAILED with every diagnostic. The bytecode is signed with the throwaway key. */
  compileOrReject(source: string, context: Record<string, unknown>, programId: string): CompiledOk;
  /** Disassembly of bytecode this checker compiled (its signature checked against the throwaway key). */
  disassemble(bytecode: Buffer): string;
}

export function createProgramChecker(): ProgramChecker {
  const throwawayKey = randomBytes(DRY_RUN_KEY_BYTES);
  return {
    compileOrReject(source, context, programId) {
      const result = compile(source, context, { programId, signingKey: throwawayKey });
      if (!result.ok || !result.bytecode || !result.rollout) {
        const errors = result.diagnostics.filter((d) => d.severity === 'error');
        const first = errors[0] ?? result.diagnostics[0];
        const where = first ? ` (first at ${first.line}:${first.column}: ${first.message})` : '';
        throw new ApiError(400, 'COMPILE_FAILED', `the program does not compile: ${errors.length} error(s)${where}`, { diagnostics: result.diagnostics.map(diagnosticView) });
      }
      return result as CompiledOk;
    },
    disassemble(bytecode) {
      return `${DRY_RUN_NOTE}\n${disassemble(bytecode, { key: throwawayKey })}`;
    },
  };
}
