// The Docker adapter's public face: the interface, the agent channel, typed errors, and the factory.
import { dockerodeFor, DockerodeAdapter } from './dockerode-adapter';
import type { DockerAdapter } from './types';

export * from './types';
export * from './errors';
export { createAgentChannel } from './agent-channel';
export type { AgentChannel, AgentSnapshot, CurrentProgramRef, ReadTraceOptions, TraceLine, TraceResult } from './agent-channel';

export function createDockerAdapter(options: { dockerHost: string; tlsVerify?: boolean; certPath?: string; callTimeoutMs?: number }): DockerAdapter {
  return new DockerodeAdapter(dockerodeFor(options), { callTimeoutMs: options.callTimeoutMs });
}
