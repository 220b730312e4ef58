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
