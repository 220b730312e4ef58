// The injection service's interface and the shapes it answers with: what the routes and the CLI see. Types only, so
// the service (injection-service.ts) and the parts it is made of (commands, views, visibility) all import them here.
import type { Client } from '@temporalio/client';
import type { RolloutSettings } from '../compiler';
import type { Logger } from '../shared/logger';
import type {
  AgentInjectionResult,
  AgentStatusEntry,
  OperatorAction,
  OutcomeCounts,
  StepTiming,
  SwarmInjectionInput,
  SwarmStatus,
  TraceSummary,
  Wave,
} from '../shared/injection-types';
import type { GatewayMetrics } from './metrics';
import type { WorkflowState } from './temporal-calls';

/** What a caller asks for: the swarm input minus what the gateway's own config supplies. */
export interface StartInjectionRequest extends Omit<SwarmInjectionInput, 'taskQueue' | 'dockerHosts'> {
  /** Hash of the request that chose this id; a repeat with another request under the same id is refused. */
  fingerprint: string;
  /** The request id of the start, recorded beside `requestedBy`. */
  requestId: string;
  /** The one group the injection targets (the request's group or the program's TARGET); null for explicit agents. */
  targetGroup: string | null;
}

export interface StartedInjection {
  injectionId: string;
  /** False when an injection with this id already existed (an idempotent repeat). */
  created: boolean;
}

/** What steering learns of an injection before it signals: the group it targets, as recorded at its start. */
export interface InjectionTarget {
  group: string | null;
}
/** Throws (403) when the caller may not steer an injection with this target. */
export type SteerGuard = (target: InjectionTarget) => void;

/** A reserved `?wait=true` slot: wait on one injection, then release it. */
export interface WaitSlot {
  /** True once the injection has closed, false if it is still running after `timeoutMs` (its result poll is then cancelled). */
  untilClosed(injectionId: string, timeoutMs: number): Promise<boolean>;
  release(): void;
}

/** One injection as the API shows it: the workflow's own progress while it runs, its result or failure once closed. */
export interface InjectionView {
  injectionId: string;
  workflowStatus: WorkflowState;
  status: SwarmStatus | 'failed' | 'terminated' | 'timed-out';
  done: boolean;
  startedAt: string;
  closedAt: string | null;
  wave: Wave | null;
  paused: boolean;
  maxParallel: number | null;
  failureBudget: number | null;
  deadline: string | null;
  msUntilDeadline: number | null;
  rollout: RolloutSettings | null;
  counts: OutcomeCounts | null;
  agents: { offset: number; limit: number; total: number; items: AgentStatusEntry[] };
  error?: { code: string; message: string; details?: unknown };
}

export interface InjectionSummary {
  injectionId: string;
  workflowStatus: WorkflowState;
  status: string | null;
  startedAt: string;
  closedAt: string | null;
}

export interface AgentHistoryEntry {
  injectionId: string;
  workflowId: string;
  workflowStatus: WorkflowState;
  outcome: AgentInjectionResult['outcome'] | 'running' | 'unknown';
  startedAt: string;
  closedAt: string | null;
  programId: string | null;
  previousProgramId: string | null;
  error: { code: string; message: string } | null;
  rollbackError: { code: string; message: string } | null;
  timings: StepTiming[];
  trace: TraceSummary | null;
  rollbackTrace: TraceSummary | null;
}

export interface InjectionService {
  start(request: StartInjectionRequest): Promise<StartedInjection>;
  /** For onBusy 'refuse': the agents another injection held, once the injection failed for them; null once admitted. */
  busyAgents(injectionId: string, timeoutMs?: number): Promise<{ agentId: string; holder: string }[] | null>;
  view(injectionId: string, page: { offset: number; limit: number }): Promise<InjectionView>;
  /** A `?wait=true` slot, or 503 TOO_MANY_WAITS when MAX_CONCURRENT_WAITS requests already wait. */
  reserveWait(): WaitSlot;
  /** Result polls open right now (`?wait=true` waits in progress): each ends when its wait does. */
  openPolls(): number;
  agentResult(injectionId: string, agentId: string): Promise<AgentInjectionResult | null>;
  pause(injectionId: string, action: OperatorAction, guard: SteerGuard): Promise<void>;
  resume(injectionId: string, action: OperatorAction, guard: SteerGuard): Promise<void>;
  /** `reason` is the caller's text, recorded beside `action.by` (who aborted), never instead of it. */
  abort(injectionId: string, reason: string | undefined, action: OperatorAction, guard: SteerGuard): Promise<void>;
  setMaxParallel(injectionId: string, maxParallel: number, action: OperatorAction, guard: SteerGuard): Promise<number>;
  /** One page of injections; pass the returned nextPageToken back for the next (null: this was the last page). */
  list(filter: { status?: string; agentId?: string; limit: number; pageToken?: string }): Promise<{ items: InjectionSummary[]; nextPageToken: string | null }>;
  agentHistory(agentId: string, limit: number, pageToken?: string): Promise<{ total: number; entries: AgentHistoryEntry[]; nextPageToken: string | null }>;
  /**
   * Ends every long poll this service holds open (`?wait=true` waits) and resolves once they have settled: call before
   * closing the Temporal connection, whose retry timers otherwise fire on a closed channel.
   */
  close(): Promise<void>;
}

export interface InjectionServiceDeps {
  client: Client;
  /** Base task queue; the workflows derive the Docker host queues from it. */
  taskQueue: string;
  dockerHosts: string[];
  metrics: GatewayMetrics;
  logger: Logger;
  callTimeoutMs?: number;
  /** Key of the page tokens' MAC; a random one per process when absent. */
  pageTokenSecret?: Buffer;
  /** Bound of concurrent `?wait=true` waits (default MAX_CONCURRENT_WAITS). */
  maxConcurrentWaits?: number;
}
