// Temporal commands on injections: start (idempotent), pause, resume, abort, maxParallel, each carrying its operator;
// and `?wait=true`'s bounded long polls on a result, each cancelled when its wait ends.
import { WorkflowFailedError, WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { OperatorAction, PRIORITY_KEY, SwarmInjectionInput } from '../shared/injection-types';
import { INJECTION_ID } from '../shared/search-attributes';
import { mainTaskQueue } from '../shared/task-queues';
import { abortSignal, pauseSignal, progressQuery, resumeSignal, setMaxParallelUpdate } from '../contracts/messages';
import { swarmDetails, swarmSummary } from '../shared/ui-summaries';
import { swarmInjectionWorkflow } from '../../workflows/swarm-injection';
import { ApiError } from './errors';
import type { InjectionServiceDeps, InjectionTarget, StartedInjection, StartInjectionRequest, SteerGuard, WaitSlot } from './injection-api';
import type { GatewayMetrics } from './metrics';
import { describeInjection, withWorker } from './temporal-calls';

/** `?wait=true` requests waiting at once across all callers; past it a new waited start is refused before it starts. */
export const MAX_CONCURRENT_WAITS = 200;
/** What a client is told to wait before trying a waited start again when every wait slot is taken. */
const WAITS_FULL_RETRY_AFTER_SECONDS = 5;

/** How long a start with onBusy 'refuse' waits for the injection to take its leases before answering 202 anyway. */
export const ADMISSION_WAIT_MS = 20_000;
const ADMISSION_POLL_MS = 100;
const ADMITTING_WAVES: readonly string[] = ['compile', 'resolve', 'lease'];

export interface InjectionCommands {
  start(request: StartInjectionRequest): Promise<StartedInjection>;
  /**
   * Waits (bounded) until the injection has its leases or has failed for want of them: the agents held by another
   * injection when it refused to wait, or null once it is admitted (or still deciding after ADMISSION_WAIT_MS).
   */
  busyAgents(injectionId: string, timeoutMs?: number): Promise<{ agentId: string; holder: string }[] | null>;
  pause(injectionId: string, action: OperatorAction, guard: SteerGuard): Promise<void>;
  resume(injectionId: string, action: OperatorAction, guard: SteerGuard): Promise<void>;
  abort(injectionId: string, reason: string | undefined, action: OperatorAction, guard: SteerGuard): Promise<void>;
  setMaxParallel(injectionId: string, maxParallel: number, action: OperatorAction, guard: SteerGuard): Promise<number>;
  reserveWait(): WaitSlot;
  openPolls(): number;
  close(): Promise<void>;
}

/** The memo a started injection carries: who asked, under which request, and the one group it targets (if any). */
interface InjectionMemo {
  requestFingerprint?: unknown;
  targetGroup?: unknown;
}

export function createInjectionCommands(deps: InjectionServiceDeps & { metrics: GatewayMetrics; callTimeoutMs: number }): InjectionCommands {
  const { client } = deps;
  const maxWaits = deps.maxConcurrentWaits ?? MAX_CONCURRENT_WAITS;
  /** Every open result poll, so that close() can end them and openPolls() can count them. */
  const polls = new Map<AbortController, Promise<unknown>>();
  let waits = 0;
  let closed = false;

  const handle = (injectionId: string): WorkflowHandle<typeof swarmInjectionWorkflow> => client.workflow.getHandle<typeof swarmInjectionWorkflow>(injectionId);

  const describe = (injectionId: string) => describeInjection(client, injectionId);


  /** The injection, running, and allowed to this caller: 404, 409 INJECTION_CLOSED or the guard's 403 otherwise. */
  async function requireSteerable(injectionId: string, guard: SteerGuard): Promise<void> {
    const description = await describe(injectionId);
    const memo = (description.memo ?? {}) as InjectionMemo;
    const target: InjectionTarget = { group: typeof memo.targetGroup === 'string' ? memo.targetGroup : null };
    guard(target);
    if (description.status.name !== 'RUNNING') {
      throw new ApiError(409, 'INJECTION_CLOSED', `injection ${injectionId} is no longer running (${description.status.name.toLowerCase()})`);
    }
  }

  /** Polls the workflow's result until it closes (true), the poll is cancelled (false), or close() ends every poll. */
  function pollResult(injectionId: string, cancel: AbortController): Promise<boolean> {
    const poll = client
      .withAbortSignal(cancel.signal, () => handle(injectionId).result())
      .then(
        () => true,
        (err: unknown) => {
          if (err instanceof WorkflowFailedError) return true;
          // the wait ended (its timeout, or close()): the caller gets "still running" and its status URL, not an error
          if (cancel.signal.aborted) return false;
          throw err;
        },
      )
      .finally(() => polls.delete(cancel));
    polls.set(cancel, poll);
    return poll;
  }

  return {
    async start(request) {
      const input: SwarmInjectionInput = {
        injectionId: request.injectionId,
        source: request.source,
        context: request.context,
        targets: request.targets,
        priority: request.priority,
        requestedBy: request.requestedBy,
        taskQueue: deps.taskQueue,
        dockerHosts: deps.dockerHosts,
      };
      try {
        await client.workflow.start(swarmInjectionWorkflow, {
          workflowId: request.injectionId,
          taskQueue: mainTaskQueue(deps.taskQueue),
          args: [request.onBusy ? { ...input, onBusy: request.onBusy } : input],
          // An id is used once, ever: a retried request finds the first injection instead of starting a second.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: [{ key: INJECTION_ID, value: request.injectionId }],
          // The swarm's own workflow tasks are ordered by it too; its children and activities inherit it.
          priority: { priorityKey: PRIORITY_KEY[request.priority] },
          memo: { requestFingerprint: request.fingerprint, requestedBy: request.requestedBy, requestId: request.requestId, targetGroup: request.targetGroup },
          // What the Web UI shows beside the workflow: the program, its targets and who asked.
          staticSummary: swarmSummary(request),
          staticDetails: swarmDetails(request),
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const existing = await describe(request.injectionId).catch(() => null);
        const fingerprint = (existing?.memo as InjectionMemo | undefined)?.requestFingerprint;
        if (!existing || fingerprint !== request.fingerprint) {
          throw new ApiError(409, 'INJECTION_ID_CONFLICT', `injection ${request.injectionId} already exists for a different request; use a new Idempotency-Key`);
        }
        return { injectionId: request.injectionId, created: false };
      }
      deps.metrics.injectionStarted();
      return { injectionId: request.injectionId, created: true };
    },

    async busyAgents(injectionId, timeoutMs = ADMISSION_WAIT_MS) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const description = await describeInjection(client, injectionId);
        if (description.status.name !== 'RUNNING') {
          const failure = await handle(injectionId)
            .result()
            .then(() => null, (err: unknown) => (err instanceof WorkflowFailedError ? err.cause : null));
          if (failure instanceof ApplicationFailure && failure.type === 'AGENT_BUSY') return (failure.details?.[0] as { agentId: string; holder: string }[] | undefined) ?? [];
          return null;
        }
        const progress = await withWorker(client, 'progress query', deps.callTimeoutMs ?? 10_000, () => handle(injectionId).query(progressQuery, { limit: 1 })).catch(() => null);
        if (progress && !ADMITTING_WAVES.includes(progress.wave)) return null;
        if (Date.now() >= deadline) return null;
        await new Promise((resolve) => setTimeout(resolve, ADMISSION_POLL_MS));
      }
    },

    async pause(injectionId, action, guard) {
      await requireSteerable(injectionId, guard);
      await handle(injectionId).signal(pauseSignal, action);
    },

    async resume(injectionId, action, guard) {
      await requireSteerable(injectionId, guard);
      await handle(injectionId).signal(resumeSignal, action);
    },

    async abort(injectionId, reason, action, guard) {
      await requireSteerable(injectionId, guard);
      // The reason is the caller's text; who aborted is `action.by`, from the token, never from the reason.
      await handle(injectionId).signal(abortSignal, reason, action);
    },

    async setMaxParallel(injectionId, maxParallel, action, guard) {
      await requireSteerable(injectionId, guard);
      try {
        return await withWorker(client, 'maxParallel update', deps.callTimeoutMs, () => handle(injectionId).executeUpdate(setMaxParallelUpdate, { args: [maxParallel, action] }));
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) {
          const cause = err.cause instanceof Error ? err.cause.message : err.message;
          throw new ApiError(400, 'INVALID_REQUEST', cause, { problems: [{ field: 'maxParallel', problem: cause }] });
        }
        throw err;
      }
    },

    reserveWait() {
      if (closed || waits >= maxWaits) {
        throw new ApiError(503, 'TOO_MANY_WAITS', `${maxWaits} requests are already waiting (?wait=true); start without wait, or try again shortly`, {
          maxConcurrentWaits: maxWaits,
          retryAfterSeconds: WAITS_FULL_RETRY_AFTER_SECONDS,
        });
      }
      waits++;
      let released = false;
      return {
        async untilClosed(injectionId, timeoutMs) {
          const cancel = new AbortController();
          const timer = setTimeout(() => cancel.abort(), timeoutMs);
          try {
            return await pollResult(injectionId, cancel);
          } finally {
            clearTimeout(timer);
            cancel.abort();
          }
        },
        release() {
          if (released) return;
          released = true;
          waits--;
        },
      };
    },

    openPolls: () => polls.size,

    async close() {
      closed = true;
      for (const cancel of polls.keys()) cancel.abort();
      await Promise.allSettled([...polls.values()]);
    },
  };
}
