// Runs one verified program in the VM and turns its steps into trace lines; a newer reload can supersede it.
import type { ProgramBody } from '../bytecode/format';
import type { Value } from '../bytecode/instructions';
import { DirectiveHandler, runProgram, StepEvent, VmError } from '../bytecode/vm';
import type { HandlerRegistry } from './handler-registry';
import { FinalTraceLine, MAX_STEP_LINES_PER_RUN } from './protocol';
import { startResourceMeter } from './resource-meter';
import type { TraceWriter } from './trace-writer';

export interface RunLimits {
  /** VM instructions per run. */
  maxSteps: number;
  timeLimitMs: number;
}

export interface RunDeps {
  registry: HandlerRegistry;
  variable(name: string): Value | undefined;
  trace: TraceWriter;
  limits: RunLimits;
  now?: () => Date;
  /**
   * Called when the run ends in an error of its own (not a supersede or stop), before the final line is written:
   * the runtime puts the previous program back and says which one it restored.
   */
  onFailure?: () => { revertedTo: string | null };
}

export interface ActiveRun {
  reloadId: string;
  programId: string;
  /** Resolves with the final line once it is written; never rejects. */
  done: Promise<FinalTraceLine>;
  /** Aborts the run; its final line carries the given code (SUPERSEDED, AGENT_STOPPED). */
  abort(code: RunAbortCode, message: string): void;
}

export type RunAbortCode = 'SUPERSEDED' | 'AGENT_STOPPED';

export class RunAbortedError extends Error {
  constructor(
    readonly code: RunAbortCode,
    message: string,
  ) {
    super(message);
    this.name = 'RunAbortedError';
  }
}

export function startRun(reloadId: string, program: ProgramBody, deps: RunDeps): ActiveRun {
  const now = deps.now ?? (() => new Date());
  const supersede = new AbortController();
  const meter = startResourceMeter();
  let stepLines = 0;
  let lastStep = 0;
  let truncated = false;

  const onStep = (event: StepEvent) => {
    meter.sample();
    lastStep = event.step;
    if (stepLines >= MAX_STEP_LINES_PER_RUN) {
      truncated = true;
      return;
    }
    stepLines++;
    deps.trace.write({
      v: 1,
      injectionId: reloadId,
      programId: program.programId,
      step: event.step,
      instruction: event.instruction,
      status: event.status,
      ts: now().toISOString(),
      ...(event.outcome ? { outcome: event.outcome } : {}),
      ...(event.error !== undefined ? { error: event.error } : {}),
    });
  };

  // Wraps each handler so that a supersede aborts the directive in flight and any directive after it.
  const handler = (name: string): DirectiveHandler | undefined => {
    const inner = deps.registry.handler(name);
    if (!inner) return undefined;
    return (call, timeSignal) => {
      if (supersede.signal.aborted) throw supersede.signal.reason;
      const signal = AbortSignal.any([timeSignal, supersede.signal]);
      return new Promise((resolve, reject) => {
        const onAbort = () => reject(supersede.signal.reason);
        supersede.signal.addEventListener('abort', onAbort, { once: true });
        Promise.resolve()
          .then(() => inner(call, signal))
          .then(resolve, reject)
          .finally(() => supersede.signal.removeEventListener('abort', onAbort));
      });
    };
  };

  const done = (async (): Promise<FinalTraceLine> => {
    let error: FinalTraceLine['error'];
    try {
      await runProgram(program, {
        handler,
        variable: deps.variable,
        maxSteps: deps.limits.maxSteps,
        timeLimitMs: deps.limits.timeLimitMs,
        onStep,
      });
    } catch (err) {
      const reason: unknown = supersede.signal.reason;
      if (reason instanceof RunAbortedError) {
        error = { code: reason.code, message: reason.message };
      } else if (err instanceof VmError) {
        error = { code: err.code, message: err.message };
      } else {
        error = { code: 'AGENT_INTERNAL', message: err instanceof Error ? err.message : String(err) };
      }
    }
    const reverted = error && !(supersede.signal.reason instanceof RunAbortedError) ? deps.onFailure?.() : undefined;
    const figures = meter.finish();
    const final: FinalTraceLine = {
      v: 1,
      injectionId: reloadId,
      programId: program.programId,
      final: true,
      status: error ? 'error' : 'completed',
      steps: lastStep,
      ...(error ? { error } : {}),
      ...(reverted ? { revertedTo: reverted.revertedTo } : {}),
      ...figures,
      ...(truncated ? { traceTruncated: true } : {}),
      ts: now().toISOString(),
    };
    try {
      deps.trace.write(final);
    } catch (err) {
      console.error(`openclaw-agent: could not write the final trace line of ${reloadId}: ${String(err)}`);
    }
    return final;
  })();

  return {
    reloadId,
    programId: program.programId,
    done,
    abort(code, message) {
      if (!supersede.signal.aborted) supersede.abort(new RunAbortedError(code, message));
    },
  };
}
