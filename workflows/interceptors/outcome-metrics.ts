// Workflow inbound interceptor: counts each agent child's outcome on the workflow metric meter (skipped on replay).
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { metricMeter, workflowInfo } from '@temporalio/workflow';
import { AGENT_OUTCOMES_METRIC } from '../../src/telemetry/metric-names';

const AGENT_WORKFLOW_TYPE = 'agentInjectionWorkflow';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        const result = await next(input);
        if (workflowInfo().workflowType === AGENT_WORKFLOW_TYPE && typeof result === 'object' && result !== null) {
          const outcome = (result as { outcome?: unknown }).outcome;
          if (typeof outcome === 'string') metricMeter.createCounter(AGENT_OUTCOMES_METRIC, '1', 'agent child workflows by outcome').add(1, { outcome });
        }
        return result;
      },
    },
  ],
});
