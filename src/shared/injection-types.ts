// The data that crosses workflow, activity, gateway and CLI boundaries. Pure types and constants: safe in workflow code.
import type { Diagnostic } from '../compiler';
import type { AgentOutcome, AgentStatusEntry, OutcomeCounts, SwarmStatus } from '../contracts/swarm-progress';
import type { RolloutSettings } from '../contracts/rollout-settings';
import { TERMINAL_ROW_OUTCOMES } from '../rollout/rollout-core';

export { AGENT_ID_PATTERN, GROUP_PATTERN, INJECTION_ID_PATTERN } from '../contracts/ids';
// The progress query's answer and the operator messages' arguments live in the contracts; re-exported for importers.
export type { AgentOutcome, AgentStatusEntry, OperatorAction, OutcomeCounts, RecordedAction, SwarmProgress, SwarmStatus, Wave } from '../contracts/swarm-progress';
/**
 * Agents in one injection. Bounded by the size of the swarm's result and continue-as-new input, which carry one row
 * per agent: about 1.5 MB at 10,000 agents, under Temporal's 2 MB payload limit (the SDK warns from 512 KiB).
 */
export const MAX_TARGET_AGENTS = 10_000;
export const MAX_CONTEXT_JSON_BYTES = 16 * 1024;

export type Priority = 'low' | 'medium' | 'high' | 'critical';
export const PRIORITIES: readonly Priority[] = ['low', 'medium', 'high', 'critical'];

/** Temporal priority keys: 1 is served first. */
export const PRIORITY_KEY: Readonly<Record<Priority, number>> = { critical: 1, high: 2, medium: 3, low: 4 };


export type TargetSelector = { agentIds: string[] } | { group: string } | null;

export interface SwarmInjectionInput {
  injectionId: string;
  source: string;
  context: Record<string, unknown>;
  /** Explicit agents, a group, or null for the program's TARGET. */
  targets: TargetSelector;
  priority: Priority;
  requestedBy: string;
  /** Base task queue name; Docker host queues derive from it. */
  taskQueue: string;
  /** Docker hosts whose agents can be targeted; each has its own activity queue. */
  dockerHosts: string[];
  /**
   * When another injection holds some of the agents: 'wait' (default) queues for them, and the status names who holds
   * them; 'refuse' fails the injection at once with AGENT_BUSY, before anything changes.
   */
  onBusy?: OnBusy;
  /** Test and benchmark knobs: continue as new sooner than CONTINUE_AS_NEW_AFTER_EVENTS (at least 200). */
  limits?: { continueAsNewAfterEvents?: number };
}

export type OnBusy = 'wait' | 'refuse';
export const ON_BUSY_CHOICES: readonly OnBusy[] = ['wait', 'refuse'];

/** The outcomes an agent ends in: the rollout core's own list. */
export const TERMINAL_OUTCOMES: readonly AgentOutcome[] = [...TERMINAL_ROW_OUTCOMES];

export const FINAL_SWARM_STATUSES: readonly SwarmStatus[] = [
  'succeeded',
  'partially-succeeded',
  'canary-failed',
  'failure-budget-exceeded',
  'deadline-exceeded',
  'aborted',
  'cancelled',
  'compile-failed',
  'agent-busy',
];


export interface TraceSummary {
  lines: TraceLineRecord[];
  final: TraceLineRecord | null;
  /** True when lines were dropped to keep the result under MAX_TRACE_LINES_IN_RESULT / MAX_TRACE_BYTES_IN_RESULT. */
  truncated: boolean;
  /** Protocol v2 (absent for v1, whose snapshot says it): what the reload replaced, as the agent answered. */
  replaced?: AgentProgramRef | null;
  /** Protocol v2: whether the reload changed what the agent runs (false: refused, or a restore with nothing to do). */
  switched?: boolean;
  /** Protocol v2: what the agent runs after the reload, from the same answer. */
  current?: (AgentProgramRef & { sequence: number | null }) | null;
  /** Protocol v2, a restore's answer: what the agent found. */
  restore?: 'restored' | 'nothing-to-undo' | 'superseded' | 'no-record';
}

/** A program as an agent names it: its id, the reload that put it there, its body's sha256. */
export interface AgentProgramRef {
  programId: string | null;
  reloadId: string | null;
  sha256: string | null;
}

/** One trace line as the agent wrote it (docs/agent-protocol.md), kept as parsed JSON. */
export type TraceLineRecord = Record<string, unknown>;

/** Rows in a swarm's result; the rest are read page by page. */
export const RESULT_AGENT_ROWS = 500;
export const MAX_TRACE_LINES_IN_RESULT = 200;
export const MAX_TRACE_BYTES_IN_RESULT = 32 * 1024;

export interface StepTiming {
  step: 'resolve' | 'snapshot' | 'inject' | 'reload' | 'trace' | 'verify' | 'rollback';
  ms: number;
}

export interface AgentInjectionResult {
  injectionId: string;
  agentId: string;
  outcome: 'injected' | 'failed' | 'rolled-back' | 'rollback-failed' | 'not-found' | 'superseded';
  /** For 'superseded': the reload (injection) whose program the agent runs now. */
  supersededBy?: string | null;
  /** Why it failed (absent when injected). */
  error?: { code: string; message: string };
  rollbackError?: { code: string; message: string };
  programId: string;
  previousProgramId: string | null;
  trace: TraceSummary | null;
  rollbackTrace: TraceSummary | null;
  startedAt: string;
  finishedAt: string;
  timings: StepTiming[];
}

/** Where an injection's program is held (programs by reference): the holder workflow id, and the bytes' identity. */
export interface ProgramRef {
  holderWorkflowId: string;
  sha256: string;
  programId: string;
  bytes: number;
}

export interface AgentInjectionInput {
  injectionId: string;
  agentId: string;
  dockerTaskQueue: string;
  /** Children started by builds before programs by reference carry the bytes; newer ones carry `program`. */
  bytecodeBase64?: string;
  program?: ProgramRef;
  programId: string;
  sha256: string;
  traceTimeoutMs: number;
  retries: number;
  /**
   * The version of the child's steps its parent asked for (AGENT_STEPS_VERSION in workflows/agent-injection.ts). A
   * child that carries it runs those steps without asking `patched()`, so its history holds no patch marker and no
   * `TemporalChangeVersion` upsert. Children started before it was introduced carry none and decide by `patched()`.
   */
  stepsVersion?: number;
}

export interface AgentRollbackInput {
  injectionId: string;
  agentId: string;
  dockerTaskQueue: string;
  traceTimeoutMs: number;
  retries: number;
}

export interface AgentRollbackResult {
  agentId: string;
  outcome: 'rolled-back' | 'rollback-failed' | 'superseded';
  supersededBy?: string | null;
  error?: { code: string; message: string };
  trace: TraceSummary | null;
}





export interface SwarmInjectionResult {
  injectionId: string;
  status: SwarmStatus;
  counts: OutcomeCounts;
  deadlineExceeded: boolean;
  rollout: RolloutSettings | null;
  diagnostics: Diagnostic[];
  /**
   * Per-agent outcomes: the first RESULT_AGENT_ROWS only, so the result stays small at 10,000 agents; every row pages
   * through the progress query (which also answers on a closed injection). Full results are in each child workflow.
   */
  agents: AgentStatusEntry[];
  agentsTotal?: number;
  runs: number;
  historyEventsPerRun: number[];
  startedAt: string;
  finishedAt: string;
}

export function childWorkflowId(injectionId: string, agentId: string): string {
  return `${injectionId}/${agentId}`;
}

export function rollbackWorkflowId(injectionId: string, agentId: string): string {
  return `${injectionId}/${agentId}/rollback`;
}

/** Reload ids the agent sees (docs/agent-protocol.md): the injection id, and `<id>.rollback` for its undo. */
export function forwardReloadId(injectionId: string): string {
  return injectionId;
}
export function rollbackReloadId(injectionId: string): string {
  return `${injectionId}.rollback`;
}
