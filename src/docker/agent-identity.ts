// Which container is agent X. A label is a claim any container on the engine can make; a container name is unique
// per engine. So by default an agent is the container that both carries `dreamnet.agent=X` and is named
// `openclaw-agent-X` (the name `npm run swarm:up` gives it): a copy of the labels under another name is ignored, and
// cannot block or impersonate the agent. `label` identity is the seed's looser rule, for swarms named otherwise.
import type { AgentRef } from './types';

export type AgentIdentity = 'name' | 'label';
export const AGENT_IDENTITIES: readonly AgentIdentity[] = ['name', 'label'];
export const DEFAULT_AGENT_IDENTITY: AgentIdentity = 'name';

/** The container name that makes a labelled container agent `agentId` under `name` identity. */
export function canonicalAgentContainerName(agentId: string): string {
  return `openclaw-agent-${agentId}`;
}

export interface ClaimsSorted {
  /** Containers that are agents under the identity rule. */
  agents: AgentRef[];
  /** Containers that carry an agent's label but are not that agent (a copy, or a swarm named otherwise). */
  ignored: AgentRef[];
}

/** Splits the containers that claim agent ids into the agents and the claims the identity rule does not accept. */
export function sortClaims(refs: readonly AgentRef[], identity: AgentIdentity): ClaimsSorted {
  if (identity === 'label') return { agents: [...refs], ignored: [] };
  const agents: AgentRef[] = [];
  const ignored: AgentRef[] = [];
  for (const ref of refs) (ref.containerName === canonicalAgentContainerName(ref.agentId) ? agents : ignored).push(ref);
  return { agents, ignored };
}

/** Ids one shared lookup asks for at most (the adapter's MAX_SELECTOR_IDS is higher). */
export const MAX_LOOKUP_BATCH = 1_000;
/**
 * Fewer queued ids than this are looked up one by one, in parallel: the engine filters a single id itself, while a
 * list of many ids is a list of every agent on the engine, worth it only when it answers many lookups.
 */
export const MIN_SHARED_LOOKUP = 16;

type LookupWaiter = { resolve: (refs: AgentRef[]) => void; reject: (err: unknown) => void };

/**
 * Lookups of single agents that arrive together share one list call. The first one asks at once; those that arrive
 * while a list is in flight wait for the next, which asks for every id queued meanwhile (at most `maxBatch` per
 * call). An answer is never older than its question: the list that answers it started after it was asked. One agent
 * at a time costs one call, as before; a wave of N concurrent children costs a few instead of N.
 */
export function batchedAgentLookup(list: (agentIds: string[]) => Promise<AgentRef[]>, maxBatch = MAX_LOOKUP_BATCH): (agentId: string) => Promise<AgentRef[]> {
  const queue = new Map<string, LookupWaiter[]>();
  let draining = false;
  const drain = async () => {
    draining = true;
    try {
      while (queue.size > 0) {
        const batch = [...queue.entries()].slice(0, maxBatch);
        for (const [id] of batch) queue.delete(id);
        const answer = (waiters: LookupWaiter[], refs: AgentRef[]) => waiters.forEach((w) => w.resolve(refs));
        const fail = (waiters: LookupWaiter[], err: unknown) => waiters.forEach((w) => w.reject(err));
        if (batch.length < MIN_SHARED_LOOKUP) {
          await Promise.all(batch.map(([id, waiters]) => list([id]).then((refs) => answer(waiters, refs), (err: unknown) => fail(waiters, err))));
          continue;
        }
        try {
          const refs = await list(batch.map(([id]) => id));
          for (const [id, waiters] of batch) answer(waiters, refs.filter((r) => r.agentId === id));
        } catch (err) {
          for (const [, waiters] of batch) fail(waiters, err);
        }
      }
    } finally {
      draining = false;
    }
  };
  return (agentId) =>
    new Promise<AgentRef[]>((resolve, reject) => {
      const waiters = queue.get(agentId);
      if (waiters) waiters.push({ resolve, reject });
      else queue.set(agentId, [{ resolve, reject }]);
      if (!draining) void drain();
    });
}
