// Which agents a dry run would hit, asked of the workers (resolveTargetsWorkflow): the gateway holds no Docker socket.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { mainTaskQueue } from '../shared/task-queues';
import { RESOLVE_TARGETS_WAIT_MS, RESOLVE_TARGETS_WORKFLOW_TIMEOUT } from '../shared/timeouts';
import { HostTargets, resolveTargetsWorkflow, ResolveTargetsInput } from '../../workflows/resolve-targets';
import { withWorker } from './temporal-calls';

export type TargetSelector = ResolveTargetsInput['selector'];

export interface TargetResolver {
  /** Each Docker host's agents matching the selector; 503 WORKERS_UNAVAILABLE when no worker answers in time. */
  resolve(selector: TargetSelector): Promise<HostTargets[]>;
}

export function createTargetResolver(deps: { client: Client; taskQueue: string; dockerHosts: string[]; waitMs?: number }): TargetResolver {
  const waitMs = deps.waitMs ?? RESOLVE_TARGETS_WAIT_MS;
  return {
    resolve: (selector) =>
      withWorker(deps.client, 'target lookup', waitMs, () =>
        deps.client.workflow.execute(resolveTargetsWorkflow, {
          workflowId: `resolve-targets-${randomUUID()}`,
          taskQueue: mainTaskQueue(deps.taskQueue),
          args: [{ selector, taskQueue: deps.taskQueue, dockerHosts: deps.dockerHosts }],
          // With no worker the lookup would wait forever; this ends it on the server too.
          workflowExecutionTimeout: RESOLVE_TARGETS_WORKFLOW_TIMEOUT,
        }),
      ),
  };
}
