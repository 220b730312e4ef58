// One agent's injection as a saga: snapshot → inject → reload → trace → verify; on failure or cancellation, restore and reload.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import type { DockerActivities, SnapshotResult } from '../activities';
import type { RollbackOutcome } from '../activities/docker-activities';
import type {
  AgentInjectionInput,
  AgentInjectionResult,
  AgentRollbackInput,
  AgentRollbackResult,
  StepTiming,
  TraceSummary,
} from '../src/shared/injection-types';
import { abortAgentSignal } from '../src/contracts/messages';
import { forwardReloadId } from '../src/shared/injection-types';
import { INJECTION_STATUS } from '../src/shared/search-attributes';
import {
  DOCKER_RETRY_BACKOFF,
  DOCKER_RETRY_INITIAL_INTERVAL,
  DOCKER_RETRY_MAXIMUM_INTERVAL,
  DOCKER_STEP_TIMEOUT,
  CONFIRM_STEP_SLACK_MS,
  LOCAL_TRACE_WINDOW_MS,
  ROLLBACK_MIN_ATTEMPTS,
  TRACE_ACTIVITY_SLACK_MS,
  TRACE_HEARTBEAT_TIMEOUT,
} from '../src/shared/timeouts';

/**
 * Children started by this build first wait for the trace in a local activity (captureTraceBriefly). Children
 * recorded before it scheduled captureTrace straight away, and replay that way.
 */
export const TRACE_FIRST_LOCALLY_PATCH = 'trace-first-locally';

/**
 * Children started by this build, when stopped before their history holds a snapshot, ask the agent whether the
 * injection touched it (undoUnrecordedSteps) instead of taking "no snapshot" for "nothing changed".
 */
export const UNDO_UNRECORDED_STEPS_PATCH = 'undo-unrecorded-steps';

/**
 * Children started by this build run inject, reload, the brief wait for the answer and verify as one local activity
 * (injectAndConfirm) after the snapshot: one round trip through the worker and one marker instead of four. Children
 * recorded before it ran them as four local activities, and replay that way.
 */
export const FORWARD_IN_ONE_STEP_PATCH = 'forward-in-one-step';

/**
 * The version of this file's steps a parent asks for in the child's input (`stepsVersion`). Version 1 takes the three
 * patches above as applied. Asking `patched()` costs each new child two history events (the marker and an upsert
 * of `TemporalChangeVersion`) and one visibility write, on every agent; the input carries the same decision for free,
 * and it is as deterministic, since a child's input is part of its history. A new patch of this file goes on asking
 * `patched()` until a parent asks for the next version.
 */
export const AGENT_STEPS_VERSION = 1;

/** Whether this child runs the code that came with `patchId`: its input says so, or, for older children, `patched()`. */
function runsPatch(input: AgentInjectionInput, patchId: string): boolean {
  return (input.stepsVersion ?? 0) >= 1 || patched(patchId);
}

export { abortAgentSignal } from '../src/contracts/messages';

/** Failures no retry can mend: the activity raises them with these types and the saga moves straight to rollback. */
export const NON_RETRYABLE_AGENT_ERRORS = ['AGENT_NOT_FOUND', 'PROGRAM_REFUSED', 'TRACE_TIMEOUT', 'VERIFY_FAILED', 'ARCHIVE_TOO_LARGE', 'ARCHIVE_UNSAFE'];

function dockerRetry(retries: number) {
  return {
    initialInterval: DOCKER_RETRY_INITIAL_INTERVAL,
    maximumInterval: DOCKER_RETRY_MAXIMUM_INTERVAL,
    backoffCoefficient: DOCKER_RETRY_BACKOFF,
    maximumAttempts: retries + 1,
    nonRetryableErrorTypes: NON_RETRYABLE_AGENT_ERRORS,
  };
}

/**
 * The short Docker steps (snapshot, inject, reload, verify: a few Docker calls each) run as local activities: this
 * workflow runs on its agent's host queue, so the worker executing it sits next to the agent's Docker engine, and a
 * local activity costs no task dispatch and no history events of its own. They are idempotent, as a local activity
 * may run again when a workflow task is retried.
 */
function localDockerSteps(retries: number, extra: Partial<LocalActivityOptions> = {}) {
  return proxyLocalActivities<DockerActivities>({ startToCloseTimeout: DOCKER_STEP_TIMEOUT, retry: dockerRetry(retries), ...extra });
}

function dockerActivities(taskQueue: string, retries: number, extra: Partial<ActivityOptions> = {}) {
  return proxyActivities<DockerActivities>({ taskQueue, startToCloseTimeout: DOCKER_STEP_TIMEOUT, retry: dockerRetry(retries), ...extra });
}

function traceActivities(taskQueue: string, retries: number, traceTimeoutMs: number) {
  return dockerActivities(taskQueue, retries, {
    startToCloseTimeout: traceTimeoutMs + TRACE_ACTIVITY_SLACK_MS,
    heartbeatTimeout: TRACE_HEARTBEAT_TIMEOUT,
  });
}

/** The code and message an operator should see for a failure, unwrapped from Temporal's envelopes. */
export function describeFailure(err: unknown): { code: string; message: string } {
  let cause: unknown = err;
  while (cause instanceof ActivityFailure && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'APPLICATION_ERROR', message: cause.message };
  if (isCancellation(cause)) return { code: 'CANCELLED', message: 'cancelled before the agent finished' };
  if (cause instanceof Error) return { code: cause.name, message: cause.message };
  return { code: 'UNKNOWN', message: String(cause) };
}

/**
 * The agent's trace for this reload, which can take up to TRACE_TIMEOUT: first for at most LOCAL_TRACE_WINDOW_MS in a
 * local activity (no dispatch, no extra workflow task), then, for an agent still working, in a regular activity that
 * heartbeats and can be cancelled at once.
 */
async function captureTraceOf(input: AgentInjectionInput, at: { containerId: string; reloadId: string; fromOffset: number }): Promise<TraceSummary> {
  const tracer = traceActivities(input.dockerTaskQueue, input.retries, input.traceTimeoutMs);
  const traceInput = { ...at, timeoutMs: input.traceTimeoutMs };
  if (!runsPatch(input, TRACE_FIRST_LOCALLY_PATCH)) return tracer.captureTrace(traceInput);
  const windowMs = Math.min(LOCAL_TRACE_WINDOW_MS, input.traceTimeoutMs);
  const local = localDockerSteps(input.retries, { startToCloseTimeout: windowMs + TRACE_ACTIVITY_SLACK_MS });
  const quick = await local.captureTraceBriefly({ ...traceInput, windowMs });
  return quick ?? tracer.captureTrace({ ...traceInput, timeoutMs: input.traceTimeoutMs - windowMs });
}

/**
 * The forward path after the snapshot (FORWARD_IN_ONE_STEP_PATCH): injectAndConfirm, then, for an agent that had not
 * answered within the local window, the heartbeating captureTrace and verify. Its steps' times go into `timings`, the
 * window's part of the wait counted in the trace step. Resolves with the trace; when the injection fails after the
 * agent answered, the answer goes to `keep` (for the record and the rollback) before the failure is thrown.
 */
async function injectAndConfirmOf(
  input: AgentInjectionInput,
  timings: StepTiming[],
  at: { containerId: string; reloadId: string; fromOffset: number },
  keep: (trace: TraceSummary) => void,
): Promise<TraceSummary> {
  const windowMs = Math.min(LOCAL_TRACE_WINDOW_MS, input.traceTimeoutMs);
  const local = localDockerSteps(input.retries, { startToCloseTimeout: windowMs + CONFIRM_STEP_SLACK_MS });
  const program = input.program ? { program: input.program } : { bytecodeBase64: input.bytecodeBase64 };
  const called = Date.now();
  const step = await local
    .injectAndConfirm({ ...at, ...program, agentId: input.agentId, sha256: input.sha256, programId: input.programId, windowMs, timeoutMs: input.traceTimeoutMs })
    .catch((err: unknown) => {
      // Which of its steps failed is in the error; the time is all the record can say of them.
      timings.push({ step: 'inject', ms: Date.now() - called });
      throw err;
    });
  const windowPart = step.timings.find((t) => t.step === 'trace')?.ms ?? 0;
  if (step.trace) {
    timings.push(...step.timings);
    if (step.failure) {
      keep(step.trace);
      throw ApplicationFailure.nonRetryable(step.failure.message, step.failure.type);
    }
    return step.trace;
  }
  timings.push(...step.timings.filter((t) => t.step !== 'trace'));
  const tracer = traceActivities(input.dockerTaskQueue, input.retries, input.traceTimeoutMs);
  const started = Date.now();
  let trace: TraceSummary;
  try {
    trace = await tracer.captureTrace({ ...at, timeoutMs: input.traceTimeoutMs - windowMs });
  } finally {
    timings.push({ step: 'trace', ms: windowPart + Date.now() - started });
  }
  keep(trace);
  await timed(timings, 'verify', () => localDockerSteps(input.retries).verifyInjection({ containerId: at.containerId, reloadId: at.reloadId, programId: input.programId, trace }));
  return trace;
}

async function timed<T>(timings: StepTiming[], step: StepTiming['step'], fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await fn();
  } finally {
    timings.push({ step, ms: Date.now() - started });
  }
}

export async function agentInjectionWorkflow(input: AgentInjectionInput): Promise<AgentInjectionResult> {
  const startedAt = new Date(workflowInfo().runStartTime).toISOString();
  const timings: StepTiming[] = [];
  const reloadId = forwardReloadId(input.injectionId);
  const steps = localDockerSteps(input.retries);
  const base = { injectionId: input.injectionId, agentId: input.agentId, programId: input.programId, startedAt, timings };

  // What the forward steps achieved so far; the compensation reads it.
  const done: { snapshot?: SnapshotResult; trace: TraceSummary | null } = { trace: null };
  // The forward steps run in their own scope, so an abort signal (or the parent's cancellation) stops them
  // and the compensation below still runs.
  const forward = new CancellationScope();
  let abortReason: string | undefined;
  setHandler(abortAgentSignal, (reason) => {
    abortReason = reason;
    forward.cancel();
  });
  try {
    await forward.run(async () => {
      const snapshot = await timed(timings, 'snapshot', () => steps.snapshotAgent({ agentId: input.agentId, injectionId: input.injectionId }));
      done.snapshot = snapshot;
      const { containerId } = snapshot;
      if (runsPatch(input, FORWARD_IN_ONE_STEP_PATCH)) {
        done.trace = await injectAndConfirmOf(input, timings, { containerId, reloadId, fromOffset: snapshot.logOffset }, (trace) => (done.trace = trace));
        return;
      }
      await timed(timings, 'inject', () =>
        // By reference when the parent holds the program (the activity fetches the bytes); older children carry them.
        steps.injectProgram(
          input.program
            ? { containerId, agentId: input.agentId, reloadId, program: input.program, sha256: input.sha256 }
            : { containerId, agentId: input.agentId, reloadId, bytecodeBase64: input.bytecodeBase64, sha256: input.sha256 },
        ),
      );
      await timed(timings, 'reload', () => steps.reloadAgent({ containerId, reloadId }));
      const trace = await timed(timings, 'trace', () => captureTraceOf(input, { containerId, reloadId, fromOffset: snapshot.logOffset }));
      done.trace = trace;
      await timed(timings, 'verify', () => steps.verifyInjection({ containerId, reloadId, programId: input.programId, trace }));
    });
    upsertStatus('injected');
    const previousProgramId = replacedProgramId(done.snapshot, done.trace, null);
    return { ...base, outcome: 'injected', previousProgramId, trace: done.trace, rollbackTrace: null, finishedAt: now() };
  } catch (err) {
    const error = abortReason && isCancellation(err) ? { code: 'ABORTED', message: abortReason } : describeFailure(err);
    log.warn('agent injection failed', { agentId: input.agentId, ...error });
    const { snapshot, trace } = done;
    if (!snapshot) {
      // Stopped before a snapshot was recorded. The local steps may still have run in a workflow task that never
      // completed (an abort makes the server refuse a task that completes the workflow, and the retry replays the
      // abort before the first step), so the agent is asked, and rolled back if the injection reached it.
      if (isCancellation(err) && runsPatch(input, UNDO_UNRECORDED_STEPS_PATCH)) return undoUnrecorded(input, base, error);
      const outcome = error.code === 'AGENT_NOT_FOUND' ? 'not-found' : 'failed';
      upsertStatus(outcome);
      return { ...base, outcome, error, previousProgramId: null, trace, rollbackTrace: null, finishedAt: now() };
    }
    const undo = await compensate(timings, () =>
      rollbackSteps(input.dockerTaskQueue, input.retries, input.traceTimeoutMs).rollbackAgent({
        agentId: input.agentId,
        injectionId: input.injectionId,
        containerId: snapshot.containerId,
        timeoutMs: input.traceTimeoutMs,
      }),
    );
    const undone = undo.ok ? rollbackOutcomeOf(undo.value) : null;
    const outcome = !undone ? 'rollback-failed' : undone.supersededBy ? 'superseded' : 'rolled-back';
    upsertStatus(outcome);
    if (!undo.ok) log.error('rollback failed', { agentId: input.agentId, ...undo.error });
    return {
      ...base,
      outcome,
      error,
      rollbackError: undo.ok ? undefined : undo.error,
      ...(undone?.supersededBy ? { supersededBy: undone.supersededBy } : {}),
      previousProgramId: replacedProgramId(snapshot, trace, undone?.previousProgramId ?? null),
      trace,
      rollbackTrace: undone?.trace ?? null,
      finishedAt: now(),
    };
  }
}

/**
 * What the injection replaced: the snapshot's record for a v1 agent; for a v2 agent what its answer said it replaced,
 * or, when no answer came, what a rollback put back (`restored`).
 */
function replacedProgramId(snapshot: SnapshotResult | undefined, trace: TraceSummary | null, restored: string | null): string | null {
  if (snapshot?.protocol !== 2) return snapshot?.previousProgramId ?? null;
  return trace?.replaced !== undefined ? (trace.replaced?.programId ?? null) : restored;
}

type ResultBase = Pick<AgentInjectionResult, 'injectionId' | 'agentId' | 'programId' | 'startedAt' | 'timings'>;

/**
 * Runs a compensation step to its end, even when the parent cancels this workflow (that is the whole point of it),
 * timed as `rollback`; its failure is returned, not thrown, for the caller to record.
 */
function compensate<T>(timings: StepTiming[], step: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: { code: string; message: string } }> {
  return CancellationScope.nonCancellable(() =>
    timed(timings, 'rollback', () =>
      step().then(
        (value) => ({ ok: true as const, value }),
        (err: unknown) => ({ ok: false as const, error: describeFailure(err) }),
      ),
    ),
  );
}

async function undoUnrecorded(input: AgentInjectionInput, base: ResultBase, error: { code: string; message: string }): Promise<AgentInjectionResult> {
  const undo = await compensate(base.timings, () =>
    rollbackSteps(input.dockerTaskQueue, input.retries, input.traceTimeoutMs).undoUnrecordedSteps({
      agentId: input.agentId,
      injectionId: input.injectionId,
      timeoutMs: input.traceTimeoutMs,
    }),
  );
  const common = { ...base, error, trace: null, finishedAt: now() };
  if (!undo.ok) {
    // A container that is gone cannot say whether the injection reached it; there is nothing left to undo either.
    const outcome = undo.error.code === 'AGENT_NOT_FOUND' ? 'not-found' : 'rollback-failed';
    upsertStatus(outcome);
    if (outcome === 'rollback-failed') log.error('rollback failed', { agentId: input.agentId, ...undo.error });
    return { ...common, outcome, rollbackError: outcome === 'rollback-failed' ? undo.error : undefined, previousProgramId: null, rollbackTrace: null };
  }
  const undone = undo.value ? rollbackOutcomeOf(undo.value) : null;
  const outcome = !undone ? 'failed' : undone.supersededBy ? 'superseded' : 'rolled-back';
  upsertStatus(outcome);
  if (!undone) return { ...common, outcome: 'failed', previousProgramId: null, rollbackTrace: null };
  return { ...common, outcome, ...(undone.supersededBy ? { supersededBy: undone.supersededBy } : {}), previousProgramId: undone.previousProgramId, rollbackTrace: undone.trace };
}

function rollbackSteps(taskQueue: string, retries: number, traceTimeoutMs: number) {
  return proxyActivities<DockerActivities>({
    taskQueue,
    startToCloseTimeout: traceTimeoutMs + TRACE_ACTIVITY_SLACK_MS,
    heartbeatTimeout: TRACE_HEARTBEAT_TIMEOUT,
    retry: {
      initialInterval: DOCKER_RETRY_INITIAL_INTERVAL,
      maximumInterval: DOCKER_RETRY_MAXIMUM_INTERVAL,
      backoffCoefficient: DOCKER_RETRY_BACKOFF,
      maximumAttempts: Math.max(retries + 1, ROLLBACK_MIN_ATTEMPTS),
      nonRetryableErrorTypes: ['AGENT_NOT_FOUND', 'NO_SNAPSHOT'],
    },
  });
}

/**
 * What a rollback step returned: builds before the compare-and-swap returned the trace alone (a replayed marker still
 * holds that shape); newer ones say whether the agent was superseded.
 */
function rollbackOutcomeOf(value: RollbackOutcome | TraceSummary | { trace: TraceSummary; previousProgramId: string | null }): RollbackOutcome {
  if ('lines' in value) return { trace: value, previousProgramId: null, supersededBy: null };
  return { trace: value.trace, previousProgramId: value.previousProgramId, supersededBy: 'supersededBy' in value ? value.supersededBy : null };
}

/** Undoes an agent that was injected successfully, when the swarm as a whole must go back. */
export async function agentRollbackWorkflow(input: AgentRollbackInput): Promise<AgentRollbackResult> {
  try {
    const undone = rollbackOutcomeOf(
      await rollbackSteps(input.dockerTaskQueue, input.retries, input.traceTimeoutMs).rollbackAgent({
        agentId: input.agentId,
        injectionId: input.injectionId,
        containerId: null,
        timeoutMs: input.traceTimeoutMs,
      }),
    );
    if (undone.supersededBy) {
      upsertStatus('superseded');
      return { agentId: input.agentId, outcome: 'superseded', supersededBy: undone.supersededBy, trace: null };
    }
    upsertStatus('rolled-back');
    return { agentId: input.agentId, outcome: 'rolled-back', trace: undone.trace };
  } catch (err) {
    upsertStatus('rollback-failed');
    return { agentId: input.agentId, outcome: 'rollback-failed', error: describeFailure(err), trace: null };
  }
}

function upsertStatus(status: string): void {
  upsertSearchAttributes([{ key: INJECTION_STATUS, value: status }]);
}

function now(): string {
  return new Date().toISOString();
}
