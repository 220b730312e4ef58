// Where an agent's lease lives: one of LEASE_SHARDS shard workflows, by a stable hash of the agent id. Pure: safe in workflow code.

/** Never change: a different count maps agents to other shards, and two shards could then grant one agent twice. */
export const LEASE_SHARDS = 16;

/** FNV-1a (32 bit) of the agent id, modulo LEASE_SHARDS. */
export function leaseShardOf(agentId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < agentId.length; i++) {
    hash ^= agentId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % LEASE_SHARDS;
}

/**
 * One lease table per injector deployment (its main task queue, where the shards run): a shard started by another
 * deployment would sit on a queue this one's workers never poll.
 */
export function leaseShardWorkflowId(taskQueue: string, shard: number): string {
  return `openclaw-agent-leases/${taskQueue}/${shard}`;
}
