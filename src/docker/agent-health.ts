// An agent's health read from its heartbeat file, on demand: one archive read per agent when someone asks, instead of
// Docker's exec HEALTHCHECK every 15 s in every container (docs/agent-protocol.md, "Health").
import { HEARTBEAT_FILE, HEARTBEAT_STALE_MS } from '../agent/heartbeat';
import type { AgentRef, DockerAdapter } from './types';

/** The heartbeat holds one ISO timestamp; anything longer is not one. */
const MAX_HEARTBEAT_BYTES = 64;

export interface AgentHealth {
  agentId: string;
  containerName: string;
  running: boolean;
  /** How old the heartbeat is; null when there is none (a stopped agent, or one that never started its runtime). */
  heartbeatAgeMs: number | null;
  /** Running, with a heartbeat younger than HEARTBEAT_STALE_MS: what the exec HEALTHCHECK calls healthy. */
  healthy: boolean;
}

export async function readAgentHealth(adapter: Pick<DockerAdapter, 'readFile'>, agent: AgentRef, now = Date.now()): Promise<AgentHealth> {
  const row = { agentId: agent.agentId, containerName: agent.containerName, running: agent.running };
  if (!agent.running) return { ...row, heartbeatAgeMs: null, healthy: false };
  const read = await adapter.readFile(agent.containerId, HEARTBEAT_FILE, MAX_HEARTBEAT_BYTES);
  const at = read.found ? Date.parse(read.content.toString('utf8').trim()) : NaN;
  const heartbeatAgeMs = Number.isFinite(at) ? Math.max(0, now - at) : null;
  return { ...row, heartbeatAgeMs, healthy: heartbeatAgeMs !== null && heartbeatAgeMs <= HEARTBEAT_STALE_MS };
}
