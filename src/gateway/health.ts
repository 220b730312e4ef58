// Probes, public and cheap: /livez (the process answers; no upstream call), /readyz (Temporal answers), /health (kept
// for the seed's users: Temporal and the workers, each only ok or not). Upstream answers are cached briefly and shared
// by concurrent requests, so a flood of probes costs at most one round of upstream calls per READINESS_CACHE_MS. No
// version, address, queue name or error text is shown: the gateway's log has those.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Logger } from '../shared/logger';
import { dockerHostTaskQueue, mainTaskQueue } from '../shared/task-queues';
import { errorDetails } from './errors';

export const HEALTH_PROBE_TIMEOUT_MS = 3_000;
/** How long an upstream probe's answer is reused. */
export const READINESS_CACHE_MS = 2_000;
/** A poller counts as live when the server saw it this recently (workers long-poll about every minute at most). */
export const POLLER_FRESH_MS = 90_000;

export interface PartState {
  ok: boolean;
}

export interface HealthReport {
  status: 'ok' | 'unavailable';
  parts: { temporal: PartState; worker: PartState };
}

export interface HealthDeps {
  client: Client;
  namespace: string;
  taskQueue: string;
  /** Docker hosts whose activity queues need a worker. */
  dockerHosts: readonly string[];
  logger: Logger;
  now?: () => number;
}

export interface HealthProbes {
  /** Temporal answered within HEALTH_PROBE_TIMEOUT_MS (cached). */
  ready(): Promise<boolean>;
  /** Temporal and a live worker on every queue (cached). */
  health(): Promise<HealthReport>;
}

function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${HEALTH_PROBE_TIMEOUT_MS} ms`)), HEALTH_PROBE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `probe`'s answer, reused for `ttlMs` and shared by the callers that ask while it runs. */
function cached<T>(probe: () => Promise<T>, ttlMs: number, now: () => number): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const t = now();
    if (!last || t - last.at >= ttlMs) last = { at: t, value: probe() };
    return last.value;
  };
}

export function createHealthProbes(deps: HealthDeps): HealthProbes {
  const now = deps.now ?? Date.now;
  const logFailure = (part: string) => (err: unknown) => {
    deps.logger.warn('health probe failed', { part, err: errorDetails(err) });
    return false;
  };

  const temporalOk = cached(
    () =>
      withTimeout('Temporal', deps.client.workflowService.describeNamespace({ namespace: deps.namespace })).then(() => true, logFailure('temporal')),
    READINESS_CACHE_MS,
    now,
  );

  const queues = [
    { name: mainTaskQueue(deps.taskQueue), type: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW },
    ...deps.dockerHosts.map((host) => ({ name: dockerHostTaskQueue(deps.taskQueue, host), type: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY })),
  ];
  const livePollers = async (taskQueue: string, taskQueueType: temporal.api.enums.v1.TaskQueueType): Promise<number> => {
    const response = await deps.client.workflowService.describeTaskQueue({ namespace: deps.namespace, taskQueue: { name: taskQueue }, taskQueueType });
    const t = Date.now();
    return (response.pollers ?? []).filter((poller) => t - Number(poller.lastAccessTime?.seconds ?? 0) * 1000 < POLLER_FRESH_MS).length;
  };
  const workersOk = cached(
    () =>
      withTimeout('Temporal task queue description', Promise.all(queues.map((q) => livePollers(q.name, q.type)))).then((counts) => {
        const idle = queues.filter((_, i) => counts[i] === 0).map((q) => q.name);
        if (idle.length > 0) deps.logger.warn('health: no worker polls a task queue', { taskQueues: idle });
        return idle.length === 0;
      }, logFailure('worker')),
    READINESS_CACHE_MS,
    now,
  );

  return {
    ready: temporalOk,
    async health() {
      const [temporalState, workerState] = await Promise.all([temporalOk(), workersOk()]);
      return { status: temporalState && workerState ? 'ok' : 'unavailable', parts: { temporal: { ok: temporalState }, worker: { ok: workerState } } };
    },
  };
}
