// What the routes ask of Temporal, as one interface: commands (injection-commands.ts), visibility and paging
// (injection-visibility.ts), progress views (injection-view.ts). Routes stay thin; each file does one job.
import { createHash } from 'node:crypto';
import type { InjectionService, InjectionServiceDeps } from './injection-api';
import { createInjectionCommands } from './injection-commands';
import { createInjectionViews } from './injection-view';
import { createInjectionVisibility } from './injection-visibility';
import { createPageTokenSealer } from './page-token';
import { WORKFLOW_CALL_TIMEOUT_MS } from './temporal-calls';

export { WORKFLOW_CALL_TIMEOUT_MS } from './temporal-calls';
export type { WorkflowState } from './temporal-calls';
export { MAX_CONCURRENT_WAITS } from './injection-commands';
export type { StartInjectionRequest, StartedInjection, InjectionTarget, SteerGuard, WaitSlot, InjectionView, InjectionSummary, AgentHistoryEntry, InjectionService, InjectionServiceDeps } from './injection-api';

/** A stable, short hash of a request's meaningful fields, for idempotency checks. */
export function requestFingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

export function createInjectionService(deps: InjectionServiceDeps): InjectionService {
  const callTimeoutMs = deps.callTimeoutMs ?? WORKFLOW_CALL_TIMEOUT_MS;
  const commands = createInjectionCommands({ ...deps, callTimeoutMs });
  const views = createInjectionViews({ client: deps.client, callTimeoutMs });
  const visibility = createInjectionVisibility({ client: deps.client, pageTokens: createPageTokenSealer(deps.pageTokenSecret) });
  return {
    start: commands.start,
    busyAgents: commands.busyAgents,
    pause: commands.pause,
    resume: commands.resume,
    abort: commands.abort,
    setMaxParallel: commands.setMaxParallel,
    reserveWait: commands.reserveWait,
    openPolls: commands.openPolls,
    close: commands.close,
    view: views.view,
    agentResult: views.agentResult,
    list: visibility.list,
    agentHistory: visibility.agentHistory,
  };
}
