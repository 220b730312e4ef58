// A dry run's "which agents would this hit": listAgents on every Docker host's own queue, so the gateway needs no Docker
// socket. Starts nothing, changes nothing; a host whose worker does not answer in time is reported, not fatal.
import { proxyActivities } from '@temporalio/workflow';
import type { DockerActivities } from '../activities';
import { MAX_TARGET_AGENTS } from '../src/shared/injection-types';
import { dockerHostTaskQueue } from '../src/shared/task-queues';
import { RESOLVE_TARGETS_HOST_TIMEOUT } from '../src/shared/timeouts';

export interface ResolveTargetsInput {
  selector: { group: string } | { agentIds: string[] };
  /** Base task queue; each host's activities run on its own queue derived from it. */
  taskQueue: string;
  dockerHosts: string[];
}

export type HostTargets = { host: string; agentIds: string[] } | { host: string; error: string };

export async function resolveTargetsWorkflow(input: ResolveTargetsInput): Promise<HostTargets[]> {
  return Promise.all(
    input.dockerHosts.map(async (host): Promise<HostTargets> => {
      const { listAgents } = proxyActivities<DockerActivities>({
        scheduleToCloseTimeout: RESOLVE_TARGETS_HOST_TIMEOUT,
        taskQueue: dockerHostTaskQueue(input.taskQueue, host),
        retry: { maximumAttempts: 1 },
      });
      try {
        const listed = await listAgents(input.selector);
        return { host, agentIds: listed.agentIds.slice(0, MAX_TARGET_AGENTS) };
      } catch (err) {
        const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
        return { host, error: cause ?? (err instanceof Error ? err.message : String(err)) };
      }
    }),
  );
}
