// Activities that need no Docker engine; they run on the main task queue.
import { createHash } from 'node:crypto';
import { compile } from '../src/compiler';
import type { Diagnostic, DirectiveSummary, RolloutSettings } from '../src/compiler';
import type { Logger } from '../src/shared/logger';

export interface InjectorActivityDeps {
  logger: Logger;
}

export type CompiledProgram =
  | {
      ok: true;
      bytecodeBase64: string;
      sha256: string;
      programId: string;
      rollout: RolloutSettings;
      directives: DirectiveSummary[];
      diagnostics: Diagnostic[];
    }
  | { ok: false; diagnostics: Diagnostic[] };

export function createInjectorActivities(deps: InjectorActivityDeps) {
  return {
    async ping(message: string): Promise<string> {
      deps.logger.debug('ping', { message });
      return `pong: ${message}`;
    },

    /**
     * Compiles inside an activity so that its result is recorded: a later compiler upgrade never changes what a
     * running injection replays. The program id is the injection id, so the same request always gives the same bytes.
     * The result is unsigned (no agent accepts it): the Docker activities seal it for each agent where they stage it.
     */
    async compileProgram(input: { injectionId: string; source: string; context: Record<string, unknown> }): Promise<CompiledProgram> {
      const result = compile(input.source, input.context, { programId: input.injectionId });
      if (!result.ok || !result.bytecode || !result.rollout) return { ok: false, diagnostics: result.diagnostics };
      return {
        ok: true,
        bytecodeBase64: result.bytecode.toString('base64'),
        sha256: createHash('sha256').update(result.bytecode).digest('hex'),
        programId: input.injectionId,
        rollout: result.rollout,
        directives: result.directives,
        diagnostics: result.diagnostics,
      };
    },
  };
}

export type InjectorActivities = ReturnType<typeof createInjectorActivities>;
