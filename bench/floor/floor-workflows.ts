// The Temporal floor: a bare child-per-agent fan-out (a sliding window of children, one no-op local activity each,
// continue-as-new between chunks) that the scale bench measures beside the injector's own orchestration.
import { continueAsNew, executeChild, proxyLocalActivities, ParentClosePolicy, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { AGENT_ID, INJECTION_ID, INJECTION_STATUS } from '../../src/shared/search-attributes';
import type { createFloorActivities } from './floor-activities';

const { noop } = proxyLocalActivities<ReturnType<typeof createFloorActivities>>({ startToCloseTimeout: '1 minute' });

/** Children per run before continue-as-new: about four parent events per child keeps a run well under 10,240. */
export const FLOOR_AGENTS_PER_RUN = 1_000;

export interface FloorInput {
  agents: number;
  maxParallel: number;
  /** First agent index of this run. */
  from: number;
  /** No-op local activities per child, one after the other (default 1). */
  localSteps?: number;
  /**
   * What the injector writes to visibility per agent, without its work: each child starts with the injector's three
   * search attributes (InjectionId, AgentId, InjectionStatus) and upserts its status once at the end.
   */
  searchAttributes?: boolean;
}

export async function floorChildWorkflow(agent: number, localSteps = 1, searchAttributes = false): Promise<number> {
  for (let step = 1; step < localSteps; step++) await noop(agent);
  const result = await noop(agent);
  if (searchAttributes) upsertSearchAttributes([{ key: INJECTION_STATUS, value: 'injected' }]);
  return result;
}

export async function floorFanOutWorkflow(input: FloorInput): Promise<number> {
  const until = Math.min(input.agents, input.from + FLOOR_AGENTS_PER_RUN);
  const inFlight = new Set<Promise<unknown>>();
  for (let agent = input.from; agent < until; agent++) {
    while (inFlight.size >= input.maxParallel) await Promise.race(inFlight);
    const child: Promise<unknown> = executeChild(floorChildWorkflow, {
      workflowId: `${workflowInfo().workflowId}/${agent}`,
      args: [agent, input.localSteps ?? 1, input.searchAttributes ?? false],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
      ...(input.searchAttributes
        ? {
            typedSearchAttributes: [
              { key: INJECTION_ID, value: workflowInfo().workflowId },
              { key: AGENT_ID, value: String(agent) },
              { key: INJECTION_STATUS, value: 'running' },
            ],
          }
        : {}),
    }).finally(() => inFlight.delete(child));
    inFlight.add(child);
  }
  await Promise.all(inFlight);
  if (until < input.agents) await continueAsNew<typeof floorFanOutWorkflow>({ ...input, from: until });
  return input.agents;
}
