// Helpers every gateway call to Temporal shares: deadlines for calls that need a worker, gRPC codes, not-found, states.
import { Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ApiError } from './errors';

/** How long a query, an update or a dry run's target lookup may take before the gateway answers 503. */
export const WORKFLOW_CALL_TIMEOUT_MS = 10_000;
export const SWARM_WORKFLOW_TYPE = 'swarmInjectionWorkflow';
export const AGENT_WORKFLOW_TYPE = 'agentInjectionWorkflow';

export type WorkflowState = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT' | 'CONTINUED_AS_NEW' | 'UNKNOWN';

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_CANCELLED = 1;
const GRPC_NOT_FOUND = 5;
/** Causes looked through for a gRPC code. */
const MAX_CAUSE_DEPTH = 3;

/** The gRPC status code of a Temporal service error, on the error or its cause. */
export function grpcCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < MAX_CAUSE_DEPTH; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

export function isInvalidArgument(err: unknown): boolean {
  return grpcCode(err) === GRPC_INVALID_ARGUMENT;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err instanceof Error && /not found/i.test(err.message) && (err as { code?: number }).code === GRPC_NOT_FOUND);
}

export function injectionNotFound(injectionId: string): ApiError {
  return new ApiError(404, 'INJECTION_NOT_FOUND', `no injection with id ${injectionId}`);
}

export function workflowState(name: string): WorkflowState {
  const known: readonly WorkflowState[] = ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT', 'CONTINUED_AS_NEW'];
  return (known as readonly string[]).includes(name) ? (name as WorkflowState) : 'UNKNOWN';
}

const STATUS_BY_ENUM: ReadonlyMap<number, WorkflowState> = new Map([
  [temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, 'RUNNING'],
  [temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED, 'COMPLETED'],
  [temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED, 'FAILED'],
  [temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED, 'CANCELLED'],
  [temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED, 'TERMINATED'],
  [temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, 'TIMED_OUT'],
  [temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, 'CONTINUED_AS_NEW'],
]);

/** A workflow execution status as the raw visibility API gives it (an enum number), as the API shows it. */
export function workflowStateOfEnum(status: number | null | undefined): WorkflowState {
  return STATUS_BY_ENUM.get(status ?? 0) ?? 'UNKNOWN';
}

/** Runs a call that needs a worker (query, update, a dry run's lookup) with a deadline, mapping "no worker answered" to 503. */
export async function withWorker<T>(client: Client, what: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  try {
    return await client.connection.withDeadline(deadline, fn);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError || err instanceof ApiError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    // gRPC reports a passed deadline as DEADLINE_EXCEEDED or, racing its own timer, as CANCELLED ("Call cancelled");
    // the client wraps either one of an update in WorkflowUpdateRPCTimeoutOrCancelledError. Nothing else cancels these calls.
    const deadlinePassed = Date.now() >= deadline;
    if (
      err instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
      grpcCode(err) === GRPC_DEADLINE_EXCEEDED ||
      (deadlinePassed && grpcCode(err) === GRPC_CANCELLED) ||
      /deadline|timeout|timed out|no poller|worker/i.test(message)
    ) {
      throw new ApiError(503, 'WORKERS_UNAVAILABLE', `no worker answered the ${what} within ${timeoutMs} ms; are the injector workers running?`, undefined, { cause: err });
    }
    throw err;
  }
}

/** The swarm workflow of an injection, described; 404 INJECTION_NOT_FOUND when there is none (or it is another type). */
export async function describeInjection(client: Client, injectionId: string) {
  try {
    const description = await client.workflow.getHandle(injectionId).describe();
    if (description.type !== SWARM_WORKFLOW_TYPE) throw injectionNotFound(injectionId);
    return description;
  } catch (err) {
    if (isNotFound(err)) throw injectionNotFound(injectionId);
    throw err;
  }
}
