// Progress as the API shows it: GET /injections/:id from the workflow's own query while it runs, from its result or
// failure once closed; and one agent's full result from its child workflow.
import { Client, WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Diagnostic } from '../compiler';
import type { AgentInjectionResult, AgentStatusEntry } from '../shared/injection-types';
import { childWorkflowId } from '../shared/injection-types';
import { INJECTION_STATUS } from '../shared/search-attributes';
import { progressQuery } from '../contracts/messages';
import { swarmInjectionWorkflow } from '../../workflows/swarm-injection';
import type { InjectionService } from './injection-api';
import { describeInjection, isNotFound, withWorker, workflowState } from './temporal-calls';

export type InjectionViews = Pick<InjectionService, 'view' | 'agentResult'>;

function pageOf(agents: AgentStatusEntry[], page: { offset: number; limit: number }, total = agents.length) {
  return { offset: page.offset, limit: page.limit, total, items: agents.slice(page.offset, page.offset + page.limit) };
}

/** The failure a closed workflow ended with: a compile failure carries every diagnostic. */
async function failureOf(handle: WorkflowHandle): Promise<{ code: string; message: string; details?: unknown }> {
  try {
    await handle.result();
    return { code: 'UNKNOWN', message: 'the workflow failed' };
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
    if (cause instanceof ApplicationFailure) {
      const diagnostics = cause.type === 'COMPILE_FAILED' ? (cause.details?.[0] as Diagnostic[] | undefined) : undefined;
      return { code: cause.type ?? 'APPLICATION_FAILURE', message: cause.message, ...(diagnostics ? { details: { diagnostics } } : {}) };
    }
    return { code: 'WORKFLOW_FAILED', message: cause?.message ?? (err instanceof Error ? err.message : String(err)) };
  }
}

export function createInjectionViews(deps: { client: Client; callTimeoutMs: number }): InjectionViews {
  const { client } = deps;
  const handle = (injectionId: string): WorkflowHandle<typeof swarmInjectionWorkflow> => client.workflow.getHandle<typeof swarmInjectionWorkflow>(injectionId);

  const describe = (injectionId: string) => describeInjection(client, injectionId);


  return {
    async view(injectionId, page) {
      const description = await describe(injectionId);
      const state = workflowState(description.status.name);
      const base = {
        injectionId,
        workflowStatus: state,
        startedAt: description.startTime.toISOString(),
        closedAt: description.closeTime?.toISOString() ?? null,
      };
      if (state === 'RUNNING') {
        const progress = await withWorker(client, 'progress query', deps.callTimeoutMs, () => handle(injectionId).query(progressQuery, page));
        return {
          ...base,
          status: progress.status,
          done: false,
          wave: progress.wave,
          paused: progress.paused,
          maxParallel: progress.maxParallel,
          failureBudget: progress.failureBudget,
          deadline: progress.deadline,
          msUntilDeadline: progress.msUntilDeadline,
          rollout: progress.rollout,
          counts: progress.counts,
          agents: progress.agents,
        };
      }
      const closedView = {
        ...base,
        done: true,
        wave: 'done' as const,
        paused: false,
        maxParallel: null,
        failureBudget: null,
        deadline: null,
        msUntilDeadline: null,
      };
      // A closed injection still answers its progress query (a worker replays its last run): every row pages there.
      const closedProgress = () => withWorker(client, 'progress query', deps.callTimeoutMs, () => handle(injectionId).query(progressQuery, page));
      if (state === 'COMPLETED') {
        const result = await handle(injectionId).result();
        const total = result.agentsTotal ?? result.agents.length;
        const agents = page.offset + page.limit <= result.agents.length || total <= result.agents.length ? pageOf(result.agents, page, total) : (await closedProgress()).agents;
        return { ...closedView, status: result.status, rollout: result.rollout, counts: result.counts, agents };
      }
      const lastStatus = description.typedSearchAttributes.get(INJECTION_STATUS);
      const status =
        state === 'CANCELLED'
          ? 'cancelled'
          : state === 'TERMINATED'
            ? 'terminated'
            : state === 'TIMED_OUT'
              ? 'timed-out'
              : lastStatus === 'compile-failed' || lastStatus === 'agent-busy'
                ? lastStatus
                : 'failed';
      const error = state === 'FAILED' ? await failureOf(handle(injectionId)) : undefined;
      // A cancelled injection reverted what it changed: its rows say how each agent ended. Without a worker, no rows.
      const progress = state === 'CANCELLED' ? await closedProgress().catch(() => null) : null;
      return {
        ...closedView,
        status,
        rollout: progress?.rollout ?? null,
        counts: progress?.counts ?? null,
        agents: progress?.agents ?? pageOf([], page),
        ...(error ? { error } : {}),
      };
    },

    async agentResult(injectionId, agentId) {
      const child = client.workflow.getHandle(childWorkflowId(injectionId, agentId));
      try {
        const description = await child.describe();
        if (description.status.name !== 'COMPLETED') return null;
        return (await child.result()) as AgentInjectionResult;
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },
  };
}
