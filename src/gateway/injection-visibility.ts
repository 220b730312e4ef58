// Visibility and paging: GET /injections (by status, by agent) and GET /history/:agentId, from Temporal's visibility
// store through its public service API, with page tokens sealed to their list (page-token.ts).
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { AgentInjectionResult } from '../shared/injection-types';
import { AGENT_ID, INJECTION_ID, INJECTION_STATUS } from '../shared/search-attributes';
import type { AgentHistoryEntry, InjectionService, InjectionSummary } from './injection-api';
import { badPageToken, PageTokenSealer } from './page-token';
import { AGENT_WORKFLOW_TYPE, isInvalidArgument, SWARM_WORKFLOW_TYPE, WorkflowState, workflowStateOfEnum } from './temporal-calls';

type RawExecution = temporal.api.workflow.v1.IWorkflowExecutionInfo;

/** What the routes read of a listed execution. */
interface ListedExecution {
  workflowId: string;
  state: WorkflowState;
  startTime: Date;
  closeTime: Date | null;
  injectionId: string | null;
  injectionStatus: string | null;
}

interface VisibilityPage {
  executions: ListedExecution[];
  nextPageToken: string | null;
}

export type InjectionVisibility = Pick<InjectionService, 'list' | 'agentHistory'>;

/** Double quotes and backslashes escaped for a visibility query string literal (ids are pattern-checked already). */
function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function dateOf(ts: temporal.api.workflow.v1.IWorkflowExecutionInfo['startTime']): Date | null {
  if (!ts || ts.seconds === null || ts.seconds === undefined) return null;
  return new Date(Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6));
}

/** A Keyword search attribute of a listed execution (a JSON string payload; older servers wrap it in a list). */
function keyword(raw: RawExecution, name: string): string | null {
  const payload = raw.searchAttributes?.indexedFields?.[name];
  if (!payload) return null;
  try {
    const value: unknown = defaultPayloadConverter.fromPayload(payload);
    const first = Array.isArray(value) ? (value[0] as unknown) : value;
    return typeof first === 'string' ? first : null;
  } catch {
    return null;
  }
}

function listed(raw: RawExecution): ListedExecution {
  return {
    workflowId: raw.execution?.workflowId ?? '',
    state: workflowStateOfEnum(raw.status),
    startTime: dateOf(raw.startTime) ?? new Date(0),
    closeTime: dateOf(raw.closeTime),
    injectionId: keyword(raw, INJECTION_ID.name),
    injectionStatus: keyword(raw, INJECTION_STATUS.name),
  };
}

export function createInjectionVisibility(deps: { client: Client; pageTokens: PageTokenSealer }): InjectionVisibility {
  const { client, pageTokens } = deps;

  /**
   * One page of a visibility query. Temporal's page token goes to the caller sealed to this query and page size and is
   * checked on the way back, so an altered token, or one from another list, is a 400 naming `pageToken`.
   */
  async function listPage(query: string, pageSize: number, pageToken?: string): Promise<VisibilityPage> {
    const inner = pageToken === undefined ? undefined : pageTokens.open(pageToken, query, pageSize);
    let response: Awaited<ReturnType<Client['workflowService']['listWorkflowExecutions']>>;
    try {
      response = await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query, pageSize, nextPageToken: inner });
    } catch (err) {
      if (inner !== undefined && isInvalidArgument(err)) throw badPageToken('Temporal no longer accepts it');
      throw err;
    }
    const next = response.nextPageToken;
    return { executions: (response.executions ?? []).map(listed), nextPageToken: next && next.length > 0 ? pageTokens.seal(Buffer.from(next), query, pageSize) : null };
  }

  return {
    async list(filter) {
      const clauses = [`WorkflowType = ${quoted(SWARM_WORKFLOW_TYPE)}`, `ExecutionStatus != "ContinuedAsNew"`];
      if (filter.status) clauses.push(`${INJECTION_STATUS.name} = ${quoted(filter.status)}`);
      let page: VisibilityPage;
      if (filter.agentId) {
        // An agent is in an injection when a child carries its AgentId; the child's InjectionId names the injection.
        // The pages walk the children, so a page holds at most `limit` injections, fewer when the status filter drops some.
        const childQuery = `WorkflowType = ${quoted(AGENT_WORKFLOW_TYPE)} AND ${AGENT_ID.name} = ${quoted(filter.agentId)}`;
        const children = await listPage(childQuery, filter.limit, filter.pageToken);
        const parents = [...new Set(children.executions.flatMap((c) => c.injectionId ?? []))];
        if (parents.length === 0) return { items: [], nextPageToken: children.nextPageToken };
        clauses.push(`${INJECTION_ID.name} IN (${parents.map(quoted).join(', ')})`);
        page = { executions: (await listPage(clauses.join(' AND '), parents.length)).executions, nextPageToken: children.nextPageToken };
      } else {
        page = await listPage(clauses.join(' AND '), filter.limit, filter.pageToken);
      }
      const items = page.executions.map(
        (execution): InjectionSummary => ({
          injectionId: execution.workflowId,
          workflowStatus: execution.state,
          status: execution.injectionStatus,
          startedAt: execution.startTime.toISOString(),
          closedAt: execution.closeTime?.toISOString() ?? null,
        }),
      );
      return { items, nextPageToken: page.nextPageToken };
    },

    async agentHistory(agentId, limit, pageToken) {
      // Visibility lists running executions first, then by close time, newest first (the dev server's SQLite store takes
      // no ORDER BY); each page is then sorted by start time so the newest injection leads.
      const query = `WorkflowType = ${quoted(AGENT_WORKFLOW_TYPE)} AND ${AGENT_ID.name} = ${quoted(agentId)}`;
      const { executions, nextPageToken } = await listPage(query, limit, pageToken);
      executions.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
      const [total, entries] = await Promise.all([
        client.workflow.count(query).then((c) => c.count),
        Promise.all(
          executions.map(async (execution): Promise<AgentHistoryEntry> => {
            const injectionId = execution.injectionId ?? execution.workflowId.slice(0, execution.workflowId.lastIndexOf('/'));
            const result = execution.state === 'COMPLETED' ? ((await client.workflow.getHandle(execution.workflowId).result()) as AgentInjectionResult) : null;
            return {
              injectionId,
              workflowId: execution.workflowId,
              workflowStatus: execution.state,
              outcome: result?.outcome ?? (execution.state === 'RUNNING' ? 'running' : 'unknown'),
              startedAt: result?.startedAt ?? execution.startTime.toISOString(),
              closedAt: result?.finishedAt ?? execution.closeTime?.toISOString() ?? null,
              programId: result?.programId ?? null,
              previousProgramId: result?.previousProgramId ?? null,
              error: result?.error ?? null,
              rollbackError: result?.rollbackError ?? null,
              timings: result?.timings ?? [],
              trace: result?.trace ?? null,
              rollbackTrace: result?.rollbackTrace ?? null,
            };
          }),
        ),
      ]);
      return { total, entries, nextPageToken };
    },
  };
}
