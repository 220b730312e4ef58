// GET /health: Temporal (namespace described), Docker (ping and version), workers (polling both task queues).
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { dockerHostTaskQueue, mainTaskQueue } from '../shared/task-queues';

export const HEALTH_PROBE_TIMEOUT_MS = 3_000;
/** A poller counts as live when the server saw it this recently (workers long-poll about every minute at most). */
export const POLLER_FRESH_MS = 90_000;

export type PartState = { ok: true; [detail: string]: unknown } | { ok: false; error: string };

export interface HealthReport {
  status: 'ok' | 'unavailable';
  parts: { temporal: PartState; docker: PartState; worker: PartState };
}

export interface HealthDeps {
  client: Client;
  namespace: string;
  taskQueue: string;
  dockerHostName: string;
  dockerPing(): Promise<{ version: string; apiVersion: string }>;
}

export async function checkHealth(deps: HealthDeps): Promise<HealthReport> {
  const [temporalState, dockerState, workerState] = await Promise.all([probeTemporal(deps), probeDocker(deps), probeWorkers(deps)]);
  const parts = { temporal: temporalState, docker: dockerState, worker: workerState };
  return { status: Object.values(parts).every((p) => p.ok) ? 'ok' : 'unavailable', parts };
}

function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${HEALTH_PROBE_TIMEOUT_MS} ms`)), HEALTH_PROBE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function failed(err: unknown): PartState {
  return { ok: false, error: err instanceof Error ? err.message : String(err) };
}

async function probeTemporal(deps: HealthDeps): Promise<PartState> {
  try {
    const response = await withTimeout(
      'Temporal',
      deps.client.workflowService.describeNamespace({ namespace: deps.namespace }),
    );
    return { ok: true, namespace: response.namespaceInfo?.name ?? deps.namespace };
  } catch (err) {
    return failed(err);
  }
}

async function probeDocker(deps: HealthDeps): Promise<PartState> {
  try {
    const { version, apiVersion } = await withTimeout('Docker', deps.dockerPing());
    return { ok: true, host: deps.dockerHostName, version, apiVersion };
  } catch (err) {
    return failed(err);
  }
}

async function probeWorkers(deps: HealthDeps): Promise<PartState> {
  const queues = [
    { name: mainTaskQueue(deps.taskQueue), type: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW },
    { name: dockerHostTaskQueue(deps.taskQueue, deps.dockerHostName), type: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY },
  ];
  try {
    const counts = await withTimeout(
      'Temporal task queue description',
      Promise.all(queues.map((queue) => livePollers(deps, queue.name, queue.type))),
    );
    const idle = queues.filter((_, i) => counts[i] === 0).map((q) => q.name);
    if (idle.length > 0) return { ok: false, error: `no worker is polling task queue ${idle.join(' and ')}` };
    return { ok: true, taskQueues: Object.fromEntries(queues.map((q, i) => [q.name, { pollers: counts[i] }])) };
  } catch (err) {
    return failed(err);
  }
}

async function livePollers(deps: HealthDeps, taskQueue: string, taskQueueType: temporal.api.enums.v1.TaskQueueType): Promise<number> {
  const response = await deps.client.workflowService.describeTaskQueue({ namespace: deps.namespace, taskQueue: { name: taskQueue }, taskQueueType });
  const now = Date.now();
  return (response.pollers ?? []).filter((poller) => {
    const seconds = Number(poller.lastAccessTime?.seconds ?? 0);
    return now - seconds * 1000 < POLLER_FRESH_MS;
  }).length;
}
