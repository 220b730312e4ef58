// The Docker adapter's public face: the interface, the agent channel, typed errors, and the factory.
import { dockerodeFor, DockerodeAdapter } from './dockerode-adapter';
import { createHostPathAdapter } from './host-path-adapter';
import type { DockerAdapter } from './types';

export * from './types';
export * from './errors';
export { createAgentChannel } from './agent-channel';
export type { AgentChannel, AgentSnapshot, CurrentProgramRef, ReadTraceOptions, TraceLine, TraceResult } from './agent-channel';

export interface DockerAdapterOptions {
  dockerHost: string;
  tlsVerify?: boolean;
  certPath?: string;
  callTimeoutMs?: number;
  /**
   * Host-path transfer: agents whose programs and logs directories are bind mounts from under this directory of the
   * worker's host are read and written there directly; the Docker archive API stays the path for everything else.
   */
  hostPathRoot?: string;
}

export function createDockerAdapter(options: DockerAdapterOptions): DockerAdapter {
  const adapter = new DockerodeAdapter(dockerodeFor(options), { callTimeoutMs: options.callTimeoutMs });
  if (!options.hostPathRoot) return adapter;
  return createHostPathAdapter(adapter, { hostRoot: options.hostPathRoot, bindMounts: (containerId) => adapter.bindMounts(containerId) });
}
