// Activities of the lease shards: start a shard and ask it for leases in one call, and tell which holders have closed.
import type { Client } from '@temporalio/client';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowNotFoundError } from '@temporalio/common';
import { LEASE_SHARDS, leaseShardOf, leaseShardWorkflowId } from '../src/shared/leases';
import { acquireLeasesUpdate } from '../src/contracts/messages';
import { agentLeaseShardWorkflow } from '../workflows/agent-leases';

export interface LeaseActivityDeps {
  client: Client;
  /** The main task queue: the shards run there. */
  taskQueue: string;
}

export function createLeaseActivities(deps: LeaseActivityDeps) {
  return {
    /**
     * Asks every shard that holds one of `agentIds` for their leases, starting a shard that does not run yet (update
     * with start, so two injections racing to start a shard both reach the same one).
     */
    async acquireLeases(request: { holder: string; agentIds: string[]; mode: 'wait' | 'refuse' }): Promise<{ granted: string[]; busy: { agentId: string; holder: string }[] }> {
      const byShard = new Map<number, string[]>();
      for (const agentId of request.agentIds) byShard.set(leaseShardOf(agentId), [...(byShard.get(leaseShardOf(agentId)) ?? []), agentId]);
      const answers = await Promise.all(
        [...byShard.entries()].map(([shard, agentIds]) =>
          deps.client.workflow.executeUpdateWithStart(acquireLeasesUpdate, {
            args: [{ holder: request.holder, agentIds, mode: request.mode }],
            startWorkflowOperation: new WithStartWorkflowOperation(agentLeaseShardWorkflow, {
              workflowId: leaseShardWorkflowId(deps.taskQueue, shard),
              taskQueue: deps.taskQueue,
              workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
              args: [undefined],
            }),
          }),
        ),
      );
      return { granted: answers.flatMap((a) => a.granted), busy: answers.flatMap((a) => a.busy) };
    },

    /** Of these workflow ids, those that no longer run (closed, or never existed). */
    async closedHolders(holders: string[]): Promise<string[]> {
      const closed: string[] = [];
      for (const holder of holders) {
        try {
          const description = await deps.client.workflow.getHandle(holder).describe();
          if (description.status.name !== 'RUNNING') closed.push(holder);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) closed.push(holder);
          else throw err;
        }
      }
      return closed;
    },
  };
}

export type LeaseActivities = ReturnType<typeof createLeaseActivities>;
export { LEASE_SHARDS };
