// Which driver changes an agent's program: chosen per container by its dreamnet.runtime label, in the Docker activities.
import type { DockerAdapter } from '../types';
import { createOpenClawDriver, OpenClawDriverOptions } from './openclaw-driver';
import { AgentRuntimeKind, LABEL_RUNTIME, StepwiseRuntimeDriver } from './runtime-driver';

/** The runtimes beside the reference agent (which the activities drive through the agent channel), and the label lookup. */
export interface RuntimeDrivers {
  openclaw: StepwiseRuntimeDriver;
  /** The container's dreamnet.runtime label as written (undefined when it has none), for a step given only a container id. */
  runtimeLabelOf(containerId: string): Promise<string | undefined>;
}

export function createRuntimeDrivers(adapter: DockerAdapter, options: { openclaw?: OpenClawDriverOptions } = {}): RuntimeDrivers {
  return {
    openclaw: createOpenClawDriver(adapter, options.openclaw),
    runtimeLabelOf: async (containerId) => (await adapter.containerState(containerId)).runtime,
  };
}

/** A label value this build drives, or null: no label, or `reference`, is the reference agent; anything else is unknown. */
export function runtimeKindOf(label: string | undefined): AgentRuntimeKind | null {
  if (label === undefined || label === 'reference') return 'reference';
  if (label === 'openclaw') return 'openclaw';
  return null;
}

export { LABEL_RUNTIME };
