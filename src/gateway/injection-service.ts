// What the routes ask of Temporal: start, describe, query, signal, update, list and audit injections. Routes stay thin.
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Client, WorkflowExecutionInfo, WorkflowFailedError, WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/common';
import type { Diagnostic, RolloutSettings } from '../compiler';
import type { Logger } from '../shared/logger';
import {
  AgentInjectionResult,
  AgentStatusEntry,
  childWorkflowId,
  OutcomeCounts,
  PRIORITY_KEY,
  SwarmInjectionInput,
  SwarmInjectionResult,
  SwarmStatus,
  TraceSummary,
  StepTiming,
  Wave,
} from '../shared/injection-types';
import { AGENT_ID, INJECTION_ID, INJECTION_STATUS } from '../shared/search-attributes';
import { mainTaskQueue } from '../shared/task-queues';
import { abortSignal, pauseSignal, progressQuery, resumeSignal, setMaxParallelUpdate, swarmInjectionWorkflow } from '../../workflows/swarm-injection';
import { ApiError } from './errors';
import type { GatewayMetrics } from './metrics';

/** How long a query or an update may take before the gateway answers 503: a worker that answers at all answers fast. */
export const WORKFLOW_CALL_TIMEOUT_MS = 10_000;
/** Agent results fetched per finished injection to feed the step latency histogram. */
export const MAX_OBSERVED_AGENT_RESULTS = 1_000;
/** Injections whose end this gateway waits on at once, for the metrics; later ones are not observed. */
export const MAX_OBSERVED_INJECTIONS = 1_000;
const OBSERVER_FETCH_CONCURRENCY = 8;
const SWARM_WORKFLOW_TYPE = 'swarmInjectionWorkflow';
const AGENT_WORKFLOW_TYPE = 'agentInjectionWorkflow';

/** What a caller asks for: the swarm input minus what the gateway's own config supplies. */
export interface StartInjectionRequest extends Omit<SwarmInjectionInput, 'taskQueue' | 'dockerHosts'> {
  /** Hash of the request that chose this id; a repeat with another request under the same id is refused. */
  fingerprint: string;
}

export interface StartedInjection {
  injectionId: string;
  /** False when an injection with this id already existed (an idempotent repeat). */
  created: boolean;
}

export type WorkflowState = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT' | 'CONTINUED_AS_NEW' | 'UNKNOWN';

/** One injection as the API shows it: the workflow's own progress while it runs, its result or failure once closed. */
export interface InjectionView {
  injectionId: string;
  workflowStatus: WorkflowState;
  status: SwarmStatus | 'failed' | 'terminated' | 'timed-out';
  done: boolean;
  startedAt: string;
  closedAt: string | null;
  wave: Wave | null;
  paused: boolean;
  maxParallel: number | null;
  failureBudget: number | null;
  deadline: string | null;
  msUntilDeadline: number | null;
  rollout: RolloutSettings | null;
  counts: OutcomeCounts | null;
  agents: { offset: number; limit: number; total: number; items: AgentStatusEntry[] };
  error?: { code: string; message: string; details?: unknown };
}

interface VisibilityPage {
  executions: WorkflowExecutionInfo[];
  nextPageToken: string | null;
}

export interface InjectionSummary {
  injectionId: string;
  workflowStatus: WorkflowState;
  status: string | null;
  startedAt: string;
  closedAt: string | null;
}

export interface AgentHistoryEntry {
  injectionId: string;
  workflowId: string;
  workflowStatus: WorkflowState;
  outcome: AgentInjectionResult['outcome'] | 'running' | 'unknown';
  startedAt: string;
  closedAt: string | null;
  programId: string | null;
  previousProgramId: string | null;
  error: { code: string; message: string } | null;
  rollbackError: { code: string; message: string } | null;
  timings: StepTiming[];
  trace: TraceSummary | null;
  rollbackTrace: TraceSummary | null;
}

export interface InjectionService {
  start(request: StartInjectionRequest): Promise<StartedInjection>;
  view(injectionId: string, page: { offset: number; limit: number }): Promise<InjectionView>;
  /** True once the injection has closed (completed or failed), false if it is still running after `timeoutMs`. */
  waitUntilClosed(injectionId: string, timeoutMs: number): Promise<boolean>;
  agentResult(injectionId: string, agentId: string): Promise<AgentInjectionResult | null>;
  pause(injectionId: string): Promise<void>;
  resume(injectionId: string): Promise<void>;
  abort(injectionId: string, reason: string): Promise<void>;
  setMaxParallel(injectionId: string, maxParallel: number): Promise<number>;
  /** One page of injections; pass the returned nextPageToken back for the next (null: this was the last page). */
  list(filter: { status?: string; agentId?: string; limit: number; pageToken?: string }): Promise<{ items: InjectionSummary[]; nextPageToken: string | null }>;
  agentHistory(agentId: string, limit: number, pageToken?: string): Promise<{ total: number; entries: AgentHistoryEntry[]; nextPageToken: string | null }>;
  /**
   * Ends every long poll this service holds open (metric observers, `?wait=true` waits) and resolves once they have
   * settled: call before closing the Temporal connection, whose retry timers otherwise fire on a closed channel.
   */
  close(): Promise<void>;
}

export interface InjectionServiceDeps {
  client: Client;
  /** Base task queue; the workflows derive the Docker host queues from it. */
  taskQueue: string;
  dockerHosts: string[];
  metrics: GatewayMetrics;
  logger: Logger;
  callTimeoutMs?: number;
}

/** Double quotes and backslashes escaped for a visibility query string literal (ids are pattern-checked already). */
function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function workflowState(name: string): WorkflowState {
  const known: readonly WorkflowState[] = ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT', 'CONTINUED_AS_NEW'];
  return (known as readonly string[]).includes(name) ? (name as WorkflowState) : 'UNKNOWN';
}

function notFound(injectionId: string): ApiError {
  return new ApiError(404, 'INJECTION_NOT_FOUND', `no injection with id ${injectionId}`);
}

function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err instanceof Error && /not found/i.test(err.message) && (err as { code?: number }).code === 5);
}

/** A stable, short hash of a request's meaningful fields, for idempotency checks. */
export function requestFingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

export function createInjectionService(deps: InjectionServiceDeps): InjectionService {
  const { client, metrics, logger } = deps;
  const callTimeoutMs = deps.callTimeoutMs ?? WORKFLOW_CALL_TIMEOUT_MS;
  const observed = new Set<string>();
  const observers = new Set<Promise<void>>();
  const stopPolling = new AbortController();
  // Every long poll listens on this one signal; their number is bounded by MAX_OBSERVED_INJECTIONS and by open requests.
  setMaxListeners(0, stopPolling.signal);
  let closed = false;
  /** A long poll (workflow result) that close() can cut short. */
  const longPoll = <T>(fn: () => Promise<T>): Promise<T> => client.withAbortSignal(stopPolling.signal, fn);

  const handle = (injectionId: string): WorkflowHandle<typeof swarmInjectionWorkflow> => client.workflow.getHandle<typeof swarmInjectionWorkflow>(injectionId);

  /**
   * One page of a visibility query. Temporal's page token goes to the caller sealed to this query and page size
   * (sealPageToken) and is checked on the way back, so an altered token, or one from another list, is a 400 naming
   * `pageToken` rather than whatever the visibility store makes of foreign bytes.
   */
  async function listPage(query: string, pageSize: number, pageToken?: string): Promise<VisibilityPage> {
    const inner = pageToken === undefined ? undefined : openPageToken(pageToken, query, pageSize);
    let response: Awaited<ReturnType<Client['workflowService']['listWorkflowExecutions']>>;
    try {
      response = await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query, pageSize, nextPageToken: inner });
    } catch (err) {
      if (inner !== undefined && grpcCode(err) === GRPC_INVALID_ARGUMENT) throw badPageToken('Temporal no longer accepts it');
      throw err;
    }
    const executions = await Promise.all(
      (response.executions ?? []).map((raw) => executionInfoFromRaw(raw, client.options.loadedDataConverter, raw, client.options.namespace)),
    );
    const next = response.nextPageToken;
    return { executions, nextPageToken: next && next.length > 0 ? sealPageToken(Buffer.from(next), query, pageSize) : null };
  }

  /** Runs a call that needs a worker (query, update) with a deadline, mapping "no worker answered" to 503. */
  async function withWorker<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + callTimeoutMs;
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
        throw new ApiError(503, 'WORKERS_UNAVAILABLE', `no worker answered the ${what} within ${callTimeoutMs} ms; are the injector workers running?`);
      }
      throw err;
    }
  }

  async function describe(injectionId: string) {
    try {
      const description = await handle(injectionId).describe();
      if (description.type !== SWARM_WORKFLOW_TYPE) throw notFound(injectionId);
      return description;
    } catch (err) {
      if (isNotFound(err)) throw notFound(injectionId);
      throw err;
    }
  }

  async function requireRunning(injectionId: string): Promise<void> {
    const description = await describe(injectionId);
    if (description.status.name !== 'RUNNING') {
      throw new ApiError(409, 'INJECTION_CLOSED', `injection ${injectionId} is no longer running (${description.status.name.toLowerCase()})`);
    }
  }

  /** The swarm's end, for the metrics: counted once per injection, then its agents' step timings. */
  async function observe(injectionId: string): Promise<void> {
    if (observed.size >= MAX_OBSERVED_INJECTIONS) return;
    observed.add(injectionId);
    try {
      let result: SwarmInjectionResult;
      try {
        result = await longPoll(() => handle(injectionId).result());
      } catch (err) {
        if (closed) return;
        const failure = err instanceof WorkflowFailedError ? err.cause : undefined;
        metrics.injectionFinished(failure instanceof ApplicationFailure && failure.type === 'COMPILE_FAILED' ? 'compile-failed' : isCancelled(err) ? 'cancelled' : 'failed');
        return;
      }
      metrics.injectionFinished(result.status);
      const started = result.agents.filter((a) => a.childWorkflowId !== null).slice(0, MAX_OBSERVED_AGENT_RESULTS);
      for (let i = 0; i < started.length && !closed; i += OBSERVER_FETCH_CONCURRENCY) {
        const batch = started.slice(i, i + OBSERVER_FETCH_CONCURRENCY);
        const results = await Promise.all(batch.map((a) => longPoll(() => agentResult(injectionId, a.agentId)).catch(() => null)));
        for (const r of results) if (r) metrics.agentSteps(r.timings);
      }
    } catch (err) {
      if (!closed) logger.warn('could not observe an injection for the metrics', { injectionId, err });
    } finally {
      observed.delete(injectionId);
    }
  }

  async function agentResult(injectionId: string, agentId: string): Promise<AgentInjectionResult | null> {
    const child = client.workflow.getHandle(childWorkflowId(injectionId, agentId));
    try {
      const description = await child.describe();
      if (description.status.name !== 'COMPLETED') return null;
      return (await child.result()) as AgentInjectionResult;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  function pageOf(agents: AgentStatusEntry[], page: { offset: number; limit: number }) {
    return { offset: page.offset, limit: page.limit, total: agents.length, items: agents.slice(page.offset, page.offset + page.limit) };
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
          args: [input],
          // An id is used once, ever: a retried request finds the first injection instead of starting a second.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: [{ key: INJECTION_ID, value: request.injectionId }],
          // The swarm's own workflow tasks are ordered by it too; its children and activities inherit it.
          priority: { priorityKey: PRIORITY_KEY[request.priority] },
          memo: { requestFingerprint: request.fingerprint, requestedBy: request.requestedBy },
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const existing = await describe(request.injectionId).catch(() => null);
        const fingerprint = existing?.memo?.requestFingerprint;
        if (!existing || fingerprint !== request.fingerprint) {
          throw new ApiError(409, 'INJECTION_ID_CONFLICT', `injection ${request.injectionId} already exists for a different request; use a new Idempotency-Key`);
        }
        return { injectionId: request.injectionId, created: false };
      }
      metrics.injectionStarted();
      const observer = observe(request.injectionId);
      observers.add(observer);
      void observer.finally(() => observers.delete(observer));
      return { injectionId: request.injectionId, created: true };
    },

    async view(injectionId, page) {
      const description = await describe(injectionId);
      const state = workflowState(description.status.name);
      const base = {
        injectionId,
        workflowStatus: state,
        startedAt: description.startTime.toISOString(),
        closedAt: description.closeTime?.toISOString() ?? null,
      };
      if (state === 'RUNNING') {
        const progress = await withWorker('progress query', () => handle(injectionId).query(progressQuery, page));
        return {
          ...base,
          status: progress.status,
          done: false,
          wave: progress.wave,
          paused: progress.paused,
          maxParallel: progress.maxParallel,
          failureBudget: progress.failureBudget,
          deadline: progress.deadline,
          msUntilDeadline: progress.msUntilDeadline,
          rollout: progress.rollout,
          counts: progress.counts,
          agents: progress.agents,
        };
      }
      const closedView = {
        ...base,
        done: true,
        wave: 'done' as const,
        paused: false,
        maxParallel: null,
        failureBudget: null,
        deadline: null,
        msUntilDeadline: null,
      };
      if (state === 'COMPLETED') {
        const result = await handle(injectionId).result();
        return { ...closedView, status: result.status, rollout: result.rollout, counts: result.counts, agents: pageOf(result.agents, page) };
      }
      const lastStatus = description.typedSearchAttributes.get(INJECTION_STATUS);
      const status = state === 'CANCELLED' ? 'cancelled' : state === 'TERMINATED' ? 'terminated' : state === 'TIMED_OUT' ? 'timed-out' : lastStatus === 'compile-failed' ? 'compile-failed' : 'failed';
      const error = state === 'FAILED' ? await failureOf(handle(injectionId)) : undefined;
      return { ...closedView, status, rollout: null, counts: null, agents: pageOf([], page), ...(error ? { error } : {}) };
    },

    async waitUntilClosed(injectionId, timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const ended = longPoll(() => handle(injectionId).result()).then(
          () => true,
          (err: unknown) => {
            if (err instanceof WorkflowFailedError) return true;
            // close() cut the wait: the caller gets "still running" and its status URL, not an error.
            if (stopPolling.signal.aborted) return false;
            throw err;
          },
        );
      try {
        return await Promise.race([ended, timeout]);
      } finally {
        clearTimeout(timer);
        ended.catch(() => undefined);
      }
    },

    agentResult,

    async pause(injectionId) {
      await requireRunning(injectionId);
      await handle(injectionId).signal(pauseSignal);
    },

    async resume(injectionId) {
      await requireRunning(injectionId);
      await handle(injectionId).signal(resumeSignal);
    },

    async abort(injectionId, reason) {
      await requireRunning(injectionId);
      await handle(injectionId).signal(abortSignal, reason);
    },

    async setMaxParallel(injectionId, maxParallel) {
      await requireRunning(injectionId);
      try {
        return await withWorker('maxParallel update', () => handle(injectionId).executeUpdate(setMaxParallelUpdate, { args: [maxParallel] }));
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) {
          const cause = err.cause instanceof Error ? err.cause.message : err.message;
          throw new ApiError(400, 'INVALID_REQUEST', cause, { problems: [{ field: 'maxParallel', problem: cause }] });
        }
        throw err;
      }
    },

    async list(filter) {
      const clauses = [`WorkflowType = ${quoted(SWARM_WORKFLOW_TYPE)}`, `ExecutionStatus != "ContinuedAsNew"`];
      if (filter.status) clauses.push(`${INJECTION_STATUS.name} = ${quoted(filter.status)}`);
      let page: VisibilityPage;
      if (filter.agentId) {
        // An agent is in an injection when a child carries its AgentId; the child's InjectionId names the injection.
        // The pages walk the children, so a page holds at most `limit` injections, fewer when the status filter drops some.
        const childQuery = `WorkflowType = ${quoted(AGENT_WORKFLOW_TYPE)} AND ${AGENT_ID.name} = ${quoted(filter.agentId)}`;
        const children = await listPage(childQuery, filter.limit, filter.pageToken);
        const parents = [...new Set(children.executions.flatMap((c) => c.typedSearchAttributes.get(INJECTION_ID) ?? []))];
        if (parents.length === 0) return { items: [], nextPageToken: children.nextPageToken };
        clauses.push(`${INJECTION_ID.name} IN (${parents.map(quoted).join(', ')})`);
        page = { executions: (await listPage(clauses.join(' AND '), parents.length)).executions, nextPageToken: children.nextPageToken };
      } else {
        page = await listPage(clauses.join(' AND '), filter.limit, filter.pageToken);
      }
      const items = page.executions.map(
        (execution): InjectionSummary => ({
          injectionId: execution.workflowId,
          workflowStatus: workflowState(execution.status.name),
          status: execution.typedSearchAttributes.get(INJECTION_STATUS) ?? null,
          startedAt: execution.startTime.toISOString(),
          closedAt: execution.closeTime?.toISOString() ?? null,
        }),
      );
      return { items, nextPageToken: page.nextPageToken };
    },

    async agentHistory(agentId, limit, pageToken) {
      // Visibility lists running executions first, then by close time, newest first (the dev server's SQLite store takes
      // no ORDER BY); each page is then sorted by start time so the newest injection leads.
      const query = `WorkflowType = ${quoted(AGENT_WORKFLOW_TYPE)} AND ${AGENT_ID.name} = ${quoted(agentId)}`;
      const { executions, nextPageToken } = await listPage(query, limit, pageToken);
      executions.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
      const [total, entries] = await Promise.all([
        client.workflow.count(query).then((c) => c.count),
        Promise.all(
          executions.map(async (execution): Promise<AgentHistoryEntry> => {
            const state = workflowState(execution.status.name);
            const injectionId = execution.typedSearchAttributes.get(INJECTION_ID) ?? execution.workflowId.slice(0, execution.workflowId.lastIndexOf('/'));
            const result = state === 'COMPLETED' ? ((await client.workflow.getHandle(execution.workflowId).result()) as AgentInjectionResult) : null;
            return {
              injectionId,
              workflowId: execution.workflowId,
              workflowStatus: state,
              outcome: result?.outcome ?? (state === 'RUNNING' ? 'running' : 'unknown'),
              startedAt: result?.startedAt ?? execution.startTime.toISOString(),
              closedAt: result?.finishedAt ?? execution.closeTime?.toISOString() ?? null,
              programId: result?.programId ?? null,
              previousProgramId: result?.previousProgramId ?? null,
              error: result?.error ?? null,
              rollbackError: result?.rollbackError ?? null,
              timings: result?.timings ?? [],
              trace: result?.trace ?? null,
              rollbackTrace: result?.rollbackTrace ?? null,
            };
          }),
        ),
      ]);
      return { total, entries, nextPageToken };
    },

    async close() {
      closed = true;
      stopPolling.abort();
      await Promise.allSettled([...observers]);
    },
  };
}

const PAGE_TOKEN_VERSION = 1;
const PAGE_TOKEN_DIGEST_BYTES = 16;

function pageTokenDigest(inner: Buffer, query: string, pageSize: number): Buffer {
  return createHash('sha256').update(`${query}\n${pageSize}\n`).update(inner).digest().subarray(0, PAGE_TOKEN_DIGEST_BYTES);
}

/** Temporal's page token, prefixed with a version byte and a digest binding it to the list's query and page size. */
function sealPageToken(inner: Buffer, query: string, pageSize: number): string {
  return Buffer.concat([Buffer.from([PAGE_TOKEN_VERSION]), pageTokenDigest(inner, query, pageSize), inner]).toString('base64url');
}

function openPageToken(token: string, query: string, pageSize: number): Buffer {
  const bytes = Buffer.from(token, 'base64url');
  const inner = bytes.subarray(1 + PAGE_TOKEN_DIGEST_BYTES);
  if (bytes[0] !== PAGE_TOKEN_VERSION || inner.length === 0 || !pageTokenDigest(inner, query, pageSize).equals(bytes.subarray(1, 1 + PAGE_TOKEN_DIGEST_BYTES))) {
    throw badPageToken('it is not the nextPageToken of this list with these filters and this limit');
  }
  return inner;
}

function badPageToken(why: string): ApiError {
  return new ApiError(400, 'INVALID_REQUEST', `pageToken: ${why}`, { problems: [{ field: 'pageToken', problem: why }] });
}

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_CANCELLED = 1;

/** The gRPC status code of a Temporal service error, on the error or its cause. */
function grpcCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

function isCancelled(err: unknown): boolean {
  return err instanceof WorkflowFailedError && err.cause?.name === 'CancelledFailure';
}

/** The failure a closed workflow ended with: a compile failure carries every diagnostic. */
async function failureOf(handle: WorkflowHandle): Promise<{ code: string; message: string; details?: unknown }> {
  try {
    await handle.result();
    return { code: 'UNKNOWN', message: 'the workflow failed' };
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
    if (cause instanceof ApplicationFailure) {
      const diagnostics = cause.type === 'COMPILE_FAILED' ? (cause.details?.[0] as Diagnostic[] | undefined) : undefined;
      return { code: cause.type ?? 'APPLICATION_FAILURE', message: cause.message, ...(diagnostics ? { details: { diagnostics } } : {}) };
    }
    return { code: 'WORKFLOW_FAILED', message: cause?.message ?? (err instanceof Error ? err.message : String(err)) };
  }
}
