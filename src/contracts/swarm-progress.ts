// What the swarm injection's progress query answers and what its operator messages carry: the rows, counts, status and
// record of who steered it, and their bounds. Pure types and constants, safe in workflow code. Imports nothing of the app.
import type { RolloutSettings } from './rollout-settings';

export const MAX_PARALLEL_LIMIT = 1_000;
export const PROGRESS_PAGE_LIMIT = 500;
export const ERROR_TEXT_LIMIT_CHARS = 300;

/**
 * Who steered an injection (pause, resume, abort, maxParallel): the gateway fills it from the authenticated principal,
 * never from the request body; a signal sent with the temporal CLI carries none and is recorded as `temporal-cli`.
 */
export interface OperatorAction {
  by: string;
  requestId?: string;
}

/** A page of the progress query's rows. */
export interface ProgressPage {
  offset?: number;
  limit?: number;
}

/** Where one agent stands in this injection. */
export type RowOutcome =
  /** Its lease is held by another injection: it waits (onBusy 'wait'). */
  | 'waiting'
  | 'pending'
  | 'running'
  | 'injected'
  /** Failed before anything on the agent changed. */
  | 'failed'
  | 'rolled-back'
  | 'rollback-failed'
  | 'not-found'
  /** Its own rollback found the agent running another injection's program: nothing was touched. */
  | 'superseded'
  /** Being undone by the swarm-wide rollback. */
  | 'reverting'
  | 'reverted'
  | 'revert-failed'
  /** Injected, then another injection replaced its program before the swarm-wide rollback: nothing was touched. */
  | 'revert-superseded'
  /** Never started: the rollout stopped first. */
  | 'skipped';

/** Where one agent ended up (the rollout core, src/rollout/rollout-core.ts, moves rows between them). */
export type AgentOutcome = RowOutcome;

export interface OutcomeCounts {
  total: number;
  waiting: number;
  pending: number;
  running: number;
  injected: number;
  failedUnchanged: number;
  rolledBack: number;
  rollbackFailed: number;
  notFound: number;
  superseded: number;
  reverting: number;
  reverted: number;
  revertFailed: number;
  revertSuperseded: number;
  skipped: number;
  /** Agents whose own injection failed: failedUnchanged + rolledBack + rollbackFailed + notFound + superseded. */
  failed: number;
}

export type SwarmStatus =
  | 'compiling'
  | 'resolving'
  | 'canary'
  | 'rolling-out'
  | 'waiting-for-agents'
  | 'paused'
  | 'rolling-back'
  | 'succeeded'
  | 'partially-succeeded'
  | 'canary-failed'
  | 'failure-budget-exceeded'
  | 'deadline-exceeded'
  | 'aborted'
  | 'cancelled'
  | 'compile-failed'
  /** onBusy 'refuse' and another injection held some of the agents: nothing changed. */
  | 'agent-busy';


export type Wave = 'compile' | 'resolve' | 'lease' | 'canary' | 'main' | 'rollback' | 'done';

export interface AgentStatusEntry {
  agentId: string;
  outcome: AgentOutcome;
  host: string | null;
  /** Workflow id of the agent's child workflow, where its full result (trace included) lives. */
  childWorkflowId: string | null;
  error?: string;
}

export interface SwarmProgress {
  injectionId: string;
  status: SwarmStatus;
  wave: Wave;
  paused: boolean;
  maxParallel: number;
  counts: OutcomeCounts;
  failureBudget: number;
  deadline: string | null;
  msUntilDeadline: number | null;
  run: number;
  rollout: RolloutSettings | null;
  agents: { offset: number; limit: number; total: number; items: AgentStatusEntry[] };
  /** Agents waiting for another injection's lease, and who holds them (at most 50). */
  waitingFor?: { agentId: string; holder: string }[];
  /** Who steered it, newest last (at most 50). */
  actions?: RecordedAction[];
}

export interface RecordedAction {
  at: string;
  action: 'pause' | 'resume' | 'abort' | 'cancel' | 'set-max-parallel';
  by: string;
  requestId?: string;
  detail?: string;
}
