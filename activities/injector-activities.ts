// Activities that need no Docker engine; they run on the main task queue.
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { compile } from '../src/compiler';
import type { ProgramRef } from '../src/shared/injection-types';
import { INJECTION_ID } from '../src/shared/search-attributes';
import { programHolderWorkflow, programHolderWorkflowId } from '../workflows/program-holder';
import type { Diagnostic, DirectiveSummary, RolloutSettings } from '../src/compiler';
import type { Logger } from '../src/shared/logger';

export interface InjectorActivityDeps {
  logger: Logger;
  /** Starts an injection's program holder (programs by reference); absent where nothing holds programs. */
  client?: Client;
  /** The main task queue, where holders run. */
  taskQueue?: string;
}

/** A holder outlives its injection's deadline by this much at most, then ends by itself (a terminated injection). */
export const PROGRAM_HOLD_SLACK_MS = 24 * 60 * 60 * 1000;

export type CompiledProgram =
  | {
      ok: true;
      bytecodeBase64: string;
      sha256: string;
      programId: string;
      rollout: RolloutSettings;
      directives: DirectiveSummary[];
      diagnostics: Diagnostic[];
      /** With holdProgram: where the program is held; then bytecodeBase64 is empty (programs by reference). */
      held?: ProgramRef;
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
    async compileProgram(input: { injectionId: string; source: string; context: Record<string, unknown>; holdProgram?: boolean }): Promise<CompiledProgram> {
      const result = compile(input.source, input.context, { programId: input.injectionId });
      if (!result.ok || !result.bytecode || !result.rollout) return { ok: false, diagnostics: result.diagnostics };
      const sha256 = createHash('sha256').update(result.bytecode).digest('hex');
      if (input.holdProgram) {
        if (!deps.client || !deps.taskQueue) throw new Error('compileProgram with holdProgram needs a Temporal client and the main task queue');
        const held: ProgramRef = { holderWorkflowId: programHolderWorkflowId(input.injectionId), sha256, programId: input.injectionId, bytes: result.bytecode.length };
        // One copy, as a binary payload, in the holder's start event; a retried compile finds the same holder.
        await deps.client.workflow.start(programHolderWorkflow, {
          workflowId: held.holderWorkflowId,
          taskQueue: deps.taskQueue,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          typedSearchAttributes: [{ key: INJECTION_ID, value: input.injectionId }],
          args: [{ injectionId: input.injectionId, programId: input.injectionId, sha256, bytes: result.bytecode.length, keepMs: result.rollout.deadlineMs + PROGRAM_HOLD_SLACK_MS }, new Uint8Array(result.bytecode)],
        });
        return { ok: true, bytecodeBase64: '', sha256, programId: input.injectionId, rollout: result.rollout, directives: result.directives, diagnostics: result.diagnostics, held };
      }
      return {
        ok: true,
        bytecodeBase64: result.bytecode.toString('base64'),
        sha256,
        programId: input.injectionId,
        rollout: result.rollout,
        directives: result.directives,
        diagnostics: result.diagnostics,
      };
    },
  };
}

export type InjectorActivities = ReturnType<typeof createInjectorActivities>;
